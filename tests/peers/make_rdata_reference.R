# Reference values from R's `survey` on the data sets it ships, for tests/peers/test_rdata_against_r.py.
#
# Usage: Rscript tests/peers/make_rdata_reference.R OUTDIR
#
# Writes into OUTDIR, with R's own write.csv:
#   nhanes.csv yrbs.csv fpc.csv mu284.csv hospital.csv crowd.csv   missing values written as NA (R's default)
#   apisrs.csv apistrat.csv                                         (for the replicates without clusters)
#   nhanes_empty.csv nhanes_dot.csv                                 the same nhanes with NA written as "" and "."
#   reference.csv   one row per estimate: case, level, domain, estimate, se, ci_low, ci_high, df (17 digits)
#
# nhanes gets one derived text column, chol (HI_CHOL as "high"/"normal", NA where HI_CHOL is NA), so that a
# text category with missing values is tested too. Everything else is R's data as shipped.
#
# Conventions: a domain is svyby()'s design[rows in domain, ]; df is degf() of the design the estimate is made
# on: the domain, before na.rm drops rows (svyciprop's df = degf(design)), but after it for svyquantile (which
# subsets first); "wald" intervals are normal (confint(..., df = Inf)), "t" use qt(df).

args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 1) stop("usage: Rscript make_rdata_reference.R OUTDIR")
outdir <- args[1]
dir.create(outdir, showWarnings = FALSE, recursive = TRUE)
suppressPackageStartupMessages(library(survey))
data(nhanes); data(yrbs); data(fpc); data(mu284); data(hospital); data(crowd)
nhanes$chol <- ifelse(is.na(nhanes$HI_CHOL), NA, ifelse(nhanes$HI_CHOL == 1, "high", "normal"))
for (nm in c("nhanes", "yrbs", "fpc", "mu284", "hospital", "crowd")) {
  write.csv(get(nm), file.path(outdir, paste0(nm, ".csv")), row.names = FALSE)
}
write.csv(nhanes, file.path(outdir, "nhanes_empty.csv"), row.names = FALSE, na = "")
write.csv(nhanes, file.path(outdir, "nhanes_dot.csv"), row.names = FALSE, na = ".")

out <- list()
emit <- function(case, level, domain, est, se, lo, hi, df) {
  out[[length(out) + 1]] <<- data.frame(
    case = case, level = as.character(level), domain = as.character(domain),
    estimate = sprintf("%.17g", est), se = sprintf("%.17g", se), ci_low = sprintf("%.17g", lo),
    ci_high = sprintf("%.17g", hi), df = sprintf("%.17g", df), stringsAsFactors = FALSE)
}
crit <- function(method, df, level = 0.95) if (method == "wald") qnorm(1 - (1 - level) / 2) else qt(1 - (1 - level) / 2, df)

dn <- svydesign(ids = ~SDMVPSU, strata = ~SDMVSTRA, weights = ~WTMEC2YR, nest = TRUE, data = nhanes)
dy <- svydesign(ids = ~psu, strata = ~stratum, weights = ~weight, nest = TRUE, data = yrbs)

# linear statistics of a variable with missing values; df = degf of the domain (all its rows)
linear <- function(case, d, stat, f, method, by = NULL) {
  parts <- if (is.null(by)) list(list(d = d, dom = "")) else
    lapply(sort(unique(d$variables[[by]])), function(v) list(d = d[d$variables[[by]] == v, ], dom = v))
  for (p in parts) {
    obj <- switch(stat,
                  mean = svymean(f, p$d, na.rm = TRUE),
                  total = svytotal(f, p$d, na.rm = TRUE))
    df <- degf(p$d)
    cf <- coef(obj); se <- SE(obj); k <- crit(method, df)
    levs <- substring(names(cf), nchar(deparse(f[[2]])) + 1)  # "factor(agecat)(0,19]" -> "(0,19]"; a number: ""
    for (j in seq_along(cf)) emit(case, levs[j], p$dom, cf[j], se[j], cf[j] - k * se[j], cf[j] + k * se[j], df)
  }
}
linear("nhanes/mean/HI_CHOL/t", dn, "mean", ~HI_CHOL, "t")
linear("nhanes/mean/HI_CHOL/by_RIAGENDR/wald", dn, "mean", ~HI_CHOL, "wald", "RIAGENDR")
linear("nhanes/total/HI_CHOL/t", dn, "total", ~HI_CHOL, "t")
linear("nhanes/total/factor_HI_CHOL/t", dn, "total", ~factor(HI_CHOL), "t")
linear("nhanes/total/chol/by_RIAGENDR/t", dn, "total", ~factor(chol), "t", "RIAGENDR")
linear("nhanes/total/agecat/wald", dn, "total", ~factor(agecat), "wald")
linear("nhanes/total/agecat/by_RIAGENDR/t", dn, "total", ~factor(agecat), "t", "RIAGENDR")
linear("nhanes/total/race/by_agecat/wald", dn, "total", ~factor(race), "wald", "agecat")
linear("nhanes/proportion/HI_CHOL/wald", dn, "mean", ~factor(HI_CHOL), "wald")
linear("nhanes/proportion/chol/by_agecat/t", dn, "mean", ~factor(chol), "t", "agecat")
linear("yrbs/proportion/qn8/by_stratum/t", dy, "mean", ~factor(qn8), "t", "stratum")
linear("yrbs/mean/qn8/t", dy, "mean", ~qn8, "t")

