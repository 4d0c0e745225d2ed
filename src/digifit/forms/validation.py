"""Check one submission's answers against a :class:`~digifit.forms.model.Questionnaire`.

Answers are a flat mapping from field name to value — groups are pages, not keys — and a repeat's answer is
a list of such mappings, one per instance::

    {"country": "DE", "presence_before": ["website", "social_page"], "closed": "no",
     "tool_detail": [{"tool": "online_shop", "tool_cost": 29.0}]}

What is checked, in the order ODK applies it:

1. Every key names a field of the form (``unknown_field``) and every value has the field's type
   (``type``): integers, decimals, ISO dates ``YYYY-MM-DD``, a choice name for ``select_one``, a list (or a
   space-separated string) of choice names for ``select_multiple``, a list of mappings for a repeat
   (``repeat``).
2. Relevance, with calculations, until nothing changes: a field whose ``relevant`` (or whose enclosing
   group's) is false has no value — an answer given to it is dropped (``non_relevant="drop"``) or refused
   (``"fail"``: ``not_relevant``). ``calculate`` fields are computed; values sent for them are replaced.
   A field missing from the answers gets its literal ``default``.
3. For relevant fields: ``required`` (a flag or an expression), the choice list (``choice``; ``or_other``
   allows ``other`` plus the text ``<name>_other``), the ``choice_filter`` given earlier answers
   (``choice_filter``) and the ``constraint`` with ``.`` bound to the field's own value (``constraint``,
   with the form's ``constraint_message`` in the requested language).

Expressions are evaluated by :mod:`digifit.forms.expressions` — never by Python's ``eval``. An expression
that fails while evaluating is reported as ``expression``.

A field inside a repeat is named ``<repeat>[<n>]/<field>`` in errors (n counts from 1).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from digifit.forms.choice_filters import choice_scope, rewrite_choice_filter
from digifit.forms.expressions import ExpressionError, compile_expression, to_boolean, to_string
from digifit.forms.model import Choice, Field, Questionnaire

__all__ = ["CheckedAnswers", "FieldError", "check_answers", "validate_answers"]

NonRelevant = Literal["drop", "fail"]

#: Built-in messages (the form's own ``constraint_message``/``required_message`` take precedence).
MESSAGES: Mapping[str, Mapping[str, str]] = {
    "required": {
        "de": "Diese Frage muss beantwortet werden.",
        "en": "This question requires an answer.",
        "fr": "Cette question est obligatoire.",
    },
    "integer": {
        "de": "Erwartet wird eine ganze Zahl, erhalten: {value}.",
        "en": "Expected a whole number, got {value}.",
        "fr": "Nombre entier attendu, reçu : {value}.",
    },
    "decimal": {
        "de": "Erwartet wird eine Zahl (mit Punkt als Dezimaltrennzeichen), erhalten: {value}.",
        "en": "Expected a number (with a point as decimal separator), got {value}.",
        "fr": "Nombre attendu (avec un point comme séparateur décimal), reçu : {value}.",
    },
    "date": {
        "de": "Erwartet wird ein Datum JJJJ-MM-TT, erhalten: {value}.",
        "en": "Expected a date YYYY-MM-DD, got {value}.",
        "fr": "Date AAAA-MM-JJ attendue, reçu : {value}.",
    },
    "time": {
        "de": "Erwartet wird eine Uhrzeit HH:MM oder HH:MM:SS (optional mit Zeitzone), erhalten: {value}.",
        "en": "Expected a time HH:MM or HH:MM:SS (optionally with a time zone), got {value}.",
        "fr": "Heure HH:MM ou HH:MM:SS attendue (fuseau horaire facultatif), reçu : {value}.",
    },
    "dateTime": {
        "de": "Erwartet wird Datum und Uhrzeit JJJJ-MM-TTTHH:MM(:SS) (optional mit Zeitzone), erhalten: {value}.",
        "en": "Expected a date and time YYYY-MM-DDTHH:MM(:SS) (optionally with a time zone), got {value}.",
        "fr": "Date et heure AAAA-MM-JJTHH:MM(:SS) attendues (fuseau horaire facultatif), reçu : {value}.",
    },
    "geopoint": {
        "de": "Erwartet wird ein Ort „Breite Länge [Höhe Genauigkeit]“ (Breite −90…90, Länge −180…180, "
        "Genauigkeit ≥ 0), erhalten: {value}.",
        "en": 'Expected a location "latitude longitude [altitude accuracy]" (latitude -90..90, longitude '
        "-180..180, accuracy >= 0), got {value}.",
        "fr": "Position « latitude longitude [altitude précision] » attendue (latitude −90…90, longitude "
        "−180…180, précision ≥ 0), reçu : {value}.",
    },
    "geotrace": {
        "de": "Erwartet wird eine Linie aus mindestens 2 Punkten „Breite Länge [Höhe Genauigkeit]“, durch „;“ "
        "getrennt, erhalten: {value}.",
        "en": 'Expected a line of at least 2 points "latitude longitude [altitude accuracy]" separated by '
        '";", got {value}.',
        "fr": "Ligne d'au moins 2 points « latitude longitude [altitude précision] » séparés par « ; » "
        "attendue, reçu : {value}.",
    },
    "geoshape": {
        "de": "Erwartet wird eine geschlossene Fläche aus mindestens 4 Punkten (der letzte gleich dem ersten), "
        "durch „;“ getrennt, erhalten: {value}.",
        "en": 'Expected a closed shape of at least 4 points (the last equal to the first) separated by ";", '
        "got {value}.",
        "fr": "Surface fermée d'au moins 4 points (le dernier égal au premier) séparés par « ; » attendue, "
        "reçu : {value}.",
    },
    "range": {
        "de": "Erwartet wird eine Zahl von {start} bis {end} in Schritten von {step}, erhalten: {value}.",
        "en": "Expected a number from {start} to {end} in steps of {step}, got {value}.",
        "fr": "Nombre de {start} à {end} par pas de {step} attendu, reçu : {value}.",
    },
    "rank": {
        "de": "Erwartet wird eine Reihenfolge aller Antwortmöglichkeiten, jede genau einmal ({allowed}), "
        "erhalten: {value}.",
        "en": "Expected an order of all the choices, each exactly once ({allowed}), got {value}.",
        "fr": "Ordre de toutes les réponses possibles attendu, chacune une seule fois ({allowed}), reçu : {value}.",
    },
    "acknowledge": {
        "de": "Erwartet wird die Bestätigung „OK“, erhalten: {value}.",
        "en": 'Expected the acknowledgement "OK", got {value}.',
        "fr": "Confirmation « OK » attendue, reçu : {value}.",
    },
    "text": {
        "de": "Erwartet wird ein Text, erhalten: {value}.",
        "en": "Expected text, got {value}.",
        "fr": "Texte attendu, reçu : {value}.",
    },
    "select_multiple": {
        "de": "Erwartet wird eine Liste von Antwortcodes, erhalten: {value}.",
        "en": "Expected a list of choice names, got {value}.",
        "fr": "Liste de codes de réponse attendue, reçu : {value}.",
    },
    "repeat": {
        "de": "Erwartet wird eine Liste von Einträgen (je ein Objekt mit Antworten), erhalten: {value}.",
        "en": "Expected a list of entries (one mapping of answers each), got {value}.",
        "fr": "Liste d'entrées attendue (un objet de réponses chacune), reçu : {value}.",
    },
    "choice": {
        "de": "{value} ist keine Antwortmöglichkeit dieser Frage (erlaubt: {allowed}).",
        "en": "{value} is not a choice of this question (allowed: {allowed}).",
        "fr": "{value} n'est pas une réponse possible à cette question (possibles : {allowed}).",
    },
    "choice_filter": {
        "de": "{value} passt nicht zu den vorherigen Antworten (erlaubt: {allowed}).",
        "en": "{value} does not fit the earlier answers (allowed: {allowed}).",
        "fr": "{value} ne correspond pas aux réponses précédentes (possibles : {allowed}).",
    },
    "constraint": {
        "de": "Die Antwort {value} erfüllt die Bedingung nicht: {constraint}",
        "en": "The answer {value} does not meet the condition: {constraint}",
        "fr": "La réponse {value} ne respecte pas la condition : {constraint}",
    },
    "unknown_field": {
        "de": "Das Formular hat kein Feld {name!r}.",
        "en": "The form has no field {name!r}.",
        "fr": "Le formulaire n'a pas de champ {name!r}.",
    },
    "section": {
        "de": "{name!r} ist eine Gruppe; ihre Fragen werden direkt beantwortet.",
        "en": "{name!r} is a group; answer its questions directly.",
        "fr": "{name!r} est un groupe ; répondez directement à ses questions.",
    },
    "not_relevant": {
        "de": "Diese Frage ist nach den bisherigen Antworten nicht vorgesehen.",
        "en": "This question does not apply given the earlier answers.",
        "fr": "Cette question ne s'applique pas compte tenu des réponses précédentes.",
    },
    "expression": {
        "de": "Der Ausdruck {expression!r} ({column}) lässt sich nicht auswerten: {error}",
        "en": "The expression {expression!r} ({column}) cannot be evaluated: {error}",
        "fr": "L'expression {expression!r} ({column}) ne peut pas être évaluée : {error}",
    },
}

_RE_INTEGER = re.compile(r"^[+-]?\d+$")
_RE_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_RE_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ZONE = r"(?:Z|[+-]\d{2}(?::?\d{2})?)?"
_RE_TIME = re.compile(r"^(?P<h>\d{2}):(?P<m>\d{2})(?::(?P<s>\d{2})(?:\.\d{1,9})?)?" + _ZONE + "$")
_RE_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?" + _ZONE + "$")
_MAX_PASSES = 20
_VALUE_FREE = frozenset({"note"})
_COMPUTED = frozenset({"calculate"})


@dataclass(frozen=True)
class FieldError:
    """A problem with one answer.

    ``field`` is the field name, or ``<repeat>[<n>]/<field>`` inside a repeat; ``code`` is one of
    ``unknown_field``, ``type``, ``repeat``, ``required``, ``choice``, ``choice_filter``, ``constraint``,
    ``not_relevant``, ``expression``; ``message`` is in the requested language.
    """

    field: str
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


@dataclass(frozen=True)
class CheckedAnswers:
    """The outcome of :func:`check_answers`.

    ``values`` holds the typed answers of relevant fields and the computed ``calculate`` fields (ints,
    floats, ``datetime.date``, str, lists of choice names; repeats as lists of dicts); ``dropped`` names
    the answers that were removed because their field is not relevant.
    """

    values: Mapping[str, Any]
    errors: tuple[FieldError, ...]
    dropped: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.errors


class _Type(ValueError):
    """An answer does not have its field's type (carries the message key)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _message(key: str, language: str, **kwargs: Any) -> str:
    table = MESSAGES[key]
    return table.get(language, table["en"]).format(**kwargs)


