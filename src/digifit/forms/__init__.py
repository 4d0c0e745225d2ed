"""XLSForm questionnaires: load them into a typed model and check answers against them.

::

    from digifit.forms import load_xlsform, validate_answers

    questionnaire = load_xlsform("future_of_business.xlsx")      # XLSFormError lists every problem
    errors = validate_answers(questionnaire, {"country": "DE"}, language="en")

The expression language (relevance, constraints, calculations) lives in ``digifit.forms.expressions``.
"""

from pathlib import Path

from digifit.forms.model import (
    Choice,
    Field,
    LanguageReport,
    MissingLabel,
    Notice,
    Problem,
    Questionnaire,
    XLSFormError,
)
from digifit.forms.validation import CheckedAnswers, FieldError, check_answers, validate_answers
from digifit.forms.xlsform import load_xlsform

#: a tiny example form shipped with the product (country, employees; German, English, French), for examples
EXAMPLE_FORM = Path(__file__).with_name("example_form.xlsx")

__all__ = [
    "EXAMPLE_FORM",
    "CheckedAnswers",
    "Choice",
    "Field",
    "FieldError",
    "LanguageReport",
    "MissingLabel",
    "Notice",
    "Problem",
    "Questionnaire",
    "XLSFormError",
    "check_answers",
    "load_xlsform",
    "validate_answers",
]
