# Reference values from R's `survey` package for digifit's peer tests (tests/peers/test_against_r.py).
#
# Usage: Rscript tests/peers/make_reference.R OUTDIR
#
# Writes into OUTDIR:
#   apisrs.csv apistrat.csv apiclus1.csv apiclus2.csv   the `api` data sets (R column names, NA as "")
#   apilonely.csv                                         apiclus1 with one PSU left in stratum H (see below)
#   reference.json                                        designs, cases and R's numbers (17 significant digits)
#
# Needs only base R and `survey` (Debian r-base-core, r-cran-survey): the JSON is written by hand so that
# `make test` does not need jsonlite. Every number is formatted with sprintf("%.17g"); NA/NaN/Inf become null.
#
# Conventions (see docs/r-survey-notes.md, section 10): a domain is `design[rows in domain, ]`, exactly what
# svyby() passes to its FUN; `df` is degf() of that domain design before na.rm drops rows (svyciprop's
# df = degf(design); svyquantile subsets first, so there the non-missing rows); `n` is the non-missing rows; t intervals use that df; "wald" is the normal interval (confint(..., df = Inf)).

args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 1) stop("usage: Rscript make_reference.R OUTDIR")
outdir <- args[1]
dir.create(outdir, showWarnings = FALSE, recursive = TRUE)

suppressPackageStartupMessages(library(survey))
data(api)

# ---------------------------------------------------------------------------------------------------------
# Data sets. apilonely: apiclus1 keeping every E and M school but the H schools of district 716 only, so the
# stratified cluster design ids=~dnum, strata=~stype (nest=TRUE) has strata E (15 PSUs), M (12 PSUs) and
# H (1 PSU: district 716, 3 schools).
apilonely <- subset(apiclus1, stype != "H" | dnum == 716)
datasets <- list(apisrs = apisrs, apistrat = apistrat, apiclus1 = apiclus1, apiclus2 = apiclus2,
                 apilonely = apilonely)
for (nm in names(datasets)) {
  write.csv(datasets[[nm]], file.path(outdir, paste0(nm, ".csv")), row.names = FALSE, na = "")
}

# ---------------------------------------------------------------------------------------------------------
# Designs: the R call and the digifit arguments that must reproduce it.
designs <- list(
  srs = list(data = "apisrs", ids = NULL, strata = NULL, weights = NULL, fpc = "fpc", lonely = "fail",
             call = "svydesign(ids=~1, fpc=~fpc, data=apisrs)"),
  srs_nofpc = list(data = "apisrs", ids = NULL, strata = NULL, weights = "pw", fpc = NULL, lonely = "fail",
                   call = "svydesign(ids=~1, weights=~pw, data=apisrs)"),
  strat = list(data = "apistrat", ids = NULL, strata = "stype", weights = "pw", fpc = "fpc", lonely = "fail",
               call = "svydesign(ids=~1, strata=~stype, weights=~pw, fpc=~fpc, data=apistrat)"),
  strat_nofpc = list(data = "apistrat", ids = NULL, strata = "stype", weights = "pw", fpc = NULL,
                     lonely = "fail", call = "svydesign(ids=~1, strata=~stype, weights=~pw, data=apistrat)"),
  clus1 = list(data = "apiclus1", ids = "dnum", strata = NULL, weights = "pw", fpc = "fpc", lonely = "fail",
               call = "svydesign(ids=~dnum, weights=~pw, fpc=~fpc, data=apiclus1)"),
  clus1_nofpc = list(data = "apiclus1", ids = "dnum", strata = NULL, weights = "pw", fpc = NULL,
                     lonely = "fail", call = "svydesign(ids=~dnum, weights=~pw, data=apiclus1)"),
  clus2 = list(data = "apiclus2", ids = c("dnum", "snum"), strata = NULL, weights = NULL,
               fpc = c("fpc1", "fpc2"), lonely = "fail",
               call = "svydesign(ids=~dnum+snum, fpc=~fpc1+fpc2, data=apiclus2)"),
  clus2_w = list(data = "apiclus2", ids = c("dnum", "snum"), strata = NULL, weights = "pw", fpc = NULL,
                 lonely = "fail", call = "svydesign(ids=~dnum+snum, weights=~pw, data=apiclus2)")
)
for (pol in c("remove", "certainty", "adjust", "average")) {
  designs[[paste0("lonely_", pol)]] <- list(
    data = "apilonely", ids = "dnum", strata = "stype", weights = "pw", fpc = NULL, lonely = pol,
    call = sprintf("options(survey.lonely.psu=\"%s\"); svydesign(ids=~dnum, strata=~stype, weights=~pw, data=apilonely, nest=TRUE)", pol))
}

