"""``digifit estimate`` (and the interim ``digifit demo``): the statistics core on the command line.

The ``estimate`` options and its ``--json`` shape are a contract other tools rely on: extend, never rename.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from digifit.errors import DigifitError

CI_METHOD_CHOICES = ("wald", "t", "logit", "likelihood", "asin", "beta", "mean", "xlogit", "wilson")
LONELY_CHOICES = ("fail", "remove", "certainty", "adjust", "average")
ENGINE_CHOICES = ("duckdb", "spark")  # digifit.stats.backends.ENGINES (not imported here: it loads Ibis)
_ENGINE = "digifit.engine"  # click context meta key: --engine reaches build_design without a parameter


class UserError(click.ClickException):
    """A user error: one line on stderr, exit status 2, no traceback."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"digifit: error: {self.format_message()}", err=True)


def run_user_code(func: Callable[[], Any]) -> Any:
    """Run ``func``; turn digifit and engine errors into one-line :class:`UserError`."""
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
        click.option(
            "--ids", metavar="COL[,COL…]", help="Cluster id column per stage (default: rows are PSUs)."
        ),
        click.option("--fpc", metavar="COL[,COL…]", help="Population size or sampling fraction per stage."),
        click.option(
            "--lonely-psu",
            type=click.Choice(LONELY_CHOICES),
            default="fail",
            show_default=True,
            help="Policy for strata with one PSU (R's survey.lonely.psu).",
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
    for option in reversed(options):
        func = option(func)
    return func


def _remember_engine(ctx: click.Context, _param: click.Parameter, value: str) -> str:
    ctx.meta[_ENGINE] = value
    return value


def build_design(data: str, weights, strata, ids, fpc, lonely_psu, engine: str | None = None):
    """Build the command's design; ``engine`` defaults to the ``--engine`` option of the running command."""
    from digifit import stats

    if engine is None:
        ctx = click.get_current_context(silent=True)
        engine = ctx.meta.get(_ENGINE, "duckdb") if ctx is not None else "duckdb"
    return stats.design(
        data,
        weights=weights,
        strata=strata,
        ids=_split_columns(ids),
        fpc=_split_columns(fpc),
        lonely_psu=lonely_psu,
        validate=False,  # checked in the estimate's own aggregation: one pass over the data
        engine=engine,
    )


@click.command()
@click.argument("data", type=click.Path(dir_okay=True, path_type=str))
@design_options
@click.option("--mean", "means", multiple=True, metavar="COL", help="Estimate the mean of COL (repeatable).")
@click.option(
    "--total", "totals", multiple=True, metavar="COL", help="Estimate the total of COL (repeatable)."
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
        raise UserError(
            "nothing to estimate; give at least one of --mean, --total, --proportion, --ratio, --quantile."
        )
    if not 0 < level < 1:
        raise UserError(f"--level must be between 0 and 1; got {level!r}.")
    by_cols = _split_columns(by)
    ratio_pairs = [_pair(r, "--ratio", "NUM:DEN") for r in ratios]
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
            results += stats.total(d, list(totals), ci_method=_linear_method(ci_method, "--total"), **opts)
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
@click.option("--rows", type=int, default=20_000, show_default=True, help="Rows in the synthetic wave.")
@click.option(
    "--out", type=click.Path(path_type=Path), default=None, help="Where to write the wave (Parquet)."
)
def demo(rows: int, out: Path | None) -> None:
    """Generate a synthetic business survey wave and print its headline estimates.

    Interim demo: it grows into the dashboard as the web platform lands.
    """
    from digifit import stats
    from digifit.demo.synthetic import stratified_cluster_sample

    out = out or Path("var") / "demo" / "wave.parquet"
    out.parent.mkdir(parents=True, exist_ok=True)
    stratified_cluster_sample(rows, seed=42, path=out)
    click.echo(f"wrote a synthetic wave of {rows:,} businesses to {out}\n")

    def compute():
        d = stats.design(str(out), weights="weight", strata="stratum", ids="psu", fpc="fpc")
        return stats.proportion(d, "online", by="country", ci_method="logit"), stats.mean(
            d, "revenue_change", by="country"
        )

    share, change = run_user_code(compute)
    click.echo("Share of businesses online, by country (Taylor SE, logit 95% CI):")
    for e in share:
        if e.level == 1:
            click.echo(
                f"  {e.domain['country']}: {e.estimate:6.1%}  [{e.ci_low:6.1%}, {e.ci_high:6.1%}]  "
                f"n={e.n:,}  deff={e.deff:.2f}"
            )
    click.echo("\nMean revenue change (%), by country:")
    for e in change:
        click.echo(
            f"  {e.domain['country']}: {e.estimate:6.2f}  [{e.ci_low:6.2f}, {e.ci_high:6.2f}]  n={e.n:,}"
        )
    click.echo(
        f"\nTry: digifit estimate {out} --weights weight --strata stratum --ids psu --fpc fpc "
        "--proportion online --by country"
    )
    sys.stdout.flush()
