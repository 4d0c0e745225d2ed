# Reference values of R's survey::svyglm for digifit's GLM peer tests (tests/peers/test_glm_against_r.py).
#
# Usage: Rscript tests/peers/make_glm_reference.R OUTDIR
#
# Writes into OUTDIR:
#   glm_apisrs.csv glm_apistrat.csv glm_apiclus1.csv glm_apiclus2.csv glm_apilonely.csv glm_apiclus1_rw.csv
#       the `api` data sets with three added columns (R names, NA as ""):
#         sch.wide  converted from the Yes/No factor to logical, so R names its coefficient sch.wideTRUE; digifit
#                   reads the CSV's TRUE/FALSE as text (or as a boolean), whose level is named TRUE all the same
#         hi700     as.numeric(api00 > 700), a 0/1 response
#         level     "elementary" / "other" (a two-level string column; R, given it as a factor, models P(other))
#   glm_coef.csv   one row per (design, model, term): estimate, se, t, p, df, ci_low, ci_high, iter, n
#   glm_vcov.csv   one row per (design, model, term, term2): vcov(fit)[term, term2]
#
# Needs only base R and `survey`. Numbers are written with sprintf("%.17g"). A model R cannot fit is an error
# (the Python side expects every case).

args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 1) stop("usage: Rscript make_glm_reference.R OUTDIR")
outdir <- args[1]
dir.create(outdir, showWarnings = FALSE, recursive = TRUE)

suppressPackageStartupMessages(library(survey))
data(api)

prep <- function(d) {
  d$sch.wide <- d$sch.wide == "Yes"
  d$hi700 <- as.numeric(d$api00 > 700)
  d$level <- factor(ifelse(d$stype == "E", "elementary", "other"))
  d
}
apisrs <- prep(apisrs)
apistrat <- prep(apistrat)
apiclus1 <- prep(apiclus1)
apiclus2 <- prep(apiclus2)
apilonely <- subset(apiclus1, stype != "H" | dnum == 716)
# apiclus1 with its JK1 analysis weights as columns rw1 ... rw15, for svrepdesign(repweights = ...)
jk1 <- as.svrepdesign(svydesign(ids = ~dnum, weights = ~pw, data = apiclus1), type = "JK1", compress = FALSE)
rw <- as.data.frame(matrix(as.numeric(weights(jk1, "analysis")), nrow = nrow(apiclus1)))
names(rw) <- paste0("rw", seq_len(ncol(rw)))
apiclus1_rw <- cbind(apiclus1, rw)
datasets <- list(apisrs = apisrs, apistrat = apistrat, apiclus1 = apiclus1, apiclus2 = apiclus2,
                 apilonely = apilonely, apiclus1_rw = apiclus1_rw)
for (nm in names(datasets)) {
  write.csv(datasets[[nm]], file.path(outdir, paste0("glm_", nm, ".csv")), row.names = FALSE, na = "")
}

# Population counts and totals (from apipop) for the calibrated designs; the same numbers are in CALIBRATION of
# test_glm_against_r.py.
pop_stype <- data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018))
pop_schwide <- data.frame(sch.wide = c(FALSE, TRUE), Freq = c(1072, 5122))
pop_greg <- c(`(Intercept)` = 6194, stypeH = 755, stypeM = 1018, api99 = 3914069)
pop_greg2 <- c(`(Intercept)` = 6194, api99 = 3914069, meals = 297533)

