"""The demo's view of the Digital-Check: the product's bundled instrument (``digifit.assessment.content``).

``build.py`` regenerates the bundled form ``digital_check.xlsx`` from its tables."""

from __future__ import annotations

from pathlib import Path

from digifit.assessment.content import BUNDLED_DIR, FORM_FILE, LEARNING_PATH_FILE, RULES_FILE, load_form

CHECK_PATH = BUNDLED_DIR / FORM_FILE
RULES_PATH = BUNDLED_DIR / RULES_FILE
LEARNING_PATH_RULES_PATH = BUNDLED_DIR / LEARNING_PATH_FILE

__all__ = ["CHECK_PATH", "LEARNING_PATH_RULES_PATH", "RULES_PATH", "load_check"]


def load_check(path: str | Path = CHECK_PATH):
    """Load the check as a :class:`digifit.forms.Questionnaire`."""
    return load_form(path)
