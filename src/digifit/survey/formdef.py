"""The questionnaire definition as the survey app uses it: load an XLSForm, its column schema, answers.

``digifit.forms`` parses and validates XLSForms; this module adapts its results to what the survey app
stores and needs:

* :func:`form_load` reads an uploaded ``.xlsx`` (through :func:`digifit.forms.xlsform.load_xlsform`) and adds the
  *schema*: a JSON description of every data field (name, type, group path, enclosing repeat, choice list,
  labels per language) that exports and snapshots are built from without parsing the file again.
* :func:`answers_normalize` coerces answers to their stored JSON types (integers, decimals, ISO dates,
  multi-select answers as ODK's space-separated string) and reports values that do not fit the type.
* :func:`answers_check` applies the form's rules (types, required, relevant, constraint, calculations) through
  :func:`digifit.forms.validation.check_answers` and returns the answers to store.
* :func:`answers_from_xml` reads an OpenRosa/XForms submission instance into the same answers dict.

Schema (stored in ``QuestionnaireVersion.schema``)::

    {"form_id": ..., "version": ..., "title": ..., "default_language": "de", "languages": ["de", "en"],
     "fields": [{"name": "tools", "type": "select_multiple", "path": ["g1", "tools"], "repeat": null,
                 "list_name": "tools", "labels": {"de": "...", "en": "..."}}, ...],
     "choices": {"tools": [{"name": "crm", "labels": {"de": "...", "en": "..."}}]},
     "repeats": [{"name": "employees", "path": ["employees"], "repeat": null, "labels": {...}}]}

Answers are keyed by field name (XLSForm names are unique in a form); a repeat is a list of objects keyed by
the names of its fields.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from digifit.survey.errors import FieldProblem, FormRejected, SubmissionRejected
from digifit.survey.text_check import text_problem

MAX_ANSWER_DEPTH = 64  # answers nest groups and repeats a few levels; deeper is refused before it is walked

# Metadata types of ``digifit.forms`` stored under the schema type their values have.
_TYPES = {"start": "datetime", "end": "datetime", "today": "date"}
#: Types that never carry an answer.
NO_DATA_TYPES = frozenset({"note"})


@dataclass(frozen=True)
class LoadedForm:
    """An XLSForm read and checked, ready to be stored as a questionnaire version."""

    form_id: str
    version: str
    title: str
    default_language: str
    languages: list[str]
    schema: dict[str, Any]
    xform_xml: str
    completeness: dict[str, Any]
    xlsx_sha256: str


def _section_walk(fields, *, repeat, out_fields, out_repeats) -> None:
    for f in fields:
        if f.repeat:
            out_repeats.append({"name": f.name, "path": [*f.path, f.name], "repeat": repeat, "labels": dict(f.label)})
            _section_walk(f.children, repeat=f.name, out_fields=out_fields, out_repeats=out_repeats)
        elif f.group:
            _section_walk(f.children, repeat=repeat, out_fields=out_fields, out_repeats=out_repeats)
        else:
            entry = {
                "name": f.name,
                "type": _TYPES.get(f.type, f.type),
                "path": [*f.path, f.name],
                "repeat": repeat,
                "labels": dict(f.label),
            }
            if f.list_name:
                entry["list_name"] = f.list_name
            if getattr(f, "or_other", False):
                entry["or_other"] = True
            out_fields.append(entry)


def schema_from_questionnaire(q) -> dict[str, Any]:
    """Build the stored column schema from a :class:`digifit.forms.model.Questionnaire`."""
    fields: list[dict[str, Any]] = []
    repeats: list[dict[str, Any]] = []
    _section_walk(q.fields, repeat=None, out_fields=fields, out_repeats=repeats)
    choices = {
        list_name: [{"name": str(c.name), "labels": dict(c.label)} for c in items]
        for list_name, items in q.choices.items()
    }
    for f in fields:  # or_other adds the value "other" to the list the field uses
        listed = choices.get(f.get("list_name") or "")
        if f.get("or_other") and listed is not None and not any(c["name"] == "other" for c in listed):
            listed.append({"name": "other", "labels": {}})
    schema = {
        "form_id": q.form_id,
        "version": str(q.version or ""),
        "title": q.title or q.form_id,
        "default_language": q.default_language,
        "languages": list(q.languages),
        "fields": fields,
        "choices": choices,
        "repeats": repeats,
    }
    notices = [{"row": n.row, "name": n.name, "feature": n.feature} for n in getattr(q, "notices", ())]
    if notices:  # what the web form cannot offer (served to ODK clients); worded by digifit.survey.notices
        schema["web_notices"] = notices
    return schema


def _completeness_json(report: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for lang, rep in dict(report or {}).items():
        missing = [
            {k: getattr(m, k, None) for k in ("sheet", "row", "name", "column")} for m in getattr(rep, "missing", ())
        ]
        out[str(lang)] = {
            "ratio": float(getattr(rep, "ratio", 1.0)),
            "complete": not missing,
            "missing": missing,
        }
    return out


def _problems(exc: Exception) -> list[FieldProblem]:
    problems = getattr(exc, "problems", None)
    if not problems:
        return [FieldProblem(field="file", code="xlsform", message=str(exc))]
    out = []
    for p in problems:
        where = ", ".join(
            str(part)
            for part in (
                f"sheet {p.sheet!r}" if getattr(p, "sheet", None) else None,
                f"row {p.row}" if getattr(p, "row", None) else None,
                f"column {p.column!r}" if getattr(p, "column", None) else None,
            )
            if part
        )
        out.append(
            FieldProblem(
                field="file",
                code="xlsform",
                message=f"{where}: {p.message}" if where else str(p.message),
                sheet=getattr(p, "sheet", None),
                row=getattr(p, "row", None),
                column=getattr(p, "column", None),
            )
        )
    return out


def form_load(content: bytes, *, filename: str | None = None) -> LoadedForm:
    """Read an uploaded XLSForm.

    Raises
    ------
    FormRejected
        The file is not an XLSForm pyxform accepts; ``.problems`` name sheet, row and column of each problem.
    """
    from digifit.forms.xlsform import XLSFormError, load_xlsform

    if not content:
        raise FormRejected([FieldProblem(field="file", code="empty", message="the uploaded file is empty")])
    from digifit.survey.upload_policy import refusal_of, upload_limits

    try:
        q = load_xlsform(content, filename=filename, limits=upload_limits())
    except XLSFormError as exc:
        refused = refusal_of(exc)
        if refused is not None:  # the upload guard's code; pages and the CLI put it in words (upload_policy)
            raise FormRejected([FieldProblem(field="file", code=refused.code, message=str(refused))]) from exc
        raise FormRejected(_problems(exc)) from exc
    schema = schema_from_questionnaire(q)
    return LoadedForm(
        form_id=q.form_id,
        version=str(q.version or ""),
        title=q.title or q.form_id,
        default_language=q.default_language,
        languages=list(q.languages),
        schema=schema,
        xform_xml=q.xform_xml,
        completeness=_completeness_json(q.completeness),
        xlsx_sha256=hashlib.sha256(content).hexdigest(),
    )


_PARSED: dict[tuple[int, str], Any] = {}
_PARSED_LOCK = threading.Lock()


def questionnaire_of(version) -> Any:
    """Return the parsed ``digifit.forms`` questionnaire of a stored version.

    Parsed once per process and version (the file is read from the database only then); a version's file
    never changes, its digest is part of the key all the same.
    """
    key = (version.pk, version.xlsx_sha256)
    found = _PARSED.get(key)
    if found is None:
        from digifit.forms.xlsform import load_xlsform
        from digifit.survey.models import QuestionnaireVersion

        content, filename, form_id = (
            QuestionnaireVersion.objects.filter(pk=version.pk)
            .values_list("xlsx", "filename", "questionnaire__form_id")
            .get()
        )
        # the name the file was uploaded with: pyxform takes form_id from it when the settings sheet has none
        found = load_xlsform(bytes(content), filename=filename or f"{form_id}.xlsx")
        with _PARSED_LOCK:
            if len(_PARSED) >= 64:
                _PARSED.clear()
            _PARSED[key] = found
    return found


# --------------------------------------------------------------------------------------------- answers


def canonical_json(data: Any) -> str:
    """Serialise answers the same way every time (for digests and comparisons)."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def answers_digest(data: Any) -> str:
    """Return the SHA-256 of the canonical JSON of ``data``."""
    return hashlib.sha256(canonical_json(data).encode()).hexdigest()