# ratio with missing values in the numerator
r <- svyratio(~HI_CHOL, ~RIAGENDR, dn, na.rm = TRUE)
df <- degf(dn)
emit("nhanes/ratio/HI_CHOL/RIAGENDR/t", "", "", coef(r), SE(r), coef(r) - qt(0.975, df) * SE(r),
     coef(r) + qt(0.975, df) * SE(r), df)

# quantiles (svyquantile drops the missing rows first: df is degf of the rest)
q <- svyquantile(~HI_CHOL, dn, c(0.5, 0.9), na.rm = TRUE, ci = TRUE)
qq <- q[[1]]
dq <- degf(dn[!is.na(nhanes$HI_CHOL), ])
for (j in 1:2) emit("nhanes/quantile/HI_CHOL", c(0.5, 0.9)[j], "", qq[j, 1], qq[j, 4], qq[j, 2], qq[j, 3], dq)

# svyciprop, every method, overall and in domains; df = degf(design passed), before na.rm
for (m in c("logit", "likelihood", "asin", "beta", "mean", "xlogit")) {
  for (by in list(NULL, "RIAGENDR", "agecat")) {
    parts <- if (is.null(by)) list(list(d = dn, dom = "")) else
      lapply(sort(unique(nhanes[[by]])), function(v) list(d = dn[nhanes[[by]] == v, ], dom = v))
    for (p in parts) {
      ci <- svyciprop(~I(HI_CHOL == 1), p$d, method = m, na.rm = TRUE)
      emit(paste0("nhanes/ciprop/HI_CHOL/", if (is.null(by)) "" else paste0("by_", by, "/"), m),
           1, p$dom, as.numeric(ci), sqrt(attr(ci, "var")), attr(ci, "ci")[1], attr(ci, "ci")[2], degf(p$d))
    }
  }
}
# yrbs: PSUs without a non-missing qn8 keep their place in degf
for (m in c("logit", "beta")) {
  ci <- svyciprop(~I(qn8 == 1), dy, method = m, na.rm = TRUE)
  emit(paste0("yrbs/ciprop/qn8/", m), 1, "", as.numeric(ci), sqrt(attr(ci, "var")), attr(ci, "ci")[1],
       attr(ci, "ci")[2], degf(dy))
}

# fpc: nh and Nh differ only in case
df <- svydesign(ids = ~psuid, strata = ~stratid, fpc = ~Nh, nest = TRUE, data = fpc)
m <- svymean(~x, df)
emit("fpc/mean/x/Nh", "", "", coef(m), SE(m), coef(m) - 1.959963984540054 * SE(m),
     coef(m) + 1.959963984540054 * SE(m), degf(df))
dw <- svydesign(ids = ~psuid, strata = ~stratid, weights = ~weight, nest = TRUE, data = fpc)
m <- svytotal(~nh, dw)
emit("fpc/total/nh/weight", "", "", coef(m), SE(m), coef(m) - qnorm(0.975) * SE(m), coef(m) + qnorm(0.975) * SE(m),
     degf(dw))

# two stages (mu284), stratified clusters with fpc (hospital)
dm <- svydesign(ids = ~id1 + id2, fpc = ~n1 + n2, data = mu284)
for (s in c("mean", "total")) {
  m <- if (s == "mean") svymean(~y1, dm) else svytotal(~y1, dm)
  emit(paste0("mu284/", s, "/y1"), "", "", coef(m), SE(m), coef(m) - qt(0.975, degf(dm)) * SE(m),
       coef(m) + qt(0.975, degf(dm)) * SE(m), degf(dm))
}
q <- svyquantile(~y1, dm, 0.5, ci = TRUE)[[1]]
emit("mu284/quantile/y1", 0.5, "", q[1, 1], q[1, 4], q[1, 2], q[1, 3], degf(dm))
dh <- svydesign(ids = ~hospno, strata = ~oblevel, fpc = ~tothosp, weights = ~weighta, data = hospital)
m <- svytotal(~births, dh)
emit("hospital/total/births", "", "", coef(m), SE(m), coef(m) - qt(0.975, degf(dh)) * SE(m),
     coef(m) + qt(0.975, degf(dh)) * SE(m), degf(dh))

