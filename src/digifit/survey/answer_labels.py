"""Answers as a person reads them: the question's label and the choices' labels in the page's language.

Staff pages show labels, never the stored codes alone (``DE`` → "Deutschland", ``retail`` → "Handel"); the
code stays beside the label for people who work with the exports. Labels come from the submission's own
questionnaire version (its stored schema, see :mod:`digifit.survey.formdef`), in the requested language, then
the form's default language, then the code itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SELECTS = frozenset({"select_one", "select_multiple", "rank"})
#: the decimal separator of a page language where it is not the point
DECIMAL_SEPARATORS = {"de": ",", "fr": ","}


def _pick(labels: Mapping[str, str] | None, language: str, default: str, fallback: str) -> str:
    labels = labels or {}
    return labels.get(language) or labels.get(default) or fallback


@dataclass(frozen=True)
class Answer:
    """One answer of a submission: field name, question label, the answer as text, and its code (or "")."""

    name: str
    question: str
    text: str
    code: str


class AnswerLabels:
    """Label the answers of one questionnaire version's schema in one language.

    >>> schema = {"default_language": "de",
    ...           "fields": [{"name": "country", "type": "select_one", "list_name": "c", "repeat": None,
    ...                       "labels": {"de": "Land", "en": "Country"}}],
    ...           "choices": {"c": [{"name": "DE", "labels": {"de": "Deutschland", "en": "Germany"}}]}}
    >>> AnswerLabels(schema, "en").answers({"country": "DE"})
    [Answer(name='country', question='Country', text='Germany', code='DE')]
    >>> AnswerLabels(schema, "fr").answers({"country": "XX"})[0].text
    'XX'
    >>> AnswerLabels(schema, "de").text("share", 0.25), AnswerLabels(schema, "en").text("share", 0.25)
    (('0,25', ''), ('0.25', ''))
    """

    def __init__(self, schema: Mapping[str, Any], language: str) -> None:
        self.language = language
        self.default = schema.get("default_language", "") or ""
        self.fields = {f["name"]: f for f in schema.get("fields", [])}
        self.repeats = {r["name"]: r for r in schema.get("repeats", [])}
        self.choices = {
            list_name: {c["name"]: c.get("labels") for c in items}
            for list_name, items in (schema.get("choices") or {}).items()
        }
        self._order = [f["name"] for f in schema.get("fields", [])]

    def question(self, name: str) -> str:
        """The label of field or repeat ``name`` (its name if it has none)."""
        spec = self.fields.get(name) or self.repeats.get(name) or {}
        return _pick(spec.get("labels"), self.language, self.default, name)

    def choice(self, list_name: str | None, code: str) -> str:
        """The label of choice ``code`` of ``list_name`` (the code if the list does not know it)."""
        return _pick(self.choices.get(list_name or "", {}).get(code), self.language, self.default, code)

    def text(self, name: str, value: Any) -> tuple[str, str]:
        """(answer as text, code) of field ``name``; the code is "" where the answer is not a choice."""
        spec = self.fields.get(name) or {}
        if value is None or value == "":
            return "–", ""
        if spec.get("type") in SELECTS:
            codes = str(value).split() if spec["type"] != "select_one" else [str(value)]
            return ", ".join(self.choice(spec.get("list_name"), c) for c in codes), " ".join(codes)
        if isinstance(value, bool):
            return ("✓" if value else "–"), ""
        if isinstance(value, float):  # 0.25 reads "0,25" on a German or French page
            return format(value, ".15g").replace(".", DECIMAL_SEPARATORS.get(self.language[:2], ".")), ""
        return str(value), ""

    def answers(self, data: Mapping[str, Any], *, repeat: str | None = None) -> list[Answer]:
        """The answers of ``data`` (the top level, or one entry of ``repeat``) in the form's order."""
        rows = []
        for name in self._order:
            spec = self.fields[name]
            if spec.get("repeat") != repeat or name not in data:
                continue
            text, code = self.text(name, data[name])
            rows.append(Answer(name, self.question(name), text, code if code != text else ""))
        return rows


class AnswerColumns:
    """The key answers of a submissions table: the first ``n`` single-choice questions at the top level (country,
    sector, size in the bundled questionnaire), as labels, and the answer filters of every single-choice
    question (``"<question>:<choice>"``).

    >>> schema = {"default_language": "de",
    ...           "fields": [{"name": "country", "type": "select_one", "list_name": "c", "repeat": None,
    ...                       "labels": {"de": "Land"}}],
    ...           "choices": {"c": [{"name": "DE", "labels": {"de": "Deutschland"}}]}}
    >>> cols = AnswerColumns(schema, "de")
    >>> cols.headers, cols.cells({"country": "DE"}), cols.filter_of("country:DE"), cols.filter_of("country:XX")
    (['Land'], ['Deutschland'], ('country', 'DE'), None)
    """

    def __init__(self, schema: Mapping[str, Any], language: str, n: int = 3) -> None:
        self.labels = AnswerLabels(schema, language)
        singles = [
            f["name"]
            for f in schema.get("fields", [])
            if f.get("repeat") is None and f.get("type") == "select_one" and f.get("list_name")
        ]
        self.names = singles[:n]
        self.headers = [self.labels.question(name) for name in self.names]
        self.filters: list[tuple[str, list[tuple[str, str]]]] = []
        self._allowed: set[tuple[str, str]] = set()
        for name in singles:
            list_name = self.labels.fields[name]["list_name"]
            codes = list(self.labels.choices.get(list_name, {}))
            self.filters.append(
                (self.labels.question(name), [(f"{name}:{c}", self.labels.choice(list_name, c)) for c in codes])
            )
            self._allowed.update((name, c) for c in codes)

    def cells(self, data: Mapping[str, Any]) -> list[str]:
        """The key answers of one submission as text."""
        return [self.labels.text(name, data.get(name))[0] for name in self.names]

    def filter_of(self, value: str) -> tuple[str, str] | None:
        """(question, choice) of an ``answer`` filter, or None when it names no single-choice answer."""
        name, _, code = (value or "").partition(":")
        return (name, code) if (name, code) in self._allowed else None


__all__ = ["Answer", "AnswerColumns", "AnswerLabels"]