def _coerce(field_def: Mapping[str, Any], value: Any, where: str, errors: list[FieldProblem]) -> Any:
    kind = field_def["type"]
    if value is None or (isinstance(value, str) and value.strip() == ""):
        return None
    try:
        if kind == "integer":
            if isinstance(value, bool):
                raise ValueError
            if isinstance(value, float):
                if not value.is_integer():
                    raise ValueError
                value = int(value)
            number = int(str(value).strip())
            if not -(2**63) <= number < 2**63:  # the snapshot's int64
                raise ValueError
            return number
        if kind == "decimal":
            if isinstance(value, bool):
                raise ValueError
            number = float(str(value).strip()) if not isinstance(value, int | float) else float(value)
            if math.isnan(number) or math.isinf(number):
                raise ValueError
            return number
        if kind == "date":
            return dt.date.fromisoformat(str(value).strip()[:10]).isoformat()
        if kind == "rank":  # an order of choice names, kept in order (duplicates are the evaluator's to refuse)
            items = value if isinstance(value, list | tuple) else str(value).split()
            return " ".join(str(i).strip() for i in items if str(i).strip())
        if kind == "select_multiple":
            items = value if isinstance(value, list | tuple) else str(value).split()
            items = [str(i).strip() for i in items if str(i).strip()]
            return " ".join(dict.fromkeys(items))
        if isinstance(value, dict | list):
            raise ValueError
        return value if isinstance(value, str) else str(value)
    except (ValueError, TypeError):
        expected = {
            "integer": "a whole number (64-bit)",
            "decimal": "a number",
            "date": "a date as YYYY-MM-DD",
            "select_multiple": "choice names separated by spaces, or a list of them",
        }.get(kind, "a text")
        errors.append(FieldProblem(field=where, code="type", message=f"got {value!r}; expected {expected}"))
        return value


