# R's variance of digifit's bootstrap replicate weights on a design without cluster ids (each row its own PSU).
# Usage: Rscript check_bootstrap_noclus.R FILE.csv SCALE [FILE.csv SCALE ...]
#   FILE.csv: the data with pw and digifit's exported replicate weights repw_1 .. repw_R (analysis weights,
#   R's combined.weights=TRUE); SCALE: the variance scale digifit uses. Prints one line per statistic:
#   file statistic domain estimate se
# Also prints R's own scale of as.svrepdesign(ids=~1 on apistrat, type "subbootstrap"/"bootstrap") and whether
# R's own factors have n_h (Canty-Davison) or n_h - 1 (Rao-Wu, rescaled to n_h) draws per stratum.
suppressMessages(library(survey))
args <- commandArgs(trailingOnly = TRUE)
for (i in seq(1, length(args), by = 2)) {
  d <- read.csv(args[i])
  rw <- d[, grep("^repw_", names(d))]
  rd <- svrepdesign(data = d, repweights = rw, weights = ~pw, type = "bootstrap", combined.weights = TRUE,
                    scale = as.numeric(args[i + 1]), rscales = 1, mse = FALSE)
  name <- basename(args[i])
  m <- svymean(~api00, rd); cat(sprintf("%s mean - %.17g %.17g\n", name, coef(m), SE(m)))
  t <- svytotal(~enroll, rd); cat(sprintf("%s total - %.17g %.17g\n", name, coef(t), SE(t)))
  b <- svyby(~api00, ~sch.wide, rd, svymean)
  for (k in seq_len(nrow(b))) cat(sprintf("%s mean %s %.17g %.17g\n", name, b$sch.wide[k], b$api00[k], b$se[k]))
}
data(api)
base <- svydesign(ids = ~1, strata = ~stype, weights = ~pw, fpc = ~fpc, data = apistrat)
for (type in c("subbootstrap", "bootstrap")) {
  set.seed(1)
  r <- as.svrepdesign(base, type = type, replicates = 20, compress = FALSE)
  f <- r$repweights
  sums <- apply(f, 2, function(col) tapply(col, apistrat$stype, sum))  # strata x replicates
  n_h <- as.vector(table(apistrat$stype))
  cat(sprintf("R %s scale %.17g rscales %.17g draws_are_n_h %s\n", type, r$scale, mean(r$rscales),
              all(abs(sums - n_h) < 1e-9)))
}
