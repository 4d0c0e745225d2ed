"""The Digital-Check result as a PDF: behind the same private link, in the page's language, tagged (PDF/UA,
for screen readers), with the summary, the six dimensions and the learning path — read back with poppler's
pdftotext, as a person's PDF reader would."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from digifit.assessment.models import Assessment

from .conftest import answers

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils (pdftotext) is not installed"),
]


def _poppler(tool: list[str], pdf: bytes, tmp_path) -> str:
    """Run a poppler tool on ``pdf`` (pdftotext writes to stdout with "-")."""
    path = tmp_path / "r.pdf"
    path.write_bytes(pdf)
    out = ["-"] if tool[0] == "pdftotext" else []
    return subprocess.run([*tool, str(path), *out], capture_output=True, text=True, check=True).stdout


@pytest.mark.parametrize(
    ("language", "heading", "dimension", "summary"),
    [
        ("de", "Ihr Digital-Check-Ergebnis", "Digitale Geschäftsstrategie", "Zusammenfassung"),
        ("en", "Your Digital-Check result", "Digital business strategy", "Summary"),
    ],
)
def test_the_pdf_of_a_result_in_the_pages_language(client, tmp_path, language, heading, dimension, summary):
    client.post("/check/", answers(dii=7))
    a = Assessment.objects.get()
    page = client.get(f"/check/r/{a.token}/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert f'href="/check/r/{a.token}/result.pdf"' in page
    resp = client.get(f"/check/r/{a.token}/result.pdf", HTTP_ACCEPT_LANGUAGE=language)
    assert resp.status_code == 200 and resp["Content-Type"] == "application/pdf"
    assert resp["Content-Disposition"].startswith('attachment; filename="digital-check-')
    assert resp["X-Robots-Tag"] == "noindex, nofollow"
    pdf = resp.content
    assert pdf.startswith(b"%PDF-")
    info = _poppler(["pdfinfo"], pdf, tmp_path)
    assert "Tagged:          yes" in info and f"Title:           {heading}" in info  # PDF/UA: tagged, titled
    structure = _poppler(["pdfinfo", "-struct"], pdf, tmp_path)
    assert "H1" in structure and "H2" in structure and "Table" in structure  # headings and tables for readers
    text = _poppler(["pdftotext", "-layout"], pdf, tmp_path)
    assert heading in text and dimension in text and summary in text
    assert "7 / " in text  # the Digital Intensity Index as on the page
    assert a.token not in text  # the private link is not printed


def test_an_unknown_link_has_no_pdf(client):
    assert client.get("/check/r/not-a-token/result.pdf").status_code == 404
