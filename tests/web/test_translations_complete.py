"""Every catalogue is complete and compiled (issue 13, item 4): German and French have a translation for every
message, none fuzzy, ``msgfmt -c`` accepts them (format placeholders match), and the tracked ``.mo`` files hold
exactly what their ``.po`` files say — a ``.po`` edited without recompiling would ship the old texts. And no
message is translated one way in an app's catalogue and another in the project's: the project's
(``LOCALE_PATHS``) wins at run time, so the app's page would silently change wording (it did: the reach page's
"Registered" became the webhooks page's "Eingetragen").

English is the source language (the msgids), so it has no catalogue.
"""

from __future__ import annotations

import gettext
import re
import shutil
import subprocess
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "digifit"
LOCALE = PACKAGE / "locale"
LANGUAGES = ("de", "fr")
CATALOGUES = sorted(PACKAGE.glob("**/locale/*/LC_MESSAGES/django.po"))

pytestmark = pytest.mark.skipif(shutil.which("msgfmt") is None, reason="msgfmt (gettext) is not installed")


def _po(language: str) -> Path:
    return LOCALE / language / "LC_MESSAGES" / "django.po"


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_message_is_translated_and_none_is_fuzzy(po):
    language = po.parents[1].name
    run = subprocess.run(
        ["msgfmt", "-c", "--statistics", "-o", "/dev/null", str(po)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    # e.g. "554 translated messages." or "550 translated messages, 3 fuzzy translations, 1 untranslated message."
    statistics = run.stderr.strip().splitlines()[-1]  # after -c's warnings about the header, if any
    assert re.fullmatch(r"\d+ translated messages?\.", statistics), f"{language}: {statistics}"


def _catalogue(po: Path, tmp_path: Path) -> dict:
    fresh = tmp_path / f"{abs(hash(po))}.mo"
    subprocess.run(["msgfmt", "-o", str(fresh), str(po)], check=True)
    with fresh.open("rb") as fh:
        return gettext.GNUTranslations(fh)._catalog


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_the_tracked_mo_file_is_compiled_from_the_po_file(po, tmp_path):
    tracked = po.with_suffix(".mo")
    compiled = _catalogue(po, tmp_path)
    with tracked.open("rb") as b:
        shipped = gettext.GNUTranslations(b)._catalog
    missing = sorted(str(k) for k in compiled.keys() - shipped.keys())[:5]
    changed = sorted(str(k) for k in compiled.keys() & shipped.keys() if compiled[k] != shipped[k])[:5]
    assert not missing and not changed, (
        f"{tracked} is stale: run `msgfmt -c -o django.mo django.po` in its folder "
        f"(missing {missing}, changed {changed})"
    )


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_app_catalogue_is_shadowed_by_a_different_project_translation(language, tmp_path):
    project = _catalogue(_po(language), tmp_path)
    for po in CATALOGUES:
        if po.parents[1].name != language or po == _po(language):
            continue
        app = _catalogue(po, tmp_path)
        differ = sorted(str(k) for k in app.keys() & project.keys() if k and app[k] != project[k])
        assert not differ, (
            f"{po.relative_to(PACKAGE)} and locale/{language} translate these differently (the project's wins at "
            f"run time): {differ[:5]} — use another msgid for the new meaning, or one translation"
        )
