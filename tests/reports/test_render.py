"""The rendered report, checked as a reader would: text of the PDF, its first page as an image, the workbook."""

from __future__ import annotations

import shutil
import subprocess

import openpyxl
import pytest
from click.testing import CliRunner
from demo_inputs import DEMO, MARGINS_DIR

from digifit.cli import main
from digifit.reports.charts import headline_chart, to_svg
from digifit.reports.headline import headline_report
from digifit.reports.locale import STRINGS, fmt_ci, fmt_pct, fmt_pp, level_label
from digifit.reports.render_html import render_html
from digifit.reports.render_pdf import render_pdf
from digifit.reports.render_xlsx import render_xlsx

needs_poppler = pytest.mark.skipif(
    shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
    reason="poppler-utils (pdftotext, pdftoppm) not installed; `make test` installs them",
)


def test_both_languages_have_every_string():
    assert set(STRINGS["de"]) == set(STRINGS["en"])


def test_number_formats():
    assert fmt_pct(0.3301, "de") == "33,0 %"
    assert fmt_pct(0.3301, "en") == "33.0%"
    assert fmt_pp(-0.0881, "de") == "−8,8"
    assert fmt_pp(0.05, "en") == "+5.0"
    assert fmt_ci(0.30642, 0.35469, "de") == "30,6–35,5"


def test_html_german_and_english(demo_report):
    de = render_html(demo_report, "de")
    en = render_html(demo_report, "en")
    de_line = demo_report.line("headline", "DE").estimate
    assert fmt_pct(de_line.estimate, "de") in de and "Deutschland" in de
    assert fmt_pct(de_line.estimate, "en") in en and "Germany" in en
    assert de.count("<svg") == 2 and "<link" not in de and "<script" not in de  # self-contained
    assert "Kernergebnis" in de and "Headline" in en


@needs_poppler
def test_pdf_text_and_first_page(demo_report, tmp_path):
    pdf = tmp_path / "bericht.pdf"
    render_pdf(demo_report, "de", pdf)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    for country in ("DE", "FR", "UK"):
        e = demo_report.line("headline", country).estimate
        assert fmt_pct(e.estimate, "de") in text, country
        assert fmt_ci(e.ci_low, e.ci_high, "de") in text, country
    diff = next(c for c in demo_report.online if c.indicator == "loss25").difference.estimate
    assert fmt_pp(diff.estimate, "de") in text
    assert "Vereinigtes Königreich" in text and "95 %-KI" in text
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    structure = subprocess.run(["pdfinfo", "-struct", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "Tagged:          yes" in info  # PDF/UA-1 (BITV 2.0 / EN 301 549): tagged for screen readers
    assert "H1" in structure and "Table" in structure
    subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "p")], check=True)
    page = next(tmp_path.glob("p-*1.png"))
    assert page.stat().st_size > 20_000  # a rendered page with text and a chart, not a blank one
    from PIL import Image  # pulled in by WeasyPrint

    with Image.open(page) as im:
        assert im.size[0] > 300 and im.size[1] > 400
        colours = im.convert("RGB").getcolors(maxcolors=1_000_000)
        assert colours is not None and len(colours) > 50


