"""The Digital-Check's instrument — the assessment app's own versioned content.

An instrument is one directory holding three files: ``digital_check.xlsx`` (the items, an XLSForm),
``rules.toml`` (how answers become scores; its ``version`` is the instrument's version, stored on every result
as ``Assessment.rules_version``) and ``learning_path.toml`` (dimension → catalogue topics). The bundled one is
``content/v1/``. An organisation replaces it by pointing the setting ``DIGIFIT_CHECK_CONTENT`` (or the
environment variable of the same name) at a directory with the same three files; the older per-file settings
``DIGIFIT_CHECK_FORM`` / ``DIGIFIT_CHECK_RULES`` / ``DIGIFIT_CHECK_LEARNING_PATH`` still override one file each.

Everything that needs the instrument's files goes through :func:`instrument_paths`; the whole loaded instrument is
:func:`digifit.assessment.instrument.load_instrument` (a module of its own: this one is below the scoring and
learning-path modules, which read their default files from here).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

BUNDLED_DIR = Path(__file__).parent / "v1"
FORM_FILE = "digital_check.xlsx"
RULES_FILE = "rules.toml"
LEARNING_PATH_FILE = "learning_path.toml"

__all__ = ["BUNDLED_DIR", "InstrumentPaths", "instrument_paths", "load_form"]


@dataclass(frozen=True)
class InstrumentPaths:
    """Where the three files of one instrument are."""

    form: Path
    rules: Path
    learning_path: Path


def _setting(name: str) -> str | None:
    # Django's settings only when Django is already in use: the scoring core stays importable without it.
    value = None
    conf = sys.modules.get("django.conf")
    if conf is not None and conf.settings.configured:
        value = getattr(conf.settings, name, None)
    return value or os.environ.get(name) or None


def instrument_paths(directory: str | Path | None = None) -> InstrumentPaths:
    """Return the paths of the instrument's files.

    ``directory`` wins; then the setting ``DIGIFIT_CHECK_CONTENT``; then the bundled ``content/v1``. The per-file
    settings override single files only when no ``directory`` is given.

    >>> instrument_paths(BUNDLED_DIR).rules.name
    'rules.toml'
    """
    explicit = directory is not None
    base = Path(directory) if explicit else Path(_setting("DIGIFIT_CHECK_CONTENT") or BUNDLED_DIR)
    form, rules, path = base / FORM_FILE, base / RULES_FILE, base / LEARNING_PATH_FILE
    if not explicit:
        form = Path(_setting("DIGIFIT_CHECK_FORM") or form)
        rules = Path(_setting("DIGIFIT_CHECK_RULES") or rules)
        path = Path(_setting("DIGIFIT_CHECK_LEARNING_PATH") or path)
    return InstrumentPaths(form=form, rules=rules, learning_path=path)


def load_form(path: str | Path | None = None):
    """Load an instrument's items (default: the configured instrument's) as a :class:`digifit.forms.Questionnaire`."""
    from digifit.forms import load_xlsform

    return load_xlsform(Path(path) if path is not None else instrument_paths().form)