def _field_name(where: str) -> str:
    """``tools.1.tool_name`` (a path of keys and 0-based indices) as the answers name it: ``tools[2]/tool_name``."""
    out: list[str] = []
    for part in where.split(".") if where else []:
        if part.isdigit() and out:
            out[-1] += f"[{int(part) + 1}]"
        else:
            out.append(part)
    return "/".join(out) or "data"


def _text_refused(answers: Any) -> None:
    """Refuse answers no database can store: a lone surrogate or a NUL in a key or a text (every path, not
    only the JSON API, reaches here: web form, OpenRosa, imports)."""
    found = text_problem(answers, max_depth=MAX_ANSWER_DEPTH)
    if found is not None:
        where, what = found
        code = "depth" if what.startswith("the value is nested") else "unicode"
        raise SubmissionRejected([FieldProblem(field=_field_name(where), code=code, message=what)])


def answers_normalize(schema: Mapping[str, Any], answers: Any) -> dict[str, Any]:
    """Coerce answers to their stored types; unknown names and type mismatches are errors.

    Raises
    ------
    SubmissionRejected
        With one :class:`FieldProblem` per bad field (``field`` is the name, ``tools[2]/tool_name`` in repeats,
        counting from 1, as :mod:`digifit.forms.validation` names them).

    Answers may also nest groups as objects (``{"profile": {"country": "DE"}}``); they are flattened.
    """
    if not isinstance(answers, Mapping):
        raise SubmissionRejected(
            [FieldProblem(field="data", code="type", message=f"got {type(answers).__name__}; expected an object")]
        )
    _text_refused(answers)
    by_repeat: dict[str | None, dict[str, dict[str, Any]]] = {}
    for f in schema["fields"]:
        by_repeat.setdefault(f["repeat"], {})[f["name"]] = f
    repeat_names = {r["name"] for r in schema["repeats"]}
    group_names = {part for f in schema["fields"] for part in f["path"][:-1]} - repeat_names
    errors: list[FieldProblem] = []

    def level(values: Mapping[str, Any], repeat: str | None, prefix: str) -> dict[str, Any]:
        known = by_repeat.get(repeat, {})
        out: dict[str, Any] = {}
        for key, value in values.items():
            where = f"{prefix}{key}"
            if key in repeat_names and any(r["name"] == key and r["repeat"] == repeat for r in schema["repeats"]):
                if value is None:
                    continue
                if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
                    errors.append(FieldProblem(field=where, code="type", message="expected a list of objects"))
                    continue
                out[key] = [level(item, key, f"{where}[{i}]/") for i, item in enumerate(value, start=1)]
            elif key in group_names and isinstance(value, Mapping) and key not in known:
                for name, inner in level(value, repeat, f"{where}/").items():
                    out[name] = inner
            elif key in known:
                if known[key]["type"] in NO_DATA_TYPES:
                    continue
                coerced = _coerce(known[key], value, where, errors)
                if coerced is not None:
                    out[key] = coerced
            else:
                errors.append(FieldProblem(field=where, code="unknown", message=f"{key!r} is not a field of this form"))
        return out

    result = level(answers, None, "")
    if errors:
        raise SubmissionRejected(errors)
    return result


def answers_check(version, answers: Mapping[str, Any], *, language: str = "de") -> dict[str, Any]:
    """Apply the form's rules (types, required, relevant, constraint, choices, calculations) to answers.

    Returns the answers to store: typed values as JSON (dates ISO, multi-select answers space-separated as
    ODK stores them), calculations computed by the server, answers to questions that do not apply dropped.

    Raises
    ------
    SubmissionRejected
        With the per-field errors of :func:`digifit.forms.validation.check_answers`.
    """
    from digifit.forms.validation import check_answers

    checked = check_answers(questionnaire_of(version), dict(answers), language=language or "de")
    if checked.errors:
        raise SubmissionRejected(
            [
                FieldProblem(field=str(p.field), code=str(getattr(p, "code", "invalid")), message=str(p.message))
                for p in checked.errors
            ]
        )
    return _stored(checked.values)