def test_xlsx_numbers_are_numbers(demo_report, tmp_path):
    path = tmp_path / "bericht.xlsx"
    render_xlsx(demo_report, "de", path)
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Land", "Online vor der Krise", "Branche", "Größenklasse", "Gewichtung", "Stichprobe",
                             "Rand Land × Größe", "Rand Branche", "Hinweise"]  # fmt: skip
    cs = list(wb["Rand Land × Größe"].iter_rows(min_row=2, values_only=True))
    assert cs[0][:5] == ("Land", "0–9 Beschäftigte", "10–49 Beschäftigte", "50–249 Beschäftigte",
                         "250 und mehr Beschäftigte")  # fmt: skip
    assert cs[1][:5] == ("Deutschland", 2_135_000, 375_000, 74_000, 16_000)
    assert sum(sum(r[1:5]) for r in cs[1:]) == 18_600_000
    assert sum(r[1] for r in wb["Rand Branche"].iter_rows(min_row=3, values_only=True)) == 18_600_000
    ws = wb["Land"]
    header = [c.value for c in ws[2]]
    assert header[:6] == ["Land", "Anteil", "95 %-KI: untere Grenze", "95 %-KI: obere Grenze", "n", "VK"]
    rows = {r[0].value: r for r in ws.iter_rows(min_row=3)}
    e = demo_report.line("headline", "DE").estimate
    share, low, high, n, cv = (c for c in rows["Deutschland"][1:6])
    assert share.data_type == "n" and share.value == pytest.approx(e.estimate) and share.number_format == "0.0%"
    assert (low.value, high.value) == (pytest.approx(e.ci_low), pytest.approx(e.ci_high))
    assert isinstance(n.value, int) and n.value == e.n
    assert cv.value == pytest.approx(e.cv)
    online = wb["Online vor der Krise"]
    diff_cell = online.cell(3, [c.value for c in online[2]].index("Differenz (Pp.)") + 1)
    assert diff_cell.data_type == "n" and diff_cell.value < 0
    notes = [r[0].value for r in wb["Hinweise"].iter_rows(min_row=2) if r[0].value]
    assert any("weniger als 30 Antworten" in t for t in notes)
    assert any("Variationskoeffizient über 30 %" in t for t in notes)


def test_suppressed_and_flagged_cells_are_marked(small_snapshot, tmp_path):
    base = headline_report(small_snapshot, **DEMO)
    smallest = min(base.by_size, key=lambda ln: ln.estimate.n)
    rep = headline_report(small_snapshot, min_n=smallest.estimate.n + 1, max_cv=0.05, **DEMO)
    html = render_html(rep, "en")
    assert 'class="suppressed"' in html and 'class="flagged"' in html
    assert f"fewer than {smallest.estimate.n + 1} responses" in html
    path = tmp_path / "r.xlsx"
    render_xlsx(rep, "en", path)
    ws = openpyxl.load_workbook(path)["Size class"]
    row = next(r for r in ws.iter_rows(min_row=3) if r[0].value == "250 employees or more")
    assert row[1].value is None and row[2].value is None  # no estimate, no interval
    assert row[4].value == smallest.estimate.n and row[-1].value == "–"
    flagged = [r for r in ws.iter_rows(min_row=3) if r[-1].value == "*"]
    assert flagged and all(r[5].value > 0.05 for r in flagged)


def test_chart_spec_has_ci_error_bars(demo_report):
    spec = headline_chart(demo_report, "de")
    marks = [layer["mark"]["type"] for layer in spec["layer"]]
    assert marks == ["bar", "rule", "text"]
    assert spec["layer"][1]["encoding"]["x"]["field"] == "low" and spec["layer"][1]["encoding"]["x2"]["field"] == "high"
    svg = to_svg(spec, "de")
    assert svg.startswith("<svg") and "33,0 %" in svg


def test_cli_writes_each_format(demo_snapshot, tmp_path):
    runner = CliRunner()
    for fmt in ("html", "xlsx", "pdf"):
        out = tmp_path / f"r.{fmt}"
        result = runner.invoke(main, ["report", str(demo_snapshot), "--format", fmt, "--lang", "en", "--out", str(out),
                                      "--min-n", "30", "--margins", str(MARGINS_DIR)])  # fmt: skip
        assert result.exit_code == 0, result.output
        assert out.stat().st_size > 1000
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")


def test_cli_errors_are_one_line(tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["report", str(tmp_path / "missing.parquet"), "--out", str(tmp_path / "r.html"),
                                  "--margins", str(MARGINS_DIR)])  # fmt: skip
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0 and "does not exist" in result.output
    result = runner.invoke(main, ["report", str(tmp_path / "missing.parquet"), "--out", str(tmp_path / "r.html")])
    assert result.exit_code == 2 and "--margins is required" in result.output
    result = runner.invoke(main, ["report", "x.parquet", "--format", "pdf", "--out", "-"])
    assert result.exit_code == 2 and "stdout" in result.output
    result = runner.invoke(main, ["report", "x.parquet", "--margins", str(tmp_path)])
    assert result.exit_code == 2
    bad = tmp_path / "bad.csv"
    bad.write_text("country,size,Freq\nDE,micro,lots\n", encoding="utf-8")
    result = runner.invoke(main, ["report", "x.parquet", "--margins", str(bad)])
    assert result.exit_code == 2 and "row 2, column 'Freq'" in result.output


