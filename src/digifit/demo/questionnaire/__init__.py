"""The bundled questionnaire: ``future_of_business.xlsx`` (German, English, French), built by ``build.py``."""

from __future__ import annotations

from pathlib import Path

QUESTIONNAIRE_PATH = Path(__file__).with_name("future_of_business.xlsx")

__all__ = ["QUESTIONNAIRE_PATH", "load_questionnaire"]


def load_questionnaire():
    """Load the bundled questionnaire as a :class:`digifit.forms.Questionnaire`."""
    from digifit.forms import load_xlsform

    return load_xlsform(QUESTIONNAIRE_PATH)