def _missing(value: Any) -> bool:
    return (
        value is None
        or (isinstance(value, str) and not value.strip())
        or (isinstance(value, list | tuple) and not value)
    )


def _parse(field: Field, raw: Any) -> Any:
    """Return ``raw`` as the field's Python type, or raise :class:`_Type`."""
    kind = field.type
    if kind == "integer":
        if isinstance(raw, bool):
            raise _Type("integer")
        if isinstance(raw, int):
            return raw
        if isinstance(raw, float) and raw.is_integer():
            return int(raw)
        if isinstance(raw, str) and _RE_INTEGER.match(raw.strip()):
            return int(raw.strip())
        raise _Type("integer")
    if kind == "decimal":
        if isinstance(raw, bool):
            raise _Type("decimal")
        if isinstance(raw, int | float):
            value = float(raw)
        elif isinstance(raw, str) and _RE_DECIMAL.match(raw.strip()):
            value = float(raw.strip())
        else:
            raise _Type("decimal")
        if not math.isfinite(value):
            raise _Type("decimal")
        return value
    if kind == "date":
        if isinstance(raw, dt.datetime):
            return raw.date()
        if isinstance(raw, dt.date):
            return raw
        if isinstance(raw, str) and _RE_DATE.match(raw.strip()):
            try:
                return dt.date.fromisoformat(raw.strip())
            except ValueError:
                raise _Type("date") from None
        raise _Type("date")
    if kind == "select_multiple":
        if isinstance(raw, str):
            items = raw.split()
        elif isinstance(raw, list | tuple) and all(isinstance(v, str) for v in raw):
            items = [v.strip() for v in raw if v.strip()]
        else:
            raise _Type("select_multiple")
        return list(dict.fromkeys(items))
    if kind == "time":
        return _time(raw)
    if kind == "dateTime":
        return _date_time(raw)
    if kind in ("geopoint", "background-geopoint", "start-geopoint"):
        return _geo(raw, "geopoint")
    if kind in ("geotrace", "geoshape"):
        return _geo(raw, kind)
    if kind == "range":
        return _range(field, raw)
    if kind == "rank":
        if isinstance(raw, str):
            return raw.split()
        if isinstance(raw, list | tuple) and all(isinstance(v, str) for v in raw):
            return [v.strip() for v in raw if v.strip()]
        raise _Type("rank")
    if kind == "acknowledge":
        if isinstance(raw, str) and raw.strip() == "OK":
            return "OK"
        raise _Type("acknowledge")
    if kind in ("select_one", "text", "hidden", "barcode", "trigger", "osm", "image", "audio", "video", "file"):
        if isinstance(raw, str):
            return raw.strip() if kind == "select_one" else raw
        if kind != "select_one" and isinstance(raw, int | float) and not isinstance(raw, bool):
            return str(raw)
        if kind == "select_one" and isinstance(raw, int) and not isinstance(raw, bool):
            return str(raw)  # choice names such as 1..5 arrive as numbers from JSON or spreadsheets
        raise _Type("text")
    return raw  # metadata (start, end, today): kept as sent


