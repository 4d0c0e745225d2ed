# Reference values for digifit's weighting and replicate variance: R's survey package on the api data.
# Usage: Rscript make_weighting_reference.R OUTDIR   (writes the CSVs and weighting.json)
suppressMessages(library(survey))
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args)) args[1] else "."
data(api)
write.csv(apiclus1, file.path(out, "apiclus1.csv"), row.names = FALSE, na = "")
write.csv(apistrat, file.path(out, "apistrat.csv"), row.names = FALSE, na = "")
# a stratified cluster sample with two PSUs per stratum, for BRR/Fay (districts paired in order)
clus <- apiclus1[order(apiclus1$dnum), ]
d_ids <- sort(unique(clus$dnum))[1:14]
clus <- clus[clus$dnum %in% d_ids, ]
clus$pair <- match(clus$dnum, d_ids) %/% 2 + (match(clus$dnum, d_ids) %% 2)
clus$pair <- ceiling(match(clus$dnum, d_ids) / 2)
write.csv(clus, file.path(out, "apipairs.csv"), row.names = FALSE, na = "")

num <- function(x) if (is.na(x)) "null" else sprintf("%.17g", x)
cases <- list()
add <- function(design, weighting, variance, stat, variable, by, est, se) {
  cases[[length(cases) + 1]] <<- sprintf(
    '{"design": "%s", "weighting": "%s", "variance": "%s", "statistic": "%s", "variable": "%s", "by": %s, "estimate": %s, "se": %s}',
    design, weighting, variance, stat, variable, if (is.null(by)) "null" else sprintf('"%s"', by), num(est), num(se))
}
pop.types <- data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018))
pop.schwide <- data.frame(sch.wide = c("No", "Yes"), Freq = c(1072, 5122))
write.csv(pop.types, file.path(out, "pop_types.csv"), row.names = FALSE)
write.csv(pop.schwide, file.path(out, "pop_schwide.csv"), row.names = FALSE)
totals <- c(`(Intercept)` = 6194, stypeH = 755, stypeM = 1018, api99 = 3914069)

bases <- list(
  clus1 = svydesign(ids = ~dnum, weights = ~pw, fpc = ~fpc, data = apiclus1),
  strat = svydesign(ids = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = apistrat),
  pairs = svydesign(ids = ~dnum, strata = ~pair, weights = ~pw, data = clus, nest = TRUE)
)
weighting <- function(d, how) switch(how,
  none = d,
  ps = postStratify(d, ~stype, pop.types),
  rake = rake(d, list(~stype, ~sch.wide), list(pop.types, pop.schwide)),  # R's default control: maxit 10, epsilon 1
  rake_tight = rake(d, list(~stype, ~sch.wide), list(pop.types, pop.schwide),
                    control = list(epsilon = 1e-10, maxit = 100, verbose = FALSE)),
  linear = calibrate(d, ~stype + api99, totals),
  linear_bounded = calibrate(d, ~stype + api99, totals, bounds = c(0.7, 1.7)),
  raking = calibrate(d, ~stype + api99, totals, calfun = "raking"),
  logit = calibrate(d, ~stype + api99, totals, calfun = "logit", bounds = c(0.7, 1.7)),
  trim = trimWeights(d, upper = 40, lower = 10)
)
record <- function(d, dname, how, variance) {
  m <- svymean(~api00, d); add(dname, how, variance, "mean", "api00", NULL, coef(m), SE(m))
  t <- svytotal(~enroll, d); add(dname, how, variance, "total", "enroll", NULL, coef(t), SE(t))
  r <- svyratio(~api00, ~api99, d); add(dname, how, variance, "ratio", "api00/api99", NULL, coef(r), SE(r))
  b <- svyby(~api00, ~sch.wide, d, svymean)
  for (i in seq_len(nrow(b))) add(dname, how, variance, "mean", "api00", paste0("sch.wide=", b$sch.wide[i]), b$api00[i], b$se[i])
  p <- svymean(~comp.imp, d)
  for (lv in c("No", "Yes")) {
    k <- which(names(coef(p)) == paste0("comp.imp", lv))  # SE() of a replicate design has no names
    add(dname, how, variance, "proportion", paste0("comp.imp=", lv), NULL, coef(p)[k], SE(p)[k])
  }
}
for (dname in c("clus1", "strat")) {
  for (how in c("none", "ps", "rake", "rake_tight", "linear", "linear_bounded", "raking", "logit", "trim")) {
    if (how == "trim" && dname == "clus1") next
    record(weighting(bases[[dname]], how), dname, how, "taylor")
  }
}
# replicate designs: replicate factors from the PSUs, calibrated again in every replicate
reps <- list(clus1 = c("JK1"), pairs = c("JKn", "BRR", "Fay"))
for (dname in names(reps)) {
  for (type in reps[[dname]]) {
    rd <- if (type == "Fay") as.svrepdesign(bases[[dname]], type = "Fay", fay.rho = 0.3)
          else as.svrepdesign(bases[[dname]], type = type)
    hows <- if (dname == "clus1") c("none", "ps", "rake", "rake_tight", "linear") else c("none", "ps", "linear")
    for (how in hows) record(weighting(rd, how), dname, how, tolower(type))
  }
}
# R's own bootstrap replicate weights, exported as columns: digifit must reproduce the SE exactly
set.seed(20261126)
bd <- as.svrepdesign(bases$clus1, type = "bootstrap", replicates = 50)
rw <- weights(bd, "analysis")
colnames(rw) <- sprintf("boot_%02d", seq_len(ncol(rw)))
write.csv(cbind(apiclus1, rw), file.path(out, "apiclus1_boot.csv"), row.names = FALSE, na = "")
bs <- svrepdesign(data = cbind(apiclus1, rw), repweights = "boot_[0-9]+", weights = ~pw, type = "bootstrap",
                  combined.weights = TRUE)
record(bs, "clus1_boot", "none", "supplied")
cat(sprintf('{"survey": "%s", "cases": [\n%s\n]}\n', as.character(packageVersion("survey")),
            paste(unlist(cases), collapse = ",\n")), file = file.path(out, "weighting.json"))
