# Reference replicate designs from R's `survey` for digifit's replicate factors
# (tests/peers/test_replicates_against_r.py; the module is src/digifit/stats/replicates.py).
#
# Usage: Rscript tests/peers/make_replicates_reference.R OUTDIR
#
# Writes into OUTDIR:
#   apiclus1_sorted.csv   apiclus1 sorted by dnum                              (JK1; ids=~dnum)
#   apistrat_dnum.csv     apistrat sorted by stype, dnum                       (JKn/bootstrap; ids=~dnum, strata=~stype)
#   apilonely_sorted.csv  apiclus1 with one H district (716), sorted by stype, dnum (JKn lonely-PSU policies)
#   apibrr.csv            apiclus1 without district 795, sorted by dnum, pair = "p01".."p07" (2 districts each)
#   apibrr20.csv          apiclus2 sorted by dnum, pair = "p01".."p20" (2 districts each; Paley order 28)
#   apibrrsplit.csv       apiclus2 sorted by dnum, stratum "s01".."s17" of 4, 2, 6 then 2 districts (R splits
#                         the strata of 4 and 6 PSUs into pairs)
#   replicates.json       designs, R's hadamard() for many n, and for each case R's factor matrix (one row per
#                         data row, one column per replicate; as.svrepdesign(compress=FALSE) except where noted), scale, rscales, degf, and svytotal/svymean of
#                         api00 with their replicate SEs (mse FALSE and TRUE); and R's svrepdesign() scale and
#                         rscales per type for supplied replicate-weight columns.
#
# Every data set is sorted by stratum then PSU id, so R's order of first appearance is digifit's PSU order
# (strata, then ids, sorted) and R's replicates come out in the same order as digifit's.
# Needs only base R and `survey`; numbers are written with sprintf("%.17g").

args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 1) stop("usage: Rscript make_replicates_reference.R OUTDIR")
outdir <- args[1]
dir.create(outdir, showWarnings = FALSE, recursive = TRUE)

suppressPackageStartupMessages(library(survey))
data(api)
set.seed(20261126)

# ---------------------------------------------------------------------------------------------------------
# Data sets
apiclus1_sorted <- apiclus1[order(apiclus1$dnum, apiclus1$snum), ]
apistrat_dnum <- apistrat[order(apistrat$stype, apistrat$dnum, apistrat$snum), ]
apilonely <- subset(apiclus1, stype != "H" | dnum == 716)
apilonely_sorted <- apilonely[order(apilonely$stype, apilonely$dnum, apilonely$snum), ]

districts <- sort(unique(apiclus1$dnum))
apibrr <- apiclus1_sorted[apiclus1_sorted$dnum != districts[15], ]
apibrr$pair <- sprintf("p%02d", (match(apibrr$dnum, districts) + 1) %/% 2)

apiclus2_sorted <- apiclus2[order(apiclus2$dnum, apiclus2$snum), ]
d2 <- sort(unique(apiclus2$dnum))
apibrr20 <- apiclus2_sorted
apibrr20$pair <- sprintf("p%02d", (match(apibrr20$dnum, d2) + 1) %/% 2)
# strata of 4, 2 and 6 districts, then 14 strata of 2
sizes <- c(4, 2, 6, rep(2, 14))
stratum_of_district <- rep(seq_along(sizes), sizes)
apibrrsplit <- apiclus2_sorted
apibrrsplit$stratum <- sprintf("s%02d", stratum_of_district[match(apibrrsplit$dnum, d2)])

datasets <- list(apiclus1_sorted = apiclus1_sorted, apistrat_dnum = apistrat_dnum,
                 apilonely_sorted = apilonely_sorted, apibrr = apibrr, apibrr20 = apibrr20,
                 apibrrsplit = apibrrsplit)
for (nm in names(datasets)) {
  write.csv(datasets[[nm]], file.path(outdir, paste0(nm, ".csv")), row.names = FALSE, na = "")
}

# ---------------------------------------------------------------------------------------------------------
# Designs (digifit arguments and the R call)
designs <- list(
  clus1 = list(data = "apiclus1_sorted", ids = "dnum", strata = NULL, weights = "pw", fpc = NULL,
               call = "svydesign(ids=~dnum, weights=~pw, data=apiclus1_sorted)"),
  clus1_fpc = list(data = "apiclus1_sorted", ids = "dnum", strata = NULL, weights = "pw", fpc = "fpc",
                   call = "svydesign(ids=~dnum, weights=~pw, fpc=~fpc, data=apiclus1_sorted)"),
  strat_dnum = list(data = "apistrat_dnum", ids = "dnum", strata = "stype", weights = "pw", fpc = NULL,
                    call = "svydesign(ids=~dnum, strata=~stype, weights=~pw, data=apistrat_dnum, nest=TRUE)"),
  strat_dnum_fpc = list(data = "apistrat_dnum", ids = "dnum", strata = "stype", weights = "pw", fpc = "fpc",
                        call = "svydesign(ids=~dnum, strata=~stype, weights=~pw, fpc=~fpc, data=apistrat_dnum, nest=TRUE)"),
  lonely = list(data = "apilonely_sorted", ids = "dnum", strata = "stype", weights = "pw", fpc = NULL,
                call = "svydesign(ids=~dnum, strata=~stype, weights=~pw, data=apilonely_sorted, nest=TRUE)"),
  brr = list(data = "apibrr", ids = "dnum", strata = "pair", weights = "pw", fpc = NULL,
             call = "svydesign(ids=~dnum, strata=~pair, weights=~pw, data=apibrr, nest=TRUE)"),
  brr20 = list(data = "apibrr20", ids = "dnum", strata = "pair", weights = "pw", fpc = NULL,
               call = "svydesign(ids=~dnum, strata=~pair, weights=~pw, data=apibrr20, nest=TRUE)"),
  brrsplit = list(data = "apibrrsplit", ids = "dnum", strata = "stratum", weights = "pw", fpc = NULL,
                  call = "svydesign(ids=~dnum, strata=~stratum, weights=~pw, data=apibrrsplit, nest=TRUE)")
)
r_design <- function(name) {
  d <- designs[[name]]
  eval(parse(text = d$call))
}

