# R survey peer: the by-country proportion online with Taylor SE, on a data.frame already in memory.
#
#   Rscript benchmarks/r_survey.R FILE.csv REPEATS
#
# Reading the CSV (data.table::fread; Debian has no r-cran-arrow) is not timed. Each repeat times
# svydesign() + svyby(~factor(online), ~country, d, svymean). Prints one JSON object.
suppressPackageStartupMessages({
  library(survey)
  library(data.table)
  library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
repeats <- if (length(args) > 1) as.integer(args[2]) else 3L

load_time <- system.time(df <- as.data.frame(fread(args[1], select = c("stratum", "psu", "country", "weight", "online"))))[["elapsed"]]

times <- numeric(repeats)
for (i in seq_len(repeats)) {
  gc()
  times[i] <- system.time({
    d <- svydesign(ids = ~psu, strata = ~stratum, weights = ~weight, data = df, nest = TRUE)
    r <- svyby(~factor(online), ~country, d, svymean)
  })[["elapsed"]]
}

cat(toJSON(list(
  tool = "R survey",
  version = as.character(packageVersion("survey")),
  r_version = paste(R.version$major, R.version$minor, sep = "."),
  rows = nrow(df),
  load_seconds = load_time,
  seconds = times,
  estimates = data.frame(
    country = as.character(r$country),
    estimate = unname(r[["factor(online)1"]]),
    se = unname(SE(r)[, "se.factor(online)1"])
  )
), auto_unbox = TRUE, digits = NA), "\n")