def _time(raw: Any) -> str:
    """ODK's time: ``HH:MM[:SS[.sss]][Z|±HH:MM]``, kept as sent (the form's time zone is the client's)."""
    if isinstance(raw, str) and (m := _RE_TIME.match(raw.strip())):
        hour, minute, second = int(m["h"]), int(m["m"]), int(m["s"] or 0)
        if hour < 24 and minute < 60 and second < 60:
            return raw.strip()
    raise _Type("time")


def _date_time(raw: Any) -> str:
    """ISO 8601 date and time (``2026-12-03T14:05``, seconds, fraction and zone optional), kept as sent."""
    if isinstance(raw, dt.datetime):
        return raw.isoformat()
    if isinstance(raw, str) and _RE_DATE_TIME.match(raw.strip()):
        text = raw.strip()
        try:
            dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise _Type("dateTime") from None
        return text
    raise _Type("dateTime")


def _point(text: str) -> bool:
    parts = text.split()
    if not 2 <= len(parts) <= 4 or not all(_RE_DECIMAL.match(p) for p in parts):
        return False
    numbers = [float(p) for p in parts]
    if not all(math.isfinite(n) for n in numbers):
        return False
    return -90 <= numbers[0] <= 90 and -180 <= numbers[1] <= 180 and (len(numbers) < 4 or numbers[3] >= 0)