# The designs; test_glm_against_r.py builds the same ones (DESIGNS there).
designs <- list(
  srs = function() svydesign(ids = ~1, fpc = ~fpc, data = apisrs),                      # weights from fpc
  srs_w = function() svydesign(ids = ~1, weights = ~pw, data = apisrs),
  strat = function() svydesign(ids = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = apistrat),
  clus1 = function() svydesign(ids = ~dnum, weights = ~pw, fpc = ~fpc, data = apiclus1),
  clus2 = function() svydesign(ids = ~dnum + snum, fpc = ~fpc1 + fpc2, data = apiclus2), # weights from fpc
  lonely_adjust = function() svydesign(ids = ~dnum, strata = ~stype, weights = ~pw, data = apilonely,
                                       nest = TRUE),
  lonely_average = function() svydesign(ids = ~dnum, strata = ~stype, weights = ~pw, data = apilonely,
                                        nest = TRUE),
  # replicate designs: svyglm refits the model with every replicate's weights (svyglm.svyrep.design)
  jk1 = function() as.svrepdesign(svydesign(ids = ~dnum, weights = ~pw, data = apiclus1), type = "JK1"),
  jkn = function() as.svrepdesign(svydesign(ids = ~dnum, strata = ~stype, weights = ~pw, data = apistrat,
                                            nest = TRUE), type = "JKn"),
  jk1_mse = function() as.svrepdesign(svydesign(ids = ~dnum, weights = ~pw, data = apiclus1), type = "JK1",
                                      mse = TRUE),
  supplied_jk1 = function() svrepdesign(data = apiclus1_rw, repweights = "rw[0-9]+", weights = ~pw, type = "JK1",
                                        combined.weights = TRUE),
  # calibrated designs (population counts of apipop): svyrecvar uses the scores' calibration residuals
  clus1_ps = function() postStratify(svydesign(ids = ~dnum, weights = ~pw, data = apiclus1), ~stype, pop_stype),
  clus1_rake = function() rake(svydesign(ids = ~dnum, weights = ~pw, data = apiclus1), list(~stype, ~sch.wide),
                               list(pop_stype, pop_schwide)),
  clus1_greg = function() calibrate(svydesign(ids = ~dnum, weights = ~pw, data = apiclus1), ~stype + api99,
                                    pop_greg),
  srs_ps = function() postStratify(svydesign(ids = ~1, weights = ~pw, data = apisrs), ~stype, pop_stype),
  srs_rake = function() rake(svydesign(ids = ~1, weights = ~pw, data = apisrs), list(~stype, ~sch.wide),
                             list(pop_stype, pop_schwide)),
  strat_greg = function() calibrate(svydesign(ids = ~1, strata = ~stype, weights = ~pw, data = apistrat),
                                    ~api99 + meals, pop_greg2),
  clus1_cal_raking = function() calibrate(svydesign(ids = ~dnum, weights = ~pw, data = apiclus1), ~stype + api99,
                                          pop_greg, calfun = "raking"),
  clus1_cal_logit = function() calibrate(svydesign(ids = ~dnum, weights = ~pw, data = apiclus1), ~stype + api99,
                                         pop_greg, calfun = "logit", bounds = c(0.7, 1.7)),
  strat_trim = function() trimWeights(svydesign(ids = ~1, strata = ~stype, weights = ~pw, data = apistrat),
                                      lower = 10, upper = 40),
  strat_trim_ps = function() postStratify(trimWeights(svydesign(ids = ~1, strata = ~stype, weights = ~pw,
                                                                data = apistrat), lower = 10, upper = 40),
                                          ~sch.wide, pop_schwide),
  # replicate designs calibrated again in every replicate
  jk1_ps = function() postStratify(as.svrepdesign(svydesign(ids = ~dnum, weights = ~pw, data = apiclus1),
                                                  type = "JK1"), ~stype, pop_stype),
  jk1_rake = function() rake(as.svrepdesign(svydesign(ids = ~dnum, weights = ~pw, data = apiclus1), type = "JK1"),
                             list(~stype, ~sch.wide), list(pop_stype, pop_schwide)),
  jk1_greg = function() calibrate(as.svrepdesign(svydesign(ids = ~dnum, weights = ~pw, data = apiclus1),
                                                 type = "JK1"), ~stype + api99, pop_greg)
)
calibrated <- c("clus1_ps", "clus1_rake", "clus1_greg", "srs_ps", "srs_rake", "strat_greg", "clus1_cal_raking",
                "clus1_cal_logit", "strat_trim", "strat_trim_ps")
replicate_models <- c("linear", "factor", "with_na", "logit", "logit_string", "logit_na")
lonely <- list(lonely_adjust = "adjust", lonely_average = "average")

# The models; the same names and formulas are in MODELS of test_glm_against_r.py.
models <- list(
  linear = list(api00 ~ ell + meals + mobility, gaussian()),
  factor = list(api00 ~ stype + enroll, gaussian()),
  interaction = list(api00 ~ ell + meals + ell:meals, gaussian()),
  factor_interaction = list(api00 ~ stype * ell, gaussian()),
  logical_term = list(api00 ~ sch.wide + ell, gaussian()),
  no_intercept = list(api00 ~ stype + ell - 1, gaussian()),
  with_na = list(api00 ~ acs.k3 + ell, gaussian()),
  nested = list(api00 ~ stype + stype:ell, gaussian()),
  two_factors = list(api00 ~ sch.wide * stype - 1, gaussian()),
  slopes_only = list(api00 ~ ell:stype, gaussian()),
  logit = list(sch.wide ~ ell + meals, quasibinomial()),
  logit_factor = list(hi700 ~ stype, quasibinomial()),
  logit_numeric = list(hi700 ~ ell + meals + mobility, quasibinomial()),
  logit_string = list(level ~ api00 + ell, quasibinomial()),
  logit_na = list(hi700 ~ acs.k3 + meals, quasibinomial())
)

fmt <- function(x) ifelse(is.na(x), "", sprintf("%.17g", x))
coef_rows <- list()
vcov_rows <- list()
for (dn in names(designs)) {
  options(survey.lonely.psu = if (is.null(lonely[[dn]])) "fail" else lonely[[dn]])
  des <- designs[[dn]]()
  for (mn in names(models)) {
    if ((inherits(des, "svyrep.design") || dn %in% calibrated) && !(mn %in% replicate_models)) next
    m <- models[[mn]]
    fit <- svyglm(m[[1]], design = des, family = m[[2]])
    s <- summary(fit)
    tab <- coef(s)
    ci <- confint(fit)
    v <- vcov(fit)
    terms <- rownames(tab)
    coef_rows[[length(coef_rows) + 1]] <- data.frame(
      design = dn, model = mn, term = terms,
      estimate = fmt(tab[, 1]), se = fmt(tab[, 2]), t = fmt(tab[, 3]), p = fmt(tab[, 4]),
      df = fit$df.residual, ci_low = fmt(ci[, 1]), ci_high = fmt(ci[, 2]),
      iter = fit$iter, n = length(fit$y), stringsAsFactors = FALSE)
    vcov_rows[[length(vcov_rows) + 1]] <- data.frame(
      design = dn, model = mn, term = rep(rownames(v), ncol(v)), term2 = rep(colnames(v), each = nrow(v)),
      value = fmt(as.vector(v)), stringsAsFactors = FALSE)
  }
}
write.csv(do.call(rbind, coef_rows), file.path(outdir, "glm_coef.csv"), row.names = FALSE)
write.csv(do.call(rbind, vcov_rows), file.path(outdir, "glm_vcov.csv"), row.names = FALSE)