# replicate designs on crowd: JK1 (clusters, no strata), JKn (strata and clusters)
rep_case <- function(case, rd) {
  m <- svymean(~rooms, rd)
  emit(case, "", "", coef(m), SE(m), coef(m) - qnorm(0.975) * SE(m), coef(m) + qnorm(0.975) * SE(m), degf(rd))
}
rep_case("crowd/jk1/mean/rooms", as.svrepdesign(svydesign(ids = ~cluster, data = crowd), type = "JK1"))
rep_case("crowd/jkn/mean/rooms", as.svrepdesign(svydesign(ids = ~cluster, strata = ~stratum, data = crowd), type = "JKn"))

# replicate designs without clusters (ids = ~0: each row its own PSU), JKn within strata; mean and total
noclus_case <- function(case, rd, f) {
  for (s in c("mean", "total")) {
    m <- if (s == "mean") svymean(f, rd) else svytotal(f, rd)
    emit(sub("STAT", s, case), "", "", coef(m), SE(m), coef(m) - qnorm(0.975) * SE(m),
         coef(m) + qnorm(0.975) * SE(m), degf(rd))
  }
}
noclus_case("crowd/jk1_noclus/STAT/rooms",
            as.svrepdesign(svydesign(ids = ~0, weights = ~weight, data = crowd), type = "JK1"), ~rooms)
noclus_case("crowd/jkn_noclus/STAT/rooms",
            as.svrepdesign(svydesign(ids = ~0, strata = ~stratum, weights = ~weight, data = crowd), type = "JKn"),
            ~rooms)
data(api)
write.csv(apisrs, file.path(outdir, "apisrs.csv"), row.names = FALSE)
write.csv(apistrat, file.path(outdir, "apistrat.csv"), row.names = FALSE)
noclus_case("apisrs/jk1_noclus/STAT/api00",
            as.svrepdesign(svydesign(ids = ~1, weights = ~pw, fpc = ~fpc, data = apisrs), type = "JK1"), ~api00)
noclus_case("apistrat/jkn_noclus/STAT/api00",
            as.svrepdesign(svydesign(ids = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = apistrat),
                           type = "JKn"), ~api00)

# raking nhanes to its own (estimated, rounded) margins of agecat and RIAGENDR: default and tight control
pop_age <- data.frame(agecat = sort(unique(nhanes$agecat)), Freq = c(6e7, 8.1e7, 8.4e7, 5.4e7))
pop_sex <- data.frame(RIAGENDR = c(1, 2), Freq = c(1.37e8, 1.42e8))
write.csv(pop_age, file.path(outdir, "pop_agecat.csv"), row.names = FALSE)
write.csv(pop_sex, file.path(outdir, "pop_RIAGENDR.csv"), row.names = FALSE)
for (ctl in list(list(name = "default", c = list(maxit = 10, epsilon = 1, verbose = FALSE)),
                 list(name = "tight", c = list(maxit = 100, epsilon = 1e-6, verbose = FALSE)))) {
  rk <- rake(dn, list(~agecat, ~RIAGENDR), list(pop_age, pop_sex), control = ctl$c)
  m <- svymean(~HI_CHOL, rk, na.rm = TRUE)
  emit(paste0("nhanes/rake_", ctl$name, "/mean/HI_CHOL"), "", "", coef(m), SE(m), coef(m) - qnorm(0.975) * SE(m),
       coef(m) + qnorm(0.975) * SE(m), degf(rk))
}

# one svyglm: logistic regression of HI_CHOL (rows with NA left out, R's na.omit)
g <- svyglm(HI_CHOL ~ agecat + RIAGENDR, design = dn, family = quasibinomial)
cf <- coef(g); se <- SE(g)
for (j in seq_along(cf)) emit("nhanes/glm/HI_CHOL", names(cf)[j], "", cf[j], se[j], NA, NA, g$df.residual)

write.csv(do.call(rbind, out), file.path(outdir, "reference.csv"), row.names = FALSE)
cat("wrote", length(out), "rows\n")
