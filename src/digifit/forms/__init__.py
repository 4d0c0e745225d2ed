"""XLSForm questionnaires: load them into a typed model and check answers against them.

>>> from digifit.forms import load_xlsform, validate_answers   # doctest: +SKIP

The expression language (relevance, constraints, calculations) lives in ``digifit.forms.expressions``.
"""

from digifit.forms.model import (
    Choice,
    Field,
    LanguageReport,
    MissingLabel,
    Problem,
    Questionnaire,
    XLSFormError,
)
from digifit.forms.xlsform import load_xlsform

__all__ = [
    "Choice",
    "Field",
    "LanguageReport",
    "MissingLabel",
    "Problem",
    "Questionnaire",
    "XLSFormError",
    "load_xlsform",
]
