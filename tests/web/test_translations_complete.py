"""Every catalogue is complete and compiled (issue 13, item 4): German and French have a translation for every
message, none fuzzy, ``msgfmt -c`` accepts them (format placeholders match), and the tracked ``.mo`` files hold
exactly what their ``.po`` files say — a ``.po`` edited without recompiling would ship the old texts.

English is the source language (the msgids), so it has no catalogue.
"""

from __future__ import annotations

import gettext
import re
import shutil
import subprocess
from pathlib import Path

import pytest

LOCALE = Path(__file__).resolve().parents[2] / "src" / "digifit" / "locale"
LANGUAGES = ("de", "fr")

pytestmark = pytest.mark.skipif(shutil.which("msgfmt") is None, reason="msgfmt (gettext) is not installed")


def _po(language: str) -> Path:
    return LOCALE / language / "LC_MESSAGES" / "django.po"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated_and_none_is_fuzzy(language):
    run = subprocess.run(
        ["msgfmt", "-c", "--statistics", "-o", "/dev/null", str(_po(language))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    # e.g. "554 translated messages." or "550 translated messages, 3 fuzzy translations, 1 untranslated message."
    statistics = run.stderr.strip().splitlines()[-1]  # after -c's warnings about the header, if any
    assert re.fullmatch(r"\d+ translated messages?\.", statistics), f"{language}: {statistics}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_tracked_mo_file_is_compiled_from_the_po_file(language, tmp_path):
    fresh = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "-o", str(fresh), str(_po(language))], check=True)
    tracked = _po(language).with_suffix(".mo")
    with fresh.open("rb") as a, tracked.open("rb") as b:
        compiled, shipped = gettext.GNUTranslations(a)._catalog, gettext.GNUTranslations(b)._catalog
    missing = sorted(str(k) for k in compiled.keys() - shipped.keys())[:5]
    changed = sorted(str(k) for k in compiled.keys() & shipped.keys() if compiled[k] != shipped[k])[:5]
    assert not missing and not changed, (
        f"{tracked} is stale: run `msgfmt -c -o django.mo django.po` in its folder "
        f"(missing {missing}, changed {changed})"
    )