fml <- function(vars) if (is.null(vars)) ~1 else as.formula(paste("~", paste(vars, collapse = "+")))

build_design <- function(spec) {
  dat <- datasets[[spec$data]]
  args <- list(ids = fml(spec$ids), data = dat)
  if (!is.null(spec$strata)) args$strata <- fml(spec$strata)
  if (!is.null(spec$weights)) args$weights <- fml(spec$weights)
  if (!is.null(spec$fpc)) args$fpc <- fml(spec$fpc)
  if (!is.null(spec$strata) && !is.null(spec$ids)) args$nest <- TRUE
  do.call(svydesign, args)
}

# ---------------------------------------------------------------------------------------------------------
# Row builders. Each returns a list of rows: level, domain, estimate, se, ci_low, ci_high, df, n, deff.

crit <- function(level, ci_method, df) {
  a <- (1 - level) / 2
  if (ci_method == "wald") qnorm(1 - a) else qt(1 - a, df)
}

mkrow <- function(level, est, se, ci, df, n, deff) {
  list(level = level, estimate = unname(est), se = unname(se), ci_low = unname(ci[1]), ci_high = unname(ci[2]),
       df = df, n = n, deff = if (is.null(deff)) NA else unname(deff))
}

# Confidence interval from R's own confint(): normal for "wald", t on df otherwise.
r_confint <- function(obj, ci_method, level, df) {
  ci <- confint(obj, level = level, df = if (ci_method == "wald") Inf else df)
  matrix(ci, ncol = 2)
}

rows_meantotal <- function(d, stat, var, ci_method, level) {
  keep <- !is.na(d$variables[[var]])
  de <- d[keep, ]
  f <- fml(var)
  obj <- if (stat == "mean") svymean(f, de, deff = TRUE) else svytotal(f, de, deff = TRUE)
  df <- degf(d)  # of the design passed, before na.rm drops rows (as svyciprop's df = degf(design))
  ci <- r_confint(obj, ci_method, level, df)
  list(mkrow(NA, coef(obj), SE(obj), ci[1, ], df, nrow(de), deff(obj)))
}

rows_proportion <- function(d, var, ci_method, level) {
  obj <- svymean(fml(var), d, deff = TRUE)
  df <- degf(d)
  ci <- r_confint(obj, ci_method, level, df)
  x <- d$variables[[var]]
  levs <- if (is.factor(x)) levels(x) else sort(unique(x))  # svymean's columns: every level of the factor
  rows <- list()
  for (k in seq_along(levs)) {
    if (sum(x == levs[k]) == 0) next  # a level absent from the domain gets no row
    nm <- paste0(var, levs[k])
    stopifnot(names(coef(obj))[k] == nm)
    rows[[length(rows) + 1]] <- mkrow(levs[k], coef(obj)[nm], SE(obj)[nm], ci[k, ], df, nrow(d), deff(obj)[k])
  }
  rows
}

rows_ratio <- function(d, num, den, ci_method, level) {
  keep <- !is.na(d$variables[[num]]) & !is.na(d$variables[[den]])
  de <- d[keep, ]
  obj <- svyratio(fml(num), fml(den), de, deff = TRUE)
  df <- degf(d)
  ci <- r_confint(obj, ci_method, level, df)
  list(mkrow(NA, coef(obj), SE(obj), ci[1, ], df, nrow(de), attr(obj, "deff")[1, 1]))
}

