# Reference values for tests/reports/test_difference_against_r.py: the report's design in R's survey package.
# Usage: Rscript difference_reference.R DIR   (DIR holds waves.csv, country_size.csv, sector.csv; writes r.json)
suppressPackageStartupMessages(library(survey))
args <- commandArgs(trailingOnly = TRUE)
dir <- args[1]
d <- read.csv(file.path(dir, "waves.csv"), stringsAsFactors = FALSE, na.strings = "")
cs <- read.csv(file.path(dir, "country_size.csv"), stringsAsFactors = FALSE)
sec <- read.csv(file.path(dir, "sector.csv"), stringsAsFactors = FALSE)
des <- svydesign(ids = ~biz, strata = ~country, weights = ~design_weight, data = d)
raked <- rake(des, sample.margins = list(~country + size, ~sector), population.margins = list(cs, sec),
              control = list(maxit = 100, epsilon = 1e-7))
out <- list()
for (v in c("loss25", "loss")) {
  f <- as.formula(paste0("~", v))
  by <- svyby(f, ~online_before, raked, svymean, na.rm = TRUE)
  # the difference of the two domain means is the slope of a linear svyglm on the group indicator; its sandwich
  # variance is linearised on the raked design (svyby(covmat = TRUE) + svycontrast stops on rows with NA)
  fit <- svyglm(as.formula(paste(v, "~ online_before")), design = raked, na.action = na.omit)
  out[[v]] <- list(groups = unname(coef(by)), groups_se = unname(SE(by)),
                   diff = unname(coef(fit)[2]), diff_se = unname(SE(fit)[2]),
                   naive_se = sqrt(sum(SE(by)^2)))
}
h <- svyby(~digital25, ~country, raked, svymean)
out$headline <- list(country = as.character(h$country), estimate = unname(coef(h)), se = unname(SE(h)))
# written by hand: jsonlite is not a dependency
writeLines(paste0("{",
  paste(sapply(names(out), function(k) {
    x <- out[[k]]
    paste0('"', k, '": {', paste(sapply(names(x), function(n) {
      val <- x[[n]]
      if (is.character(val)) paste0('"', n, '": [', paste0('"', val, '"', collapse = ","), "]")
      else paste0('"', n, '": [', paste(sprintf("%.17g", val), collapse = ","), "]")
    }), collapse = ", "), "}")
  }), collapse = ", "), "}"), file.path(dir, "r.json"))
