"""``digifit report``: the headline report of a wave as HTML, PDF or XLSX.

The options are a contract (the web app's background task and scripts use them): extend, never rename.
"""

from __future__ import annotations

from pathlib import Path

import click

from digifit.cli.stats import UserError, run_user_code

FORMATS = ("html", "pdf", "xlsx")
LANGS = ("de", "en")


@click.command()
@click.argument("wave", metavar="WAVE")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default=None,
    help="Output format; default: from the --out suffix (html when there is none).",
)
@click.option("--lang", type=click.Choice(LANGS), default="de", show_default=True, help="Report language.")
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False),
    default=None,
    help="Output file; default: report.<format> in the current folder. '-' writes HTML to stdout.",
)
@click.option("--min-n", type=int, default=30, show_default=True, help="Suppress cells with fewer responses than this.")
@click.option(
    "--max-cv",
    type=float,
    default=0.30,
    show_default=True,
    help="Flag cells whose coefficient of variation is above this.",
)
@click.option(
    "--margins",
    "margins",
    type=click.Path(),
    default=None,
    help="The population margins (required): a CSV file of the format the margins page takes (the variables and "
    "Freq), or a folder with enterprises_country_size.csv and enterprises_sector.csv.",
)
@click.option(
    "--margins-source",
    default="",
    help="Where the margins come from, for the weighting note (default: the file or folder name).",
)
@click.option(
    "--form",
    "form",
    type=click.Path(dir_okay=False),
    default=None,
    help="The XLSForm the snapshot's questionnaire version was built from: its choice labels name the countries, "
    "sectors and size classes (default: the codes).",
)
def report(wave: str, fmt: str | None, lang: str, out: str | None, min_n: int, max_cv: float,
           margins: str | None, margins_source: str, form: str | None) -> None:  # fmt: skip
    """Write the headline report of WAVE: a Parquet wave snapshot (``digifit snapshot``, or demo waves),
    weighted to the population margins given with ``--margins`` and labelled from ``--form``.

    The tables: sample and method, the share with at least 25 % digital revenue by country (with CI, n, CV and
    reliability marks), by sector, by size, online before the crisis vs not (with the difference and its CI),
    and unweighted vs weighted. The web app's report task takes a wave id instead of a path; the options are
    the same.
    """
    if fmt is None:
        suffix = Path(out).suffix.lower().lstrip(".") if out and out != "-" else ""
        fmt = suffix if suffix in FORMATS else "html"
    if out == "-" and fmt != "html":
        raise UserError(f"--out - (stdout) is only for --format html; got --format {fmt}.")
    if min_n < 1:
        raise UserError(f"--min-n must be at least 1; got {min_n}.")
    if not max_cv > 0:
        raise UserError(f"--max-cv must be positive; got {max_cv}.")
    if margins is None:
        raise UserError(
            "--margins is required: a CSV file with the population counts (the variables and Freq), or a folder "
            "with enterprises_country_size.csv and enterprises_sector.csv."
        )
    if not Path(margins).exists():
        raise UserError(f"--margins {margins!r}: no such file or folder.")
    target = out or f"report.{fmt}"

    def run() -> str:
        from digifit.reports.headline import headline_report

        kw: dict = {"margins_source": margins_source or Path(margins).name}
        if Path(margins).is_dir():
            kw["margins_dir"] = margins
        else:
            from digifit.survey.margins import margins_parse

            kw["margins"] = margins_parse(Path(margins).read_bytes())
        if form is not None:
            from digifit.forms import load_xlsform
            from digifit.reports.locale import labels_from_form

            kw["labels"] = labels_from_form(load_xlsform(Path(form)))
        rep = headline_report(wave, min_n=min_n, max_cv=max_cv, **kw)
        if fmt == "html":
            from digifit.reports.render_html import render_html

            html = render_html(rep, lang)
            if target == "-":
                click.echo(html)
                return target
            Path(target).write_text(html, encoding="utf-8")
        elif fmt == "pdf":
            from digifit.reports.render_pdf import render_pdf

            render_pdf(rep, lang, target)
        else:
            from digifit.reports.render_xlsx import render_xlsx

            render_xlsx(rep, lang, target)
        return target

    try:
        written = run_user_code(run)
    except OSError as exc:
        raise UserError(f"cannot write {target!r}: {exc.strerror or exc}") from None
    if written != "-":
        click.echo(f"wrote {written}", err=True)