# R's qrule_math (survey:::qs) with one change: a CDF within 1e-12 (relative) of p counts as equal to p.
# R decides `cumsum(w) <= p * sum(w)` and `p - cumw/sum(w) == 0` in exact floating point, so with equal
# weights a CDF step that is exactly p in real arithmetic may land on either side (apisrs, p = 0.9: R returns
# the 181st value, 827, instead of the 180th, 818). digifit sums in the engine in another order and uses this
# tolerance; the reference rows hold this rule's numbers and, where they differ, R's own as
# r_estimate/r_se/r_ci_low/r_ci_high. R's other quirk is kept: when even the smallest value's CDF exceeds p,
# `last()` returns 1 and the rule returns the *second* value.
qrule_math_tol <- function(x, w, p) {
  if (any(zero <- w == 0)) {
    w <- w[!zero]
    x <- x[!zero]
  }
  ii <- order(x)
  x <- x[ii]
  cdf <- cumsum(w[ii]) / sum(w)
  below <- which(cdf <= p * (1 + 1e-12))
  pos <- if (length(below)) max(below) else 1
  if (abs(cdf[pos] - p) <= 1e-12 * p) x[pos] else x[min(pos + 1, length(x))]
}

rows_quantile <- function(d, var, probs) {
  keep <- !is.na(d$variables[[var]])
  de <- d[keep, ]
  q <- svyquantile(fml(var), de, probs, ci = TRUE)[[1]]               # R's defaults: qrule "math", "mean"
  qt <- svyquantile(fml(var), de, probs, ci = TRUE, qrule = qrule_math_tol)[[1]]
  rows <- list()
  for (k in seq_along(probs)) {
    row <- mkrow(probs[k], qt[k, 1], qt[k, 4], qt[k, 2:3], degf(de), nrow(de), NULL)
    if (!identical(unname(q[k, ]), unname(qt[k, ]))) {
      row <- c(row, list(r_estimate = q[k, 1], r_se = q[k, 4], r_ci_low = q[k, 2], r_ci_high = q[k, 3]))
    }
    rows[[k]] <- row
  }
  rows
}

# Exact solution of the interval svyciprop(method = "likelihood") approximates with a spline:
# {p : 2 (n - 1) KL(phat || p) <= t^2 n SE^2 / (phat (1 - phat))}, see docs/r-survey-notes.md section 6.
likelihood_exact <- function(phat, se, n, df, level) {
  t <- qt(1 - (1 - level) / 2, df)
  rhs <- t^2 * n * se^2 / (phat * (1 - phat))
  g <- function(p) 2 * (n - 1) * (phat * log(phat / p) + (1 - phat) * log((1 - phat) / (1 - p))) - rhs
  lo <- if (phat <= 0) 0 else uniroot(g, c(1e-300, phat), tol = 1e-15)$root
  hi <- if (phat >= 1) 1 else uniroot(g, c(phat, 1 - 1e-16), tol = 1e-15)$root
  c(lo, hi)
}

# Proportion of each level of sch.wide with a svyciprop() method or digifit's Wilson interval.
rows_ciprop <- function(d, method, level) {
  df <- degf(d)
  rows <- list()
  for (lev in c("No", "Yes")) {
    if (sum(d$variables$sch.wide == lev) == 0) next
    d$variables$.ind <- as.numeric(d$variables$sch.wide == lev)
    m <- svymean(~.ind, d, deff = TRUE)
    p <- unname(coef(m)); se <- unname(SE(m))
    extra <- list()
    if (method == "wilson") {
      z <- qnorm(1 - (1 - level) / 2)
      neff <- p * (1 - p) / se^2
      den <- 1 + z^2 / neff
      centre <- (p + z^2 / (2 * neff)) / den
      half <- z / den * sqrt(p * (1 - p) / neff + z^2 / (4 * neff^2))
      ci <- c(centre - half, centre + half)
      est <- p
    } else {
      cp <- svyciprop(~.ind, d, method = method, level = level)  # = svyciprop(~I(sch.wide == lev), ...)
      ci <- as.vector(attr(cp, "ci"))
      # logit and likelihood report expit(coef(svyglm)), which carries glm's convergence error (up to ~5e-9
      # relative here); the estimate is the exact weighted mean p and R's value is kept as r_estimate.
      est <- p
      if (method %in% c("logit", "likelihood")) extra$r_estimate <- unname(coef(cp))
      if (method == "likelihood") {
        exact <- likelihood_exact(p, se, nrow(d), df, level)
        g <- svyglm(.ind ~ 1, d, family = quasibinomial)
        extra <- c(extra, list(exact_ci_low = exact[1], exact_ci_high = exact[2],
                               r_lambda = unname(diag(g$cov.unscaled) / diag(g$naive.cov)),
                               r_naive_var = unname(diag(g$naive.cov)), r_glm_iter = g$iter))
      }
    }
    row <- mkrow(lev, est, se, ci, df, nrow(d), deff(m))
    rows[[length(rows) + 1]] <- c(row, extra)
  }
  rows
}