def _geo(raw: Any, kind: str) -> str:
    """A geopoint ``"lat lon [alt acc]"``; a geotrace (≥ 2) or geoshape (≥ 4, closed) of them joined by ``;``."""
    if not isinstance(raw, str):
        raise _Type(kind)
    points = [p.strip() for p in raw.strip().strip(";").split(";")]
    if not all(_point(p) for p in points):
        raise _Type(kind)
    if kind == "geopoint" and len(points) != 1:
        raise _Type(kind)
    if kind == "geotrace" and len(points) < 2:
        raise _Type(kind)
    if kind == "geoshape" and (len(points) < 4 or points[0].split()[:2] != points[-1].split()[:2]):
        raise _Type(kind)
    return "; ".join(points) if kind != "geopoint" else points[0]


class _RangeType(_Type):
    def __init__(self, field: Field) -> None:
        super().__init__("range")
        p = field.parameters
        self.details = {"start": p.get("start", "1"), "end": p.get("end", "10"), "step": p.get("step", "1")}


def _range(field: Field, raw: Any) -> int | float:
    """A number within the range's ``start``/``end`` (either order) on its ``step`` grid."""
    if isinstance(raw, bool):
        raise _RangeType(field)
    try:
        value = float(raw) if isinstance(raw, int | float) else float(str(raw).strip())
        start = float(field.parameters.get("start", 1))
        end = float(field.parameters.get("end", 10))
        step = abs(float(field.parameters.get("step", 1))) or 1.0
    except ValueError:
        raise _RangeType(field) from None
    low, high = min(start, end), max(start, end)
    steps = (value - start) / step
    if not (math.isfinite(value) and low <= value <= high and abs(steps - round(steps)) < 1e-9):
        raise _RangeType(field)
    return int(value) if value.is_integer() else value


