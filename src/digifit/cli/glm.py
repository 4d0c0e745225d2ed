"""``digifit glm``: a design-based regression (R's ``svyglm``) on the command line.

Its ``--json`` shape is a contract: ``{"coefficients": [{"term", "estimate", "se", "df", "t", "p", "ci_low",
"ci_high"}]}`` with R's term names; extend, never rename.
"""

from __future__ import annotations

import json

import click

from digifit.cli.stats import UserError, build_design, design_options, run_user_code

FAMILY_CHOICES = ("gaussian", "quasibinomial")


@click.command()
@click.argument("data", type=click.Path(dir_okay=True, path_type=str))
@click.argument("formula")
@click.option(
    "--family",
    type=click.Choice(FAMILY_CHOICES),
    default="gaussian",
    show_default=True,
    help="gaussian: linear regression; quasibinomial: logistic regression of a 0/1 or two-level outcome.",
)
@design_options
@click.option("--level", type=float, default=0.95, show_default=True, help="Confidence level of the intervals.")
@click.option("--na-rm", is_flag=True, help="Leave out rows with a missing value in a model column.")
@click.option("--json", "as_json", is_flag=True, help="Print the coefficient table as JSON.")
def glm(
    data: str,
    formula: str,
    family: str,
    weights: str | None,
    strata: str | None,
    ids: str | None,
    fpc: str | None,
    lonely_psu: str,
    level: float,
    na_rm: bool,
    as_json: bool,
) -> None:
    """Fit a design-based regression of FORMULA on a survey DATA file (R's svyglm).

    FORMULA is "y ~ x1 + x2 + x1:x2" (also a*b, "- 1" or "+ 0" to drop the intercept). String and boolean
    columns are categorical (treatment contrasts against the first sorted level); a quasibinomial outcome is
    0/1, boolean, or two-level text, modelling the second sorted level. Standard errors are Taylor-linearised
    sandwich SEs (with --variance or --repweights: replicate refits; after --poststratify/--rake/--calibrate:
    the calibration residuals), as R; t tests use the design df plus one minus the coefficients. --max-iter and
    --epsilon are the calibration's; the IRLS uses R's glm.control defaults (25 iterations, 1e-8). Example:

    \b
        digifit glm wave.parquet "online ~ size + sector" --family quasibinomial \\
            --weights weight --strata stratum --ids psu
    """
    if not 0 < level < 1:
        raise UserError(f"--level must be between 0 and 1; got {level!r}.")

    def compute():
        from digifit import stats

        d = build_design(data, weights, strata, ids, fpc, lonely_psu)
        return stats.glm(d, formula, family=family, na_rm=na_rm, level=level)

    result = run_user_code(compute)
    if as_json:
        click.echo(json.dumps({"coefficients": result.to_dicts()}, ensure_ascii=False))
    else:
        click.echo(repr(result))