compute_rows <- function(d, case) {
  switch(case$kind,
    mean = rows_meantotal(d, "mean", case$variable, case$ci_method, case$level),
    total = rows_meantotal(d, "total", case$variable, case$ci_method, case$level),
    proportion = rows_proportion(d, case$variable, case$ci_method, case$level),
    ratio = rows_ratio(d, case$numerator, case$denominator, case$ci_method, case$level),
    quantile = rows_quantile(d, case$variable, case$probs),
    ciprop = rows_ciprop(d, case$ci_method, case$level))
}

# svyby's domains: the levels of interaction(by) present, in the order of that factor (first variable fastest).
domain_rows <- function(d, case) {
  if (length(case$by) == 0) {
    rows <- compute_rows(d, case)
    return(lapply(rows, function(r) c(r, list(domain = structure(list(), names = character(0))))))
  }
  byvals <- lapply(case$by, function(v) as.character(d$variables[[v]]))
  key <- interaction(lapply(case$by, function(v) d$variables[[v]]), drop = TRUE)
  out <- list()
  for (lev in levels(key)) {
    idx <- key == lev
    sub <- d[idx, ]
    first <- which(idx)[1]
    dom <- lapply(seq_along(case$by), function(j) byvals[[j]][first])
    names(dom) <- case$by
    for (r in compute_rows(sub, case)) out[[length(out) + 1]] <- c(r, list(domain = dom))
  }
  out
}

# ---------------------------------------------------------------------------------------------------------
# Cases.
cases <- list()
add_case <- function(design, kind, ci_method = "wald", variable = NULL, by = character(0), level = 0.95,
                     numerator = NULL, denominator = NULL, probs = NULL) {
  statistic <- switch(kind, ciprop = "proportion", kind)
  var_label <- if (kind == "ratio") paste0(numerator, "/", denominator) else if (kind == "ciprop") "sch.wide" else variable
  id <- paste(c(design, statistic, var_label, if (length(by)) paste0("by_", paste(by, collapse = "+")),
                ci_method, if (level != 0.95) paste0("level", level)), collapse = "/")
  cases[[length(cases) + 1]] <<- list(
    id = id, design = design, kind = kind, statistic = statistic, variable = if (kind == "ciprop") "sch.wide" else variable,
    numerator = numerator, denominator = denominator, by = by, ci_method = ci_method, level = level, probs = probs)
}