def _parse_default(field: Field) -> Any:
    default = field.default
    if default is None or "${" in default or "(" in default:
        return None  # dynamic defaults are a client feature
    try:
        return _parse(field, default)
    except _Type:
        return None


def _env_value(field: Field, value: Any) -> Any:
    """The value as the expression evaluator reads it."""
    if value is None:
        return None
    if field.type in ("select_multiple", "rank"):
        return " ".join(value)
    return value


def _from_expression(value: Any) -> Any:
    """A calculation's result as a stored answer (integral numbers become ints, '' becomes None)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if isinstance(value, list):
        return _from_expression(to_string(value))
    if isinstance(value, str) and value == "":
        return None
    return value


@dataclass(frozen=True)
class _Member:
    """A field answered in one scope (the top level or one repeat instance) with its relevance chain."""

    field: Field
    relevant: tuple[str, ...]  # enclosing groups' relevant, then its own


def _members(fields: Iterable[Field], inherited: tuple[str, ...] = ()) -> list[_Member]:
    out: list[_Member] = []
    for f in fields:
        chain = (*inherited, f.relevant) if f.relevant else inherited
        if f.group:
            out.extend(_members(f.children, chain))
        else:
            out.append(_Member(f, chain))
    return out


class _Checker:
    def __init__(self, questionnaire: Questionnaire, language: str, today: dt.date, non_relevant: NonRelevant) -> None:
        self.q = questionnaire
        self.language = language
        self.today = today
        self.non_relevant = non_relevant
        self.compile = compile_expression
        self.errors: list[FieldError] = []
        self.dropped: list[str] = []
        self.groups = {f.name for f in questionnaire.walk() if f.group}

    # -- helpers

    def text(self, field: Field, attribute: str) -> str | None:
        return field.text(attribute, self.language, self.q.default_language)

    def error(self, where: str, code: str, message: str) -> None:
        self.errors.append(FieldError(where, code, message))

    def evaluate(self, source: str, env: Mapping[str, Any], *, context: str | None, where: str, column: str) -> Any:
        try:
            return self.compile(source).evaluate(env, context=context, today=self.today)
        except ExpressionError as exc:
            message = _message(
                "expression", self.language, expression=source, column=column, error=getattr(exc, "message", exc)
            )
            if not any(e.field == where and e.code == "expression" for e in self.errors):
                self.error(where, "expression", message)
            return None

    def truthy(self, source: str, env: Mapping[str, Any], *, context: str | None, where: str, column: str) -> bool:
        value = self.evaluate(source, env, context=context, where=where, column=column)
        return True if value is None else to_boolean(value)

    # -- one scope

    def scope(
        self, fields: Sequence[Field], raw: Mapping[str, Any], outer: Mapping[str, Any], prefix: str
    ) -> dict[str, Any]:
        members = _members(fields)
        by_name = {m.field.name: m for m in members}

        for key in raw:
            if key not in by_name:
                code = "section" if key in self.groups else "unknown_field"
                self.error(prefix + str(key), "unknown_field", _message(code, self.language, name=key))

        values: dict[str, Any] = {}
        bad: set[str] = set()
        for m in members:
            f = m.field
            if f.type in _VALUE_FREE:
                continue
            where = prefix + f.name
            if f.repeat:
                items = raw.get(f.name)
                if _missing(items):
                    values[f.name] = []
                elif isinstance(items, list | tuple) and all(isinstance(i, Mapping) for i in items):
                    values[f.name] = list(items)
                else:
                    self.error(where, "repeat", _message("repeat", self.language, value=_show(items)))
                    values[f.name] = []
                    bad.add(f.name)
                continue
            if f.type in _COMPUTED:
                values[f.name] = None
                continue
            if f.name not in raw:
                values[f.name] = _parse_default(f)
                continue
            item = raw[f.name]
            if _missing(item):
                values[f.name] = None
                continue
            try:
                values[f.name] = _parse(f, item)
            except _Type as exc:
                details = getattr(exc, "details", {})
                if exc.key == "rank":
                    details = {"allowed": ", ".join(c.name for c in self.q.choices.get(f.list_name or "", ()))}
                self.error(where, "type", _message(exc.key, self.language, value=_show(item), **details))
                values[f.name] = None
                bad.add(f.name)

        # relevance and calculations until they settle
        relevant: dict[str, bool] = {}
        given = dict(values)
        for _ in range(_MAX_PASSES):
            changed = False
            env = self.env(outer, members, values)
            for m in members:
                f = m.field
                if f.type in _VALUE_FREE:
                    continue
                where = prefix + f.name
                is_relevant = all(
                    self.truthy(r, env, context=f.name, where=where, column="relevant") for r in m.relevant
                )
                if relevant.get(f.name) != is_relevant:
                    relevant[f.name] = is_relevant
                    changed = True
                if f.type in _COMPUTED:
                    new = None
                    if is_relevant and f.calculation:
                        new = _from_expression(
                            self.evaluate(f.calculation, env, context=f.name, where=where, column="calculation")
                        )
                else:
                    new = given[f.name] if is_relevant else ([] if f.repeat else None)
                if new != values.get(f.name):
                    values[f.name] = new
                    env[f.name] = _env_value(f, new)
                    changed = True
            if not changed:
                break

        # checks on relevant fields
        out: dict[str, Any] = {}
        env = self.env(outer, members, values)
        for m in members:
            f = m.field
            if f.type in _VALUE_FREE:
                continue
            where = prefix + f.name
            if not relevant.get(f.name, True):
                if f.name in raw and not _missing(raw[f.name]):
                    self.dropped.append(where)
                    if self.non_relevant == "fail":
                        self.error(where, "not_relevant", _message("not_relevant", self.language))
                continue
            value = values.get(f.name)
            if f.repeat:
                instances = []
                for i, instance in enumerate(value or (), start=1):
                    instances.append(self.scope(f.children, instance, env, f"{prefix}{f.name}[{i}]/"))
                if instances:
                    out[f.name] = instances
                continue
            if _missing(value):
                if f.name not in bad and self.required(f, env, where):
                    message = self.text(f, "required_message") or _message("required", self.language)
                    self.error(where, "required", message)
                continue
            out[f.name] = value
            if f.type in ("select_one", "select_multiple") and not self.choices_ok(f, value, env, where):
                continue
            if f.type == "rank" and not self.rank_ok(f, value, where):
                continue
            if (
                f.constraint
                and f.type not in _COMPUTED
                and not self.truthy(f.constraint, env, context=f.name, where=where, column="constraint")
            ):
                message = self.text(f, "constraint_message") or _message(
                    "constraint", self.language, value=_show(value), constraint=f.constraint
                )
                self.error(where, "constraint", message)
        return out

    def env(self, outer: Mapping[str, Any], members: Sequence[_Member], values: Mapping[str, Any]) -> dict:
        env = dict(outer)
        for m in members:
            if m.field.name in values:
                env[m.field.name] = _env_value(m.field, values[m.field.name])
        return env

    def required(self, f: Field, env: Mapping[str, Any], where: str) -> bool:
        if isinstance(f.required, bool):
            return f.required
        return self.truthy(f.required, env, context=f.name, where=where, column="required")

    def rank_ok(self, f: Field, value: list[str], where: str) -> bool:
        """A rank answer orders every choice of its list exactly once (ODK Collect stores all of them)."""
        names = [c.name for c in self.q.choices.get(f.list_name or "", ())]
        if names and (sorted(value) != sorted(names)):
            self.error(
                where, "type", _message("rank", self.language, value=_show(" ".join(value)), allowed=", ".join(names))
            )
            return False
        return True

    def choices_ok(self, f: Field, value: Any, env: Mapping[str, Any], where: str) -> bool:
        if (f.list_name or "") not in self.q.choices:
            return True  # choices from a file or from earlier answers: ODK clients offer them
        choices: tuple[Choice, ...] = self.q.choices.get(f.list_name or "", ())
        known = {c.name: c for c in choices}
        picked = value if isinstance(value, list) else [value]
        unknown = [v for v in picked if v not in known and not (f.or_other and v == "other")]
        if unknown:
            allowed = ", ".join(list(known)[:12]) + (", ..." if len(known) > 12 else "")
            self.error(
                where,
                "choice",
                _message(
                    "choice", self.language, value=_show(unknown[0] if len(unknown) == 1 else unknown), allowed=allowed
                ),
            )
            return False
        if not f.choice_filter:
            return True
        source = rewrite_choice_filter(f.choice_filter)
        offered = [
            c.name
            for c in choices
            if self.truthy(
                source, {**env, **choice_scope(c, self.language)}, context=f.name, where=where, column="choice_filter"
            )
        ]
        outside = [v for v in picked if v not in offered]
        if outside:
            allowed = ", ".join(offered[:12]) + (", ..." if len(offered) > 12 else "") or "-"
            self.error(
                where,
                "choice_filter",
                _message(
                    "choice_filter",
                    self.language,
                    value=_show(outside[0] if len(outside) == 1 else outside),
                    allowed=allowed,
                ),
            )
            return False
        return True


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check_answers(
    questionnaire: Questionnaire,
    answers: Mapping[str, Any],
    *,
    language: str = "de",
    today: dt.date | None = None,
    non_relevant: NonRelevant = "drop",
) -> CheckedAnswers:
    """Check ``answers`` against ``questionnaire``; return typed values, errors and dropped answers.

    Parameters
    ----------
    questionnaire : Questionnaire
    answers : mapping
        Field name to answer; a repeat's answer is a list of such mappings.
    language : str, default 'de'
        Language code of the messages; the form's default language, then English, stand in for missing
        translations.
    today : datetime.date, optional
        What ``today()`` returns in expressions (the local date when omitted).
    non_relevant : {'drop', 'fail'}, default 'drop'
        What to do with an answer to a question that does not apply: drop it (listed in ``dropped``) or
        report it as a ``not_relevant`` error.

    Returns
    -------
    CheckedAnswers
    """
    if non_relevant not in ("drop", "fail"):
        raise ValueError(f"non_relevant must be 'drop' or 'fail', got {non_relevant!r}")
    if not isinstance(answers, Mapping):
        raise TypeError(f"answers must be a mapping of field name to answer, got {type(answers).__name__}")
    checker = _Checker(questionnaire, language, today or dt.date.today(), non_relevant)
    values = checker.scope(questionnaire.fields, answers, {}, "")
    return CheckedAnswers(values=values, errors=tuple(checker.errors), dropped=tuple(checker.dropped))


def validate_answers(
    questionnaire: Questionnaire,
    answers: Mapping[str, Any],
    *,
    language: str = "de",
    today: dt.date | None = None,
    non_relevant: NonRelevant = "drop",
) -> list[FieldError]:
    """Return the problems of ``answers`` (empty when they are valid); see :func:`check_answers`.

    Examples
    --------
    >>> from digifit.forms import EXAMPLE_FORM, load_xlsform
    >>> q = load_xlsform(EXAMPLE_FORM)
    >>> [e.code for e in validate_answers(q, {"country": "XX"}, language="en")][:2]
    ['choice', 'required']
    """
    return list(check_answers(questionnaire, answers, language=language, today=today, non_relevant=non_relevant).errors)