# ---------------------------------------------------------------------------------------------------------
# Cases: design × as.svrepdesign(type, ...) [× lonely.psu]
cases <- list(
  list(id = "jk1", design = "clus1", type = "JK1"),
  list(id = "jk1_fpc", design = "clus1_fpc", type = "JK1"),
  list(id = "jkn", design = "strat_dnum", type = "JKn"),
  list(id = "jkn_fpc", design = "strat_dnum_fpc", type = "JKn"),
  list(id = "jkn_lonely_remove", design = "lonely", type = "JKn", lonely = "remove"),
  list(id = "jkn_lonely_certainty", design = "lonely", type = "JKn", lonely = "certainty"),
  # compress=FALSE is wrong in survey 4.1.1 for "adjust": jknweights() assigns the adjustment replicate with
  # `repweights[counter + nc] <- ...` (one cell, not a column); the compressed weights are the intended ones.
  list(id = "jkn_lonely_adjust", design = "lonely", type = "JKn", lonely = "adjust", compress = TRUE),
  list(id = "jkn_lonely_average", design = "lonely", type = "JKn", lonely = "average"),
  list(id = "brr", design = "brr", type = "BRR"),
  list(id = "fay", design = "brr", type = "Fay", rho = 0.3),
  list(id = "brr20", design = "brr20", type = "BRR"),
  list(id = "fay20", design = "brr20", type = "Fay", rho = 0.5),
  list(id = "brrsplit", design = "brrsplit", type = "BRR"),
  list(id = "bootstrap", design = "strat_dnum", type = "bootstrap", replicates = 50, random = TRUE),
  list(id = "bootstrap_fpc", design = "strat_dnum_fpc", type = "bootstrap", replicates = 40, random = TRUE),
  list(id = "bootstrap_clus1", design = "clus1", type = "bootstrap", replicates = 60, random = TRUE),
  list(id = "subbootstrap", design = "strat_dnum", type = "subbootstrap", replicates = 50, random = TRUE)
)

num <- function(x) {
  x <- as.numeric(x)
  ifelse(is.na(x) | !is.finite(x), "null", sprintf("%.17g", x))
}
vec <- function(x) paste0("[", paste(num(x), collapse = ","), "]")
mat <- function(m) paste0("[", paste(apply(m, 1, vec), collapse = ","), "]")
str <- function(x) if (is.null(x)) "null" else paste0("\"", gsub("\"", "\\\\\"", x), "\"")
strvec <- function(x) if (is.null(x)) "null" else paste0("[", paste(sapply(x, str), collapse = ","), "]")
obj <- function(...) {
  kv <- list(...)
  paste0("{", paste(sprintf("\"%s\":%s", names(kv), unlist(kv)), collapse = ","), "}")
}

run_case <- function(case) {
  options(survey.lonely.psu = if (is.null(case$lonely)) "fail" else case$lonely)
  des <- r_design(case$design)
  rho <- if (is.null(case$rho)) 0 else case$rho
  compress <- isTRUE(case$compress)
  rep <- if (is.null(case$replicates)) {
    suppressWarnings(as.svrepdesign(des, type = case$type, fay.rho = rho, compress = compress))
  } else {
    suppressWarnings(as.svrepdesign(des, type = case$type, replicates = case$replicates, compress = compress))
  }
  if (compress) {
    factors <- rep$repweights$weights[rep$repweights$index, , drop = FALSE]
  } else {
    factors <- unclass(rep$repweights)
  }
  attributes(factors) <- list(dim = dim(factors))
  # combined.weights=FALSE: the analysis weights are the factors times the sampling weights
  analysis <- matrix(as.numeric(weights(rep, "analysis")), nrow = nrow(factors))
  stopifnot(max(abs(analysis - factors * rep$pweights)) < 1e-9 * max(abs(analysis)))
  stats <- function(mse) {
    rep$mse <- mse
    tot <- svytotal(~api00, rep)
    mn <- svymean(~api00, rep)
    c(coef(tot), SE(tot), coef(mn), SE(mn))
  }
  s0 <- stats(FALSE)
  s1 <- stats(TRUE)
  obj(
    id = str(case$id), design = str(case$design), type = str(case$type), r_type = str(rep$type),
    fay_rho = num(rho), lonely_psu = str(if (is.null(case$lonely)) "fail" else case$lonely),
    replicates = num(if (is.null(case$replicates)) NA else case$replicates),
    random = if (isTRUE(case$random)) "true" else "false", compress = if (compress) "true" else "false",
    n_replicates = num(ncol(factors)), factors = mat(factors), scale = num(rep$scale),
    rscales = vec(rep$rscales), degf = num(degf(rep)),
    total = num(s0[1]), total_se = num(s0[2]), total_se_mse = num(s1[2]),
    mean = num(s0[3]), mean_se = num(s0[4]), mean_se_mse = num(s1[4])
  )
}