def _stored(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _stored(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        if all(isinstance(v, Mapping) for v in value) and value:
            return [_stored(v) for v in value]
        return " ".join(str(v) for v in value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


# --------------------------------------------------------------------------------------------- XML


@dataclass(frozen=True)
class XmlInstance:
    """An XForms instance as a client submitted it."""

    form_id: str
    version: str
    instance_id: str
    answers: dict[str, Any]
    deprecated_id: str = ""  # set when a client (Enketo, ODK) sends an edit of an earlier instance


MAX_XML_DEPTH = 64  # XForms nest groups and repeats a few levels; a deeper document is refused unread


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _xml_refused(message: str) -> SubmissionRejected:
    return SubmissionRejected([FieldProblem(field="xml_submission_file", code="xml", message=message)])


def _xml_root(content: bytes):
    """Parse ``content`` with entities and DTDs forbidden, stopping as soon as elements nest deeper than
    :data:`MAX_XML_DEPTH` (so a 100,000-deep document costs as much as a 65-deep one)."""
    depth = 0
    root = None
    try:
        for event, element in SafeET.iterparse(io.BytesIO(content), events=("start", "end")):
            if event == "end":
                depth -= 1
                continue
            depth += 1
            if root is None:
                root = element
            if depth > MAX_XML_DEPTH:
                raise _xml_refused(f"the XML nests elements deeper than {MAX_XML_DEPTH} levels")
    except SafeET.ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        raise _xml_refused(
            f"the submission is not well-formed XML (line {line}, column {column}): check that it is complete "
            "UTF-8 text with valid characters"
        ) from exc
    except DefusedXmlException as exc:
        raise _xml_refused("the submission declares a DTD or entities, which are not accepted") from exc
    if root is None:
        raise _xml_refused("the submission is empty")
    return root


def answers_from_xml(schema: Mapping[str, Any] | None, content: bytes) -> XmlInstance:
    """Read a submitted XForms instance into an answers dict.

    Groups are flattened (answers are keyed by field name); an element that is a repeat of the schema becomes a
    list of objects; ``meta/instanceID`` (and ``meta/deprecatedID`` of an edit) are returned without their
    ``uuid:`` prefix.

    Raises
    ------
    SubmissionRejected
        The XML is malformed, nested deeper than :data:`MAX_XML_DEPTH`, declares a DTD or entities, or it
        has no ``id`` attribute or no instanceID.
    """
    root = _xml_root(content)
    form_id = root.get("id") or ""
    version = root.get("version") or ""
    repeat_names = {r["name"] for r in (schema or {}).get("repeats", [])}
    instance_id = ""
    deprecated_id = ""

    def read(element, into: dict[str, Any]) -> None:
        nonlocal instance_id, deprecated_id
        for child in element:
            name = _local(child.tag)
            if name == "meta" and len(child):
                for meta in child:
                    if _local(meta.tag) == "instanceID" and meta.text:
                        instance_id = meta.text.strip()
                    elif _local(meta.tag) == "deprecatedID" and meta.text:
                        deprecated_id = meta.text.strip().removeprefix("uuid:")
                continue
            if name in repeat_names:
                item: dict[str, Any] = {}
                read(child, item)
                if child.get("{http://openrosa.org/javarosa}template") is None:
                    into.setdefault(name, []).append(item)
            elif len(child):
                read(child, into)  # a group
            else:
                text = (child.text or "").strip()
                if text != "":
                    into[name] = text

    answers: dict[str, Any] = {}
    read(root, answers)
    if not instance_id:
        instance_id = root.get("instanceID") or ""
    problems = []
    if not form_id:
        problems.append(FieldProblem(field="xml_submission_file", code="xml", message="the root has no id"))
    if not instance_id:
        problems.append(
            FieldProblem(field="meta/instanceID", code="required", message="the submission has no instanceID")
        )
    if problems:
        raise SubmissionRejected(problems)
    if instance_id.startswith("uuid:"):
        instance_id = instance_id[len("uuid:") :]
    return XmlInstance(
        form_id=form_id, version=version, instance_id=instance_id, answers=answers, deprecated_id=deprecated_id
    )


__all__ = [
    "LoadedForm",
    "XmlInstance",
    "answers_check",
    "answers_digest",
    "answers_from_xml",
    "answers_normalize",
    "canonical_json",
    "form_load",
    "questionnaire_of",
    "schema_from_questionnaire",
]
