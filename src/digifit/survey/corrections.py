"""Corrections of a submission in the browser: the survey manager corrects one answer at a time, with a reason,
and the audit trail lists what changed as a person reads it.

A correction goes through :func:`digifit.survey.services.submission_edit` like one through the API: the form's
types and rules are checked again (a correction that breaks a constraint, or makes a required answer missing,
is refused), answers to questions that no longer apply are dropped, and the submission's ``SubmissionEdit``
keeps the answers before and after. The form field of a question follows its type (a choice list for a select,
check boxes for a multiple select, a localised number field — "29,90" in German — for numbers, a date field for
dates) so the manager never types a stored code.

Corrected here: top-level questions that hold an answer the person gave. Not here: the server's metadata
(wave, version, instanceID, timestamps: the server's, never edited), calculations (computed again from the other
answers), notes, and questions inside repeats (the API edits those: ``PATCH /api/submissions/<id>``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from digifit.survey.answer_labels import AnswerLabels
from digifit.survey.errors import FieldProblem
from digifit.survey.server_fields import server_field_names

#: field types whose answers a person gives and this page can correct
CORRECTABLE = frozenset(
    {"text", "integer", "decimal", "date", "select_one", "select_multiple", "acknowledge", "barcode", "range"}
)


def correctable_fields(schema: Mapping[str, Any]) -> list[str]:
    """The names of the questions a correction may change, in the form's order."""
    server = server_field_names(schema)
    return [
        f["name"]
        for f in schema.get("fields", [])
        if f.get("repeat") is None and f.get("type") in CORRECTABLE and f["name"] not in server
    ]


class CorrectionForm(forms.Form):
    """One answer's new value and the reason; ``value`` is built for the question's type."""

    reason = forms.CharField(
        label=gettext_lazy("Reason for the correction"),
        max_length=500,
        help_text=gettext_lazy("Kept in the audit trail, e.g. “the business called: founded in 1989, not 1998”."),
    )

    def __init__(self, *args, spec: Mapping[str, Any], labels: AnswerLabels, current: Any = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.spec = spec
        kind = spec.get("type")
        label = labels.question(spec["name"])
        choices = [(c, labels.choice(spec.get("list_name"), c)) for c in labels.choices.get(spec.get("list_name"), {})]
        empty = [("", _("– no answer –"))]
        if kind == "select_one":
            field: forms.Field = forms.ChoiceField(choices=empty + choices, required=False)
            initial = current or ""
        elif kind == "select_multiple":
            field = forms.MultipleChoiceField(choices=choices, required=False, widget=forms.CheckboxSelectMultiple)
            initial = str(current or "").split()
        elif kind in ("integer", "range"):
            field = forms.IntegerField(required=False, localize=True)
            initial = current
        elif kind == "decimal":
            field = forms.DecimalField(required=False, localize=True)
            initial = current
        elif kind == "date":
            field = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
            initial = dt.date.fromisoformat(current[:10]) if isinstance(current, str) and current else None
        else:
            field = forms.CharField(required=False, max_length=10_000)
            initial = current if current is not None else ""
        field.label = label
        self.fields = {"value": field, **self.fields}
        if not self.is_bound:
            self.initial["value"] = initial

    def stored_value(self) -> Any:
        """The cleaned value as the answers hold it (None: no answer)."""
        value = self.cleaned_data["value"]
        if value in (None, "", []):
            return None
        if isinstance(value, list):
            return " ".join(value)
        if isinstance(value, Decimal):
            return float(value)
        if isinstance(value, dt.date):
            return value.isoformat()
        return value


@dataclass(frozen=True)
class Change:
    """One changed answer of an edit, as text in the page's language."""

    question: str
    before: str
    after: str


def edit_changes(before: Mapping[str, Any], after: Mapping[str, Any], labels: AnswerLabels) -> list[Change]:
    """What an edit changed, question by question (labels, not codes), in the form's order; a repeat counts as
    one question."""
    names = [n for n in labels.fields if n in before or n in after]
    names += [r for r in labels.repeats if r in before or r in after]
    changes = []
    for name in names:
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        if name in labels.repeats:
            changes.append(Change(labels.question(name), _entries(old), _entries(new)))
            continue
        changes.append(Change(labels.question(name), labels.text(name, old)[0], labels.text(name, new)[0]))
    return changes


def problem_text(problem: FieldProblem, labels: AnswerLabels) -> str:
    """A refusal of a correction in the page's language, naming the question. The form's rules (constraints,
    required, relevance) already speak the page's language; a type refusal of the stored-answer check is English
    for the API, so it is said again here."""
    name = problem.field.rsplit("/", 1)[-1].split("[", 1)[0]
    question = labels.question(name) if name in labels.fields else problem.field
    if problem.code in ("type", "unknown"):
        return _("“%(question)s”: this answer does not fit the question.") % {"question": question}
    return _("“%(question)s”: %(message)s") % {"question": question, "message": problem.message}


def _entries(value: Any) -> str:
    n = len(value or [])
    return ngettext("%(n)d entry", "%(n)d entries", n) % {"n": n}


__all__ = ["CORRECTABLE", "Change", "CorrectionForm", "correctable_fields", "edit_changes", "problem_text"]