# svrepdesign() with supplied replicate-weight columns (combined.weights=TRUE): R's default scale/rscales per
# type. The columns are the JK1 analysis weights of apiclus1_sorted (their svytotal is F @ S of case jk1).
supplied <- list(
  list(id = "brr", type = "BRR"), list(id = "fay", type = "Fay", rho = 0.3), list(id = "jk1", type = "JK1"),
  list(id = "jk1_scale", type = "JK1", scale = 0.8),
  list(id = "jkn", type = "JKn", rscales = seq(0.5, 0.95, length.out = 15)),
  list(id = "bootstrap", type = "bootstrap"), list(id = "bootstrap_scale", type = "bootstrap", scale = 0.05),
  list(id = "acs", type = "ACS"), list(id = "sdr", type = "successive-difference"), list(id = "jk2", type = "JK2"),
  list(id = "other", type = "other", scale = 0.3, rscales = 2)
)
jk1rep <- as.svrepdesign(r_design("clus1"), type = "JK1", compress = FALSE)
jk1w <- as.data.frame(matrix(as.numeric(weights(jk1rep, "analysis")), nrow = nrow(apiclus1_sorted)))
supplied_json <- sapply(supplied, function(s) {
  args <- list(data = apiclus1_sorted, repweights = jk1w, weights = ~pw, type = s$type, combined.weights = TRUE)
  if (!is.null(s$rho)) args$rho <- s$rho
  if (!is.null(s$scale)) args$scale <- s$scale
  if (!is.null(s$rscales)) args$rscales <- s$rscales
  d <- suppressWarnings(do.call(svrepdesign, args))
  se <- sapply(c(FALSE, TRUE), function(m) { d$mse <- m; SE(svytotal(~api00, d)) })
  obj(id = str(s$id), type = str(s$type), rho = num(if (is.null(s$rho)) NA else s$rho),
      given_scale = num(if (is.null(s$scale)) NA else s$scale), given_rscales = vec(if (is.null(s$rscales)) NA else s$rscales),
      scale = num(d$scale), rscales = vec(d$rscales), total_se = num(se[1]), total_se_mse = num(se[2]))
})

# R's error for a lonely PSU under "fail", and BRR with a lonely stratum
lonely_error <- tryCatch({
  options(survey.lonely.psu = "fail")
  as.svrepdesign(r_design("lonely"), type = "JKn")
  ""
}, error = function(e) conditionMessage(e))
brr_error <- tryCatch({
  as.svrepdesign(r_design("lonely"), type = "BRR")
  ""
}, error = function(e) conditionMessage(e))

# Taylor (with-replacement) SEs of svytotal(~api00) and svymean(~api00), for the bootstrap's 10% check
options(survey.lonely.psu = "fail")
taylor <- sapply(c("clus1", "strat_dnum"), function(nm) {
  des <- r_design(nm)
  sprintf("\"%s\":%s", nm, obj(total_se = num(SE(svytotal(~api00, des))), mean_se = num(SE(svymean(~api00, des)))))
})

hadamard_ns <- c(1:64, 71, 80, 99, 100, 127, 128, 150, 200, 255, 333)
had <- sapply(hadamard_ns, function(n) {
  h <- hadamard(n)
  obj(n = num(n), order = num(nrow(h)), rows = strvec(apply(h, 1, paste, collapse = "")))
})

design_json <- sapply(names(designs), function(nm) {
  d <- designs[[nm]]
  sprintf("\"%s\":%s", nm, obj(data = str(paste0(d$data, ".csv")), ids = strvec(d$ids), strata = str(d$strata),
                                weights = str(d$weights), fpc = str(d$fpc), call = str(d$call)))
})

json <- paste0(
  "{",
  "\"meta\":", obj(survey = str(as.character(packageVersion("survey"))), r = str(R.version.string),
                   lonely_error = str(lonely_error), brr_error = str(brr_error)), ",",
  "\"designs\":{", paste(design_json, collapse = ","), "},",
  "\"taylor\":{", paste(taylor, collapse = ","), "},",
  "\"hadamard\":[", paste(had, collapse = ","), "],",
  "\"cases\":[", paste(sapply(cases, run_case), collapse = ","), "],",
  "\"supplied\":[", paste(supplied_json, collapse = ","), "]",
  "}"
)
writeLines(json, file.path(outdir, "replicates.json"))