for (dn in names(designs)) {
  lonely <- startsWith(dn, "lonely_")
  dat <- datasets[[designs[[dn]]$data]]
  by1 <- if (lonely) "sch.wide" else "stype"
  add_case(dn, "mean", "wald", "api00")
  add_case(dn, "mean", "t", "api00")
  add_case(dn, "mean", "wald", "enroll")
  add_case(dn, "total", "wald", "enroll")
  add_case(dn, "total", "t", "enroll")
  add_case(dn, "mean", "wald", "acs.k3")          # has NA in every api data set: the na_rm case
  add_case(dn, "total", "t", "acs.k3")
  add_case(dn, "proportion", "wald", "stype")
  add_case(dn, "proportion", "t", "sch.wide")
  add_case(dn, "ratio", "wald", numerator = "api00", denominator = "api99")
  add_case(dn, "ratio", "t", numerator = "api00", denominator = "api99")
  add_case(dn, "quantile", "t", "api00", probs = c(0.25, 0.5, 0.9))
  add_case(dn, "mean", "wald", "api00", by = by1)
  add_case(dn, "mean", "t", "api00", by = by1)
  add_case(dn, "mean", "wald", "api00", by = c("stype", "sch.wide"))
  add_case(dn, "total", "wald", "enroll", by = by1)
  add_case(dn, "ratio", "t", numerator = "api00", denominator = "api99", by = by1)
  add_case(dn, "proportion", "wald", if (lonely) "stype" else "sch.wide", by = by1)
  add_case(dn, "quantile", "t", "api00", by = by1, probs = c(0.5))
  for (m in c("logit", "likelihood", "asin", "beta", "mean", "xlogit", "wilson")) {
    add_case(dn, "ciprop", m)
    if (!lonely) add_case(dn, "ciprop", m, by = "stype")
  }
  if (dn %in% c("srs", "clus1", "clus2")) {
    add_case(dn, "mean", "t", "api00", level = 0.9)
    add_case(dn, "ciprop", "logit", level = 0.9)
    add_case(dn, "ciprop", "beta", level = 0.9)
  }
}

# ---------------------------------------------------------------------------------------------------------
# Cross-checks: the domain loop must be what svyby() computes.
options(survey.lonely.psu = "fail")
check_svyby <- function(d) {
  s <- svyby(~api00, ~stype, d, svymean, deff = TRUE)
  mine <- sapply(levels(factor(d$variables$stype)), function(l) {
    m <- svymean(~api00, d[d$variables$stype == l, ], deff = TRUE); c(coef(m), SE(m), deff(m))
  })
  stopifnot(isTRUE(all.equal(unname(coef(s)), unname(mine[1, ]), tolerance = 1e-13)),
            isTRUE(all.equal(unname(SE(s)), unname(mine[2, ]), tolerance = 1e-13)),
            isTRUE(all.equal(unname(deff(s)), unname(mine[3, ]), tolerance = 1e-13)))
  s2 <- svyby(~I(sch.wide == "Yes"), ~stype, d, svyciprop, vartype = "ci", method = "beta")
  for (l in levels(factor(d$variables$stype))) {
    cp <- svyciprop(~I(sch.wide == "Yes"), d[d$variables$stype == l, ], method = "beta")
    mine <- as.vector(attr(cp, "ci"))
    stopifnot(isTRUE(all.equal(c(s2[l, "ci_l"], s2[l, "ci_u"]), mine, tolerance = 1e-13)))
  }
}
for (dn in c("strat", "clus1", "clus2")) check_svyby(build_design(designs[[dn]]))

# ---------------------------------------------------------------------------------------------------------
# Run.
results <- list()
lik_gap <- 0
for (case in cases) {
  spec <- designs[[case$design]]
  options(survey.lonely.psu = spec$lonely)
  d <- build_design(spec)
  rows <- domain_rows(d, case)
  for (r in rows) if (case$ci_method == "likelihood") {
    lik_gap <- max(lik_gap, abs(r$exact_ci_low - r$ci_low) / r$ci_low, abs(r$exact_ci_high - r$ci_high) / r$ci_high)
  }
  case$rows <- rows
  case$kind <- NULL
  results[[length(results) + 1]] <- case
}
options(survey.lonely.psu = "fail")
if (lik_gap > 1e-3) stop("exact likelihood interval is ", lik_gap, " away from svyciprop's; check the formula")

# The lonely-PSU design under "fail" must refuse to estimate.
lonely_fail <- tryCatch({ svymean(~api00, build_design(designs$lonely_remove)); "no error" },
                        error = function(e) conditionMessage(e))
stopifnot(grepl("only one PSU", lonely_fail))

