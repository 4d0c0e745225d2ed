"""The Digital-Check's whole instrument loaded at once: form, scoring rules and learning-path rules.

Kept apart from :mod:`digifit.assessment.content` (where the files are) so that the dependencies run one way:
``instrument`` → ``scoring`` / ``learning_path`` → ``content``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from digifit.assessment.content import BUNDLED_DIR, InstrumentPaths, instrument_paths, load_form

__all__ = ["BUNDLED_DIR", "Instrument", "load_instrument"]


@dataclass(frozen=True)
class Instrument:
    """A loaded instrument: the form, the scoring rules and the learning-path rules."""

    version: str
    form: object  # digifit.forms.Questionnaire
    rules: object  # digifit.assessment.scoring.Rules
    path_rules: object  # digifit.assessment.learning_path.PathRules
    paths: InstrumentPaths


def load_instrument(directory: str | Path | None = None) -> Instrument:
    """Load the whole instrument (form, scoring rules, learning-path rules).

    >>> load_instrument(BUNDLED_DIR).version == load_instrument(BUNDLED_DIR).rules.version
    True
    """
    from digifit.assessment.learning_path import load_path_rules
    from digifit.assessment.scoring import load_rules

    paths = instrument_paths(directory)
    rules = load_rules(paths.rules)
    return Instrument(
        version=rules.version,
        form=load_form(paths.form),
        rules=rules,
        path_rules=load_path_rules(paths.learning_path),
        paths=paths,
    )