def test_cli_takes_a_margins_csv_and_labels_from_the_form(small_snapshot, tmp_path):
    """The margins as the analyst uploads them (one CSV file) weight exactly as the two-file folder does; the
    labels come from the XLSForm given with --form, and without it the report shows the codes."""
    from digifit.demo.questionnaire import QUESTIONNAIRE_PATH
    from digifit.demo.waves import margins_csv_bytes

    margins = tmp_path / "margins.csv"
    margins.write_bytes(margins_csv_bytes())
    runner = CliRunner()
    labelled, plain = tmp_path / "labelled.html", tmp_path / "plain.html"
    result = runner.invoke(main, ["report", str(small_snapshot), "--margins", str(margins), "--lang", "en",
                                  "--form", str(QUESTIONNAIRE_PATH), "--out", str(labelled),
                                  "--margins-source", "Office of Statistics 2021"])  # fmt: skip
    assert result.exit_code == 0, result.output
    result = runner.invoke(main, ["report", str(small_snapshot), "--margins", str(margins), "--lang", "en",
                                  "--out", str(plain)])  # fmt: skip
    assert result.exit_code == 0, result.output
    html, codes = labelled.read_text(encoding="utf-8"), plain.read_text(encoding="utf-8")
    assert "Germany" in html and "Office of Statistics 2021" in html
    assert "Germany" not in codes and ">DE<" in codes
    from_folder = headline_report(small_snapshot, **DEMO)
    from digifit.survey.margins import margins_parse

    from_csv = headline_report(small_snapshot, margins=margins_parse(margins.read_bytes()))
    assert from_csv.line("headline", "DE").estimate.estimate == from_folder.line("headline", "DE").estimate.estimate


def test_labels_follow_the_reported_form_and_language(small_snapshot):
    """A form that names Germany differently labels the report so; a language the form lacks falls back to the
    form's default language, a level it does not list shows its code."""
    labels = {"country": {"DE": {"de": "Bundesrepublik", "en": "Federal Republic"}}}
    rep = headline_report(small_snapshot, margins_dir=MARGINS_DIR, labels=labels)
    de, en = render_html(rep, "de"), render_html(rep, "en")
    assert "Bundesrepublik" in de and "Deutschland" not in de
    assert "Federal Republic" in en and "Germany" not in en
    assert level_label("country", "DE", "fr", rep.labels) == "Bundesrepublik"
    assert level_label("country", "FR", "de", rep.labels) == "FR"


FORMULAS = ['=HYPERLINK("http://x")', "+1", "-2+3", "@SUM(A1)", "\tfoo", "\rfoo"]


def test_xlsx_labels_from_the_data_never_become_formulas(demo_report, tmp_path):
    """A sector value or wave name from the answers that looks like a formula is written as quoted text."""
    import dataclasses

    lines = demo_report.by_sector
    hostile = tuple(
        dataclasses.replace(line, key=FORMULAS[i % len(FORMULAS)] + f" {i}") for i, line in enumerate(lines)
    )
    rep = dataclasses.replace(demo_report, by_sector=hostile, waves=("=1+1", *demo_report.waves))
    path = tmp_path / "r.xlsx"
    render_xlsx(rep, "en", path)
    wb = openpyxl.load_workbook(path)
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    labels = [r[0].value for r in wb["Sector"].iter_rows(min_row=3)]
    for i in range(len(lines)):
        assert f"'{FORMULAS[i % len(FORMULAS)]} {i}".replace("\r", "\n") in labels
    shares = [r[1] for r in wb["Sector"].iter_rows(min_row=3) if r[1].value is not None]
    assert shares and all(c.data_type == "n" for c in shares)  # numbers stay numbers
    notes = [r[1].value for r in wb.worksheets[-1].iter_rows() if len(r) > 1 and r[1].value]
    assert any(str(v).startswith("'=1+1") for v in notes)