# ---------------------------------------------------------------------------------------------------------
# A small JSON writer (no jsonlite needed).
json_str <- function(s) {
  s <- gsub("\\\\", "\\\\\\\\", s)
  s <- gsub("\"", "\\\\\"", s)
  paste0("\"", s, "\"")
}
json_num <- function(x) {
  if (is.na(x) || !is.finite(x)) return("null")
  if (x == round(x) && abs(x) < 1e15) return(sprintf("%.0f", x))
  sprintf("%.17g", x)
}
to_json <- function(x, indent = "") {
  inner <- paste0(indent, "  ")
  if (is.null(x)) return("null")
  if (is.list(x)) {
    if (length(x) == 0) return(if (is.null(names(x))) "[]" else "{}")
    if (!is.null(names(x))) {
      items <- mapply(function(k, v) paste0(inner, json_str(k), ": ", to_json(v, inner)), names(x), x)
      return(paste0("{\n", paste(items, collapse = ",\n"), "\n", indent, "}"))
    }
    items <- vapply(x, function(v) paste0(inner, to_json(v, inner)), "")
    return(paste0("[\n", paste(items, collapse = ",\n"), "\n", indent, "]"))
  }
  if (is.factor(x)) x <- as.character(x)
  if (length(x) == 1 && is.na(x) && !is.character(x)) return("null")
  vals <- if (is.character(x)) vapply(x, json_str, "") else if (is.logical(x)) ifelse(x, "true", "false")
          else vapply(x, json_num, "")
  if (length(x) == 1 && is.null(attr(x, "as_array"))) return(unname(vals))
  paste0("[", paste(vals, collapse = ", "), "]")
}
as_array <- function(x) structure(if (is.null(x)) character(0) else x, as_array = TRUE)

design_json <- lapply(names(designs), function(dn) {
  s <- designs[[dn]]
  d <- build_design(s)
  list(data = paste0(s$data, ".csv"), ids = if (is.null(s$ids)) NULL else as_array(s$ids),
       strata = s$strata, weights = s$weights, fpc = if (is.null(s$fpc)) NULL else as_array(s$fpc),
       lonely_psu = s$lonely, degf = degf(d), n = nrow(d), r_call = s$call)
})
names(design_json) <- names(designs)

case_json <- lapply(results, function(cs) {
  list(id = cs$id, design = cs$design, statistic = cs$statistic, variable = cs$variable,
       numerator = cs$numerator, denominator = cs$denominator, by = as_array(cs$by),
       ci_method = cs$ci_method, level = cs$level,
       probs = if (is.null(cs$probs)) NULL else as_array(cs$probs),
       na_rm = any(is.na(datasets[[designs[[cs$design]]$data]][c(cs$variable, cs$numerator, cs$denominator)])),
       rows = cs$rows)
})

reference <- list(
  meta = list(
    r_version = R.version.string,
    survey_version = as.character(packageVersion("survey")),
    svyquantile_qrule = "math",
    svyquantile_interval_type = "mean",
    svyquantile_alpha = 0.05,
    lonely_data = "apilonely.csv = subset(apiclus1, stype != \"H\" | dnum == 716): stratum H has one PSU (district 716)",
    lonely_fail_error = lonely_fail,
    likelihood_note = "ci_low/ci_high of 'likelihood' rows are svyciprop's (spline through <= 10 profile points); exact_ci_low/exact_ci_high solve the profile equation exactly",
    ciprop_note = "estimate of every svyciprop row is svymean's p; r_estimate is expit(coef(svyglm)) for logit/likelihood",
    quantile_note = "quantile rows use qrule 'math' with a 1e-12 relative tolerance on CDF = p; where R's exact floating-point comparison gives another answer, R's values are r_estimate/r_se/r_ci_low/r_ci_high",
    likelihood_max_rel_gap = lik_gap,
    wilson_note = "'wilson' (not in R) = normal-z Wilson score interval on n_eff = p(1-p)/SE^2 from svymean",
    conventions = "domain = design[rows, ] as svyby; df = degf() of the domain design before na.rm (quantiles: after); n = its rows; wald = normal, t = qt(df)"
  ),
  designs = design_json,
  cases = case_json
)

writeLines(to_json(reference), file.path(outdir, "reference.json"))
cat("wrote", length(case_json), "cases to", file.path(outdir, "reference.json"), "\n")
