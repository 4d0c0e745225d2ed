"""``digifit estimate``: the statistics core on the command line.

The ``estimate`` options and its ``--json`` shape are a contract other tools rely on: extend, never rename.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from digifit.errors import DigifitError

CI_METHOD_CHOICES = ("wald", "t", "logit", "likelihood", "asin", "beta", "mean", "xlogit", "wilson")
LONELY_CHOICES = ("fail", "remove", "certainty", "adjust", "average")
ENGINE_CHOICES = ("duckdb", "spark")  # digifit.stats.backends.ENGINES (not imported here: it loads Ibis)
_ENGINE = "digifit.engine"  # click context meta key: --engine reaches build_design without a parameter
_WEIGHTING = "digifit.weighting"  # click context meta key: weighting and variance options, for build_design
_NA_VALUES = "digifit.na_values"  # click context meta key: --na-values, for build_design
VARIANCE_CHOICES = ("taylor", "jk1", "jkn", "brr", "fay", "bootstrap")
CALFUN_CHOICES = ("linear", "raking", "logit")


class UserError(click.ClickException):
    """A user error: one line on stderr, exit status 2, no traceback."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"digifit: error: {self.format_message()}", err=True)


def run_user_code(func: Callable[[], Any]) -> Any:
    """Run ``func``; turn digifit and engine errors into one-line :class:`UserError`.

    pyarrow is first told there is no pandas (:func:`digifit.cli.lean.pyarrow_without_pandas`).
    """
    from digifit.cli.lean import pyarrow_without_pandas

    pyarrow_without_pandas()
    try:
        return func()
    except DigifitError as exc:
        raise UserError(str(exc)) from None
    except Exception as exc:  # engine errors (unreadable file, bad CSV) are user errors too
        module = type(exc).__module__
        if module.startswith(("duckdb", "ibis", "pyarrow", "_duckdb", "pyspark", "py4j")):
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise UserError(f"the data could not be read: {first}") from None
        raise


def _split_columns(value: str | None) -> list[str] | None:
    if value is None:
        return None
    cols = [c.strip() for c in value.split(",")]
    if not all(cols):
        raise UserError(f"malformed column list {value!r}; expected COL[,COL...] without empty names.")
    return cols


def _pair(value: str, option: str, what: str) -> tuple[str, str]:
    left, sep, right = value.rpartition(":")
    if not sep or not left or not right:
        raise UserError(f"{option} {value!r} is malformed; expected {what}.")
    return left, right


def design_options(func: Callable) -> Callable:
    """Attach the design options shared by every statistics command."""
    options = [
        click.option("--weights", metavar="COL", help="Weight column (default: implied by --fpc, else 1)."),
        click.option("--strata", metavar="COL", help="Stratum column."),
        click.option("--ids", metavar="COL[,COL…]", help="Cluster id column per stage (default: rows are PSUs)."),
        click.option("--fpc", metavar="COL[,COL…]", help="Population size or sampling fraction per stage."),
        click.option(
            "--lonely-psu",
            type=click.Choice(LONELY_CHOICES),
            default="fail",
            show_default=True,
            help="Policy for strata with one PSU (R's survey.lonely.psu).",
        ),
        click.option(
            "--nest",
            is_flag=True,
            expose_value=False,
            help="Cluster ids are nested within strata (always so; accepted as R's nest=TRUE).",
        ),
        click.option(
            "--na-values",
            metavar="V[,V…]",
            multiple=True,
            expose_value=False,
            callback=_remember_na_values,
            help="Values read as missing besides NA and the empty field (e.g. -99 or .); repeatable.",
        ),
        click.option(
            "--engine",
            type=click.Choice(ENGINE_CHOICES),
            default="duckdb",
            show_default=True,
            envvar="DIGIFIT_ENGINE",
            expose_value=False,
            callback=_remember_engine,
            help="Engine that reads DATA: in-process DuckDB, or Spark (master from DIGIFIT_SPARK_MASTER, "
            "default local[2]; see docs/scale-out.md).",
        ),
    ]
    options += _weighting_options()
    for option in reversed(options):
        func = option(func)
    return func


