"""The bundled Digital-Check: ``digital_check.xlsx`` (built by ``build.py``), its scoring rules ``rules.toml`` and
its learning-path rules ``learning_path.toml``. Organisations edit these files (or point the settings
``DIGIFIT_CHECK_FORM`` / ``DIGIFIT_CHECK_RULES`` / ``DIGIFIT_CHECK_LEARNING_PATH`` at their own copies)."""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).parent
CHECK_PATH = _HERE / "digital_check.xlsx"
RULES_PATH = _HERE / "rules.toml"
LEARNING_PATH_RULES_PATH = _HERE / "learning_path.toml"

__all__ = ["CHECK_PATH", "LEARNING_PATH_RULES_PATH", "RULES_PATH", "load_check"]


def load_check(path: str | Path = CHECK_PATH):
    """Load the check as a :class:`digifit.forms.Questionnaire`."""
    from digifit.forms import load_xlsform

    return load_xlsform(Path(path))