def _weighting_options() -> list[Callable]:
    """Weighting (calibration) and variance options; build_design applies them, so every command has them."""

    def remember(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        ctx.meta.setdefault(_WEIGHTING, {})[param.name] = value
        return value

    def opt(*decls: str, **kw: Any) -> Callable:
        return click.option(*decls, expose_value=False, callback=remember, **kw)

    return [
        opt(
            "--variance",
            type=click.Choice(VARIANCE_CHOICES),
            default="taylor",
            show_default=True,
            help="Variance method: Taylor linearisation or replicates built from the PSUs "
            "(bootstrap = Rao-Wu rescaling).",
        ),
        opt("--replicates", type=int, help="Bootstrap replicates (default 50); BRR/Fay: Hadamard order."),
        opt("--seed", type=int, help="Seed of the bootstrap draws."),
        opt("--fay-rho", type=float, default=0.0, help="Fay's rho (with --variance fay)."),
        opt("--repweights", metavar="REGEX", help="Replicate-weight columns supplied with the data (a regex)."),
        opt("--rep-type", metavar="TYPE", help="Type of the --repweights (R's svrepdesign types: JK1, BRR, ...)."),
        opt("--scale", type=float, help="Variance scale of the --repweights (default as R per type)."),
        opt("--rscales", metavar="R[,R…]", help="Per-replicate scales of the --repweights."),
        opt("--mse", is_flag=True, help="Centre replicates on the full-sample estimate."),
        opt(
            "--poststratify",
            metavar="COL[,COL]=FILE.csv",
            help="Post-stratify to the counts in FILE.csv (level column(s) and Freq, as R).",
        ),
        opt(
            "--rake",
            multiple=True,
            metavar="COL[,COL]=FILE.csv",
            help="Rake to this margin (repeatable; level column(s) and Freq).",
        ),
        opt(
            "--strict-margins",
            is_flag=True,
            help="With --rake: a margin level without responses is an error (default: merge it into its "
            "neighbouring level and say so).",
        ),
        opt("--ordered", metavar="COL[,COL]", help="With --rake: columns whose levels are ordered (e.g. size)."),
        opt("--calibrate", metavar="COL+COL…", help="Calibrate to the totals of these columns (with --totals)."),
        opt("--totals", "cal_totals", type=click.Path(dir_okay=False), help="JSON population totals for --calibrate."),
        opt(
            "--calfun",
            type=click.Choice(CALFUN_CHOICES),
            default="linear",
            show_default=True,
            help="Calibration distance.",
        ),
        opt("--bounds", metavar="L,U", help="Bounds on the weight ratio g (calibration)."),
        opt("--max-iter", type=int, help="Maximum calibration iterations (rake default 100, calibrate 50)."),
        opt(
            "--epsilon",
            type=float,
            help="Calibration convergence tolerance (calibrate default 1e-7; with --rake as --rake-epsilon).",
        ),
        opt(
            "--rake-epsilon",
            type=float,
            help="With --rake: R's convergence rule, stop when no cell changes by more than this in a pass (below "
            "1: a fraction of the total weight). Default: iterate until every margin matches to 1e-10. "
            "R's defaults are --rake-epsilon 1 --rake-maxit 10.",
        ),
        opt("--rake-maxit", type=int, help="With --rake: most passes over the margins (default 100; R's 10)."),
    ]


def _margin(value: str, option: str) -> tuple[list[str], str]:
    cols, sep, path = value.partition("=")
    if not sep or not cols or not path:
        raise UserError(f"{option} {value!r} is malformed; expected COL[,COL]=FILE.csv.")
    return _split_columns(cols), path


def apply_weighting(d, options: dict[str, Any]):
    """Apply the command line's calibration and variance options to a design (errors become UserError)."""
    from digifit import stats

    o = {k: v for k, v in options.items() if v not in (None, (), False)}
    iters = {k: o[k] for k in ("max_iter", "epsilon") if k in o}
    rake_iters = dict(iters)
    for own, general in (("rake_maxit", "max_iter"), ("rake_epsilon", "epsilon")):
        if own not in o:
            continue
        if "rake" not in o:
            raise UserError(f"--{own.replace('_', '-')} needs --rake COL=FILE.csv.")
        if general in o and o[general] != o[own]:
            raise UserError(
                f"--{general.replace('_', '-')} {o[general]!r} and --{own.replace('_', '-')} {o[own]!r} disagree; "
                f"give --{own.replace('_', '-')} only."
            )
        rake_iters[general] = o[own]
    chosen = [k for k in ("poststratify", "rake", "calibrate") if k in o]
    if len(chosen) > 1:
        raise UserError(f"--{chosen[0]} and --{chosen[1]} cannot be combined: calibrate once, to all margins.")
    if "cal_totals" in o and "calibrate" not in o:
        raise UserError("--totals needs --calibrate COL+COL…")
    if "poststratify" in o:
        cols, path = _margin(o["poststratify"], "--poststratify")
        d = stats.poststratify(d, cols, path)
    elif "rake" in o:
        margins = [(tuple(c), path) for c, path in (_margin(m, "--rake") for m in o["rake"])]
        ordered = _split_columns(o["ordered"]) if "ordered" in o else ()
        d = stats.rake(
            d, margins, empty_levels="fail" if o.get("strict_margins") else "collapse", ordered=ordered, **rake_iters
        )
        for note in d.calibration.collapsed:
            click.echo(f"note: {note}", err=True)
    elif "calibrate" in o:
        terms = [t.strip() for t in o["calibrate"].split("+")]
        if not all(terms):
            raise UserError(f"--calibrate {o['calibrate']!r} is malformed; expected COL+COL…")
        if "cal_totals" not in o:
            raise UserError("--calibrate needs --totals FILE.json (population totals).")
        try:
            totals = json.loads(Path(o["cal_totals"]).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UserError(f"--totals {o['totals']!r} is not a readable JSON file ({exc}).") from None
        if not isinstance(totals, dict):
            raise UserError(f"--totals {o['totals']!r}: expected a JSON object of column -> total(s).")
        bounds = (float("-inf"), float("inf"))
        if "bounds" in o:
            try:
                lo, hi = (float(x) for x in o["bounds"].split(","))
            except ValueError:
                raise UserError(f"--bounds {o['bounds']!r} is malformed; expected L,U (e.g. 0.5,2).") from None
            bounds = (lo, hi)
        d = stats.calibrate(d, terms, totals, calfun=o.get("calfun", "linear"), bounds=bounds, **iters)
    elif "bounds" in o:
        raise UserError("--bounds needs --calibrate.")
    variance = o.get("variance", "taylor")
    if variance != "taylor":
        d = stats.as_replicate(
            d,
            variance,
            replicates=o.get("replicates"),
            seed=o.get("seed"),
            fay_rho=o.get("fay_rho", 0.0),
            mse=bool(o.get("mse")),
        )
    elif "replicates" in o or "seed" in o:
        raise UserError("--replicates and --seed need --variance (jk1, jkn, brr, fay or bootstrap).")
    return d


def _remember_na_values(ctx: click.Context, _param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    ctx.meta[_NA_VALUES] = tuple(v for item in value for v in item.split(","))
    return value


def _remember_engine(ctx: click.Context, _param: click.Parameter, value: str) -> str:
    ctx.meta[_ENGINE] = value
    return value


def build_design(data: str, weights, strata, ids, fpc, lonely_psu, engine: str | None = None):
    """Build the command's design; ``engine`` defaults to the ``--engine`` option of the running command."""
    from digifit import stats

    ctx = click.get_current_context(silent=True)
    if engine is None:
        engine = ctx.meta.get(_ENGINE, "duckdb") if ctx is not None else "duckdb"
    options = dict(ctx.meta.get(_WEIGHTING, {})) if ctx is not None else {}
    rep = {}
    if options.get("repweights"):
        rscales = options.get("rscales")
        try:
            rscales = [float(x) for x in rscales.split(",")] if rscales else None
        except ValueError:
            raise UserError(f"--rscales {options['rscales']!r} is malformed; expected numbers R[,R…].") from None
        rep = {
            "repweights": options.pop("repweights"),
            "rep_type": options.get("rep_type"),
            "scale": options.get("scale"),
            "rscales": rscales,
            "mse": bool(options.get("mse")),
        }
        if options.get("variance", "taylor") != "taylor":
            raise UserError("--repweights and --variance cannot be combined: the columns are the replicates.")
    elif options.get("rep_type") or options.get("scale") or options.get("rscales"):
        raise UserError("--rep-type, --scale and --rscales describe --repweights; give --repweights REGEX.")
    d = stats.design(
        data,
        weights=weights,
        strata=strata,
        ids=_split_columns(ids),
        fpc=_split_columns(fpc),
        lonely_psu=lonely_psu,
        validate=False,  # checked in the estimate's own aggregation: one pass over the data
        engine=engine,
        na_values=(ctx.meta.get(_NA_VALUES) or None) if ctx is not None else None,
        **rep,
    )
    return apply_weighting(d, options)


@click.command()
@click.argument("data", type=click.Path(dir_okay=True, path_type=str))
@design_options
@click.option("--mean", "means", multiple=True, metavar="COL", help="Estimate the mean of COL (repeatable).")
@click.option(
    "--total",
    "totals",
    multiple=True,
    metavar="COL",
    help="Estimate the total of COL (repeatable); of a text column, the total of every level.",
)
@click.option(
    "--categorical",
    metavar="COL[,COL…]",
    help="Number columns whose --total is per level (codes as categories, R's factor()).",
)
@click.option(
    "--proportion",
    "proportions",
    multiple=True,
    metavar="COL",
    help="Estimate the share of every level of COL.",
)
@click.option("--ratio", "ratios", multiple=True, metavar="NUM:DEN", help="Estimate the ratio of two totals.")
@click.option("--quantile", "quantiles", multiple=True, metavar="COL:P", help="Estimate quantile P of COL.")
@click.option("--by", metavar="COL[,COL…]", help="Estimate in every domain of these columns.")
@click.option(
    "--ci-method",
    type=click.Choice(CI_METHOD_CHOICES),
    default="wald",
    show_default=True,
    help="Confidence interval method (proportion methods as R's svyciprop).",
)
@click.option("--level", type=float, default=0.95, show_default=True, help="Confidence level.")
@click.option("--na-rm", is_flag=True, help="Leave out rows with a missing analysis value.")
@click.option("--json", "as_json", is_flag=True, help="Print the estimates as JSON.")
def estimate(
    data: str,
    weights: str | None,
    strata: str | None,
    ids: str | None,
    fpc: str | None,
    lonely_psu: str,
    means: tuple[str, ...],
    totals: tuple[str, ...],
    categorical: str | None,
    proportions: tuple[str, ...],
    ratios: tuple[str, ...],
    quantiles: tuple[str, ...],
    by: str | None,
    ci_method: str,
    level: float,
    na_rm: bool,
    as_json: bool,
) -> None:
    """Estimate means, totals, proportions, ratios and quantiles from a survey DATA file.

    DATA is a Parquet or CSV file. Standard errors are Taylor-linearised as R's survey package computes
    them; cluster ids are nested within strata. Example:

        digifit estimate wave.parquet --weights weight --strata stratum --ids psu --proportion online --by country
    """
    if not (means or totals or proportions or ratios or quantiles):
        raise UserError("nothing to estimate; give at least one of --mean, --total, --proportion, --ratio, --quantile.")
    if not 0 < level < 1:
        raise UserError(f"--level must be between 0 and 1; got {level!r}.")
    by_cols = _split_columns(by)
    ratio_pairs = [_pair(r, "--ratio", "NUM:DEN") for r in ratios]
    if categorical and not totals:
        raise UserError("--categorical names columns of --total; give --total COL too.")
    quantile_pairs = []
    for q in quantiles:
        col, p = _pair(q, "--quantile", "COL:P with P between 0 and 1")
        try:
            probs = [float(x) for x in p.split(",")]
        except ValueError:
            raise UserError(
                f"--quantile {q!r}: {p!r} is not a probability; expected COL:P, e.g. revenue:0.5."
            ) from None
        quantile_pairs.append((col, probs))

    def compute():
        from digifit import stats

        d = build_design(data, weights, strata, ids, fpc, lonely_psu)
        results = stats.Estimates(())
        opts = {"by": by_cols, "na_rm": na_rm, "level": level}
        if means:
            results += stats.mean(d, list(means), ci_method=ci_method, **opts)
        if totals:
            cats = _split_columns(categorical)
            results += stats.total(
                d,
                list(totals),
                ci_method=_linear_method(ci_method, "--total"),
                categorical=cats if cats else None,
                **opts,
            )
        for col in proportions:
            results += stats.proportion(d, col, ci_method=ci_method, **opts)
        for num, den in ratio_pairs:
            results += stats.ratio(d, num, den, ci_method=_linear_method(ci_method, "--ratio"), **opts)
        for col, probs in quantile_pairs:
            results += stats.quantile(d, col, probs, **opts)
        return results

    results = run_user_code(compute)
    if as_json:
        click.echo(json.dumps({"estimates": [_contract_row(r) for r in results]}, ensure_ascii=False))
    else:
        click.echo(repr(results))


def _linear_method(ci_method: str, option: str) -> str:
    if ci_method in ("wald", "t"):
        return ci_method
    raise UserError(f"--ci-method {ci_method} is for proportions (and means of 0/1 variables), not {option}.")


def _contract_row(row) -> dict[str, Any]:
    d = row.to_dict()
    return {
        k: d[k]
        for k in (
            "statistic",
            "variable",
            "level",
            "domain",
            "estimate",
            "se",
            "ci_low",
            "ci_high",
            "df",
            "n",
            "deff",
        )
    }


@click.command()
@click.argument("data", type=click.Path(dir_okay=True, path_type=str))
@design_options
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Parquet file to write: the data with the final weight (and replicate weights).",
)
@click.option("--name", default="weight", show_default=True, help="Name of the weight column.")
@click.option("--replicate-weights", is_flag=True, help="Also write one column per replicate (repw_1, ...).")
def weight(
    data: str,
    weights: str | None,
    strata: str | None,
    ids: str | None,
    fpc: str | None,
    lonely_psu: str,
    out: Path,
    name: str,
    replicate_weights: bool,
) -> None:
    """Write DATA with its calibrated weight (post-stratified, raked or calibrated) to a Parquet file.

    Example:

        digifit weight wave.parquet --weights w --rake country=countries.csv --rake sector=sectors.csv --out w.parquet
    """

    def compute():
        from digifit.stats.export import write_weights

        d = build_design(data, weights, strata, ids, fpc, lonely_psu)
        return write_weights(d, out, name=name, replicate_weights=replicate_weights)

    path = run_user_code(compute)
    click.echo(f"wrote {path}")
