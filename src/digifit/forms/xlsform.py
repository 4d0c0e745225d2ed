"""Load an XLSForm (.xlsx) into a :class:`~digifit.forms.model.Questionnaire`.

Two passes over the workbook:

1. **Our own checks** (openpyxl, cell by cell) collect every problem a form designer should fix — unknown
   question types, choice lists that do not exist, duplicate names, unbalanced ``begin``/``end`` rows,
   expressions that do not parse or name no field — each with its sheet, spreadsheet row and column header.
   All of them are reported at once in one :class:`XLSFormError`.
2. **pyxform** then converts the sheet (``pyxform.xls2xform.convert``): its survey dictionary is turned into
   our frozen model and its XForm XML is kept. An error pyxform still finds is reported the same way, with
   the row pyxform gives.

Labels missing in one language do not refuse a form: ``Questionnaire.completeness`` lists them.
"""

from __future__ import annotations

import dataclasses
import difflib
import io
import os
import re
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from digifit.forms.choice_filters import choice_columns, rewrite_choice_filter
from digifit.forms.model import (
    METADATA_TYPES,
    QUESTION_TYPES,
    SECTION_TYPES,
    WEB_FORM_TYPES,
    Choice,
    Field,
    LanguageReport,
    MissingLabel,
    Notice,
    Problem,
    Questionnaire,
    XLSFormError,
)
from digifit.forms.references import LAST_SAVED, rewrite_references
from digifit.uploads import UploadLimits, UploadRefused, check_xlsx

__all__ = ["load_xlsform"]

SURVEY, CHOICES, SETTINGS = "survey", "choices", "settings"

#: columns whose text is translated (``label::Deutsch (de)``)
TRANSLATABLE = ("label", "hint", "guidance_hint", "constraint_message", "required_message")
#: columns holding expressions, with the header aliases pyxform accepts
EXPRESSION_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "relevant": ("relevant", "relevance"),
    "constraint": ("constraint",),
    "calculation": ("calculation", "calculate"),
    "required": ("required",),
    "choice_filter": ("choice_filter",),
}
_TRUE = frozenset({"yes", "true", "true()", "1"})
_FALSE = frozenset({"", "no", "false", "false()", "0"})

_RE_SPACES = re.compile(r"\s+")
_RE_SECTION = re.compile(r"^(?P<edge>begin|end)[ _](?P<kind>group|repeat|loop)(?: over (?P<list>\S+))?$")
_RE_SELECT = re.compile(
    r"^(?P<cmd>select_one|select one|select1|select_multiple|select all that apply)(?P<from> from)?"
    r"(?: (?P<list>\S+))?(?: (?P<other>or_other|or other|or specify other))?$"
)
_SELECT_ALIASES = {
    "select_one": "select_one",
    "select one": "select_one",
    "select1": "select_one",
    "select_multiple": "select_multiple",
    "select all that apply": "select_multiple",
}
_SIMPLE_ALIASES = {"int": "integer", "string": "text", **{t: t for t in QUESTION_TYPES | METADATA_TYPES}}
_SIMPLE_ALIASES.pop("select_one")
_SIMPLE_ALIASES.pop("select_multiple")
#: our type parse leaves the kind to pyxform's dictionary (``dateTime``, ``geopoint``, ``image`` ...)
PYXFORM_KIND = "pyxform"
_PYXFORM_LIST_TYPES = frozenset(
    {"rank", "select_one_from_file", "select_multiple_from_file", "select_one_external", "range"}
)
#: pyxform's JSON type names -> digifit's
_PYXFORM_TYPES = {
    "select one": "select_one",
    "select all that apply": "select_multiple",
    "int": "integer",
    "photo": "image",
    "select one external": "select_one_external",
}
_RE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]*$")
_RE_REF = re.compile(r"\$\{([^}]*)\}")
_RE_LANG_CODE = re.compile(r"\(\s*([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*)\s*\)\s*$")
_RE_PYXFORM_ROW = re.compile(r"\[row\s*:\s*(\d+)\]\s*")
_RE_PYXFORM_NAMED = re.compile(r"(?:element|question|group|repeat) named '([^']+)'")
_RE_PYXFORM_SHEET = re.compile(r"'(survey|choices|settings|entities)' sheet", re.IGNORECASE)

#: labels pyxform leaves untranslated when it generates the ``or_other`` choice and its text question
OTHER_CHOICE_LABEL = {
    "de": "Sonstiges",
    "en": "Other",
    "fr": "Autre",
    "it": "Altro",
    "es": "Otro",
    "pl": "Inne",
}
SPECIFY_OTHER_LABEL = {
    "de": "Bitte angeben:",
    "en": "Specify other.",
    "fr": "Veuillez préciser :",
    "it": "Specificare:",
    "es": "Especifique:",
    "pl": "Proszę podać:",
}


def _expression_compiler() -> Callable[[str], Any] | None:
    """Return ``digifit.forms.expressions.compile_expression`` if that module is installed, else None."""
    try:
        from digifit.forms.expressions import compile_expression
    except ImportError:
        return None
    return compile_expression


# --------------------------------------------------------------------------------------------------------
# reading the workbook


@dataclass(frozen=True)
class _Row:
    number: int
    cells: Mapping[str, str]  # header as written -> stripped text

    def get(self, *headers: str) -> str:
        for header in headers:
            value = self.cells.get(header)
            if value:
                return value
        return ""

    def header_of(self, *headers: str) -> str:
        """The first of ``headers`` this sheet uses (for messages)."""
        for header in headers:
            if header in self.cells:
                return header
        return headers[0]


@dataclass(frozen=True)
class _Sheet:
    name: str  # as spelled in the workbook
    headers: tuple[str, ...]
    rows: tuple[_Row, ...]


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if value is True:
        return "TRUE"
    if value is False:
        return "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).replace("\xa0", " ").strip()


def _normal_header(text: str) -> str:
    """``'Label :: Deutsch (de)'`` -> ``'label::Deutsch (de)'``: column names in lower case, languages as written."""
    text = _RE_SPACES.sub(" ", text)
    base, sep, language = text.partition("::")
    return base.strip().lower() + (sep + language.strip() if sep else "")


def _read_sheets(data: bytes) -> dict[str, _Sheet]:
    import openpyxl

    workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        sheets: dict[str, _Sheet] = {}
        for ws in workbook.worksheets:
            rows_iter = ws.iter_rows(values_only=True)
            first = next(rows_iter, None) or ()
            headers = [_normal_header(_cell_text(h)) for h in first]
            rows = []
            for number, values in enumerate(rows_iter, start=2):
                cells = {h: _cell_text(v) for h, v in zip(headers, values, strict=False) if h}
                if any(cells.values()):
                    rows.append(_Row(number, cells))
            sheets[ws.title.strip().lower()] = _Sheet(ws.title, tuple(h for h in headers if h), tuple(rows))
        return sheets
    finally:
        workbook.close()


def _split_header(header: str) -> tuple[str, str | None]:
    """``'label::Deutsch (de)'`` -> ``('label', 'Deutsch (de)')``; ``'label'`` -> ``('label', None)``."""
    base, sep, language = header.partition("::")
    return base.strip().lower(), (language.strip() if sep else None)


def language_code(name: str) -> str:
    """Return the code in parentheses at the end of an XLSForm language name (``'Deutsch (de)'`` -> ``'de'``).

    Names without a code are used as they are.
    """
    match = _RE_LANG_CODE.search(name)
    return match.group(1).lower().replace("_", "-") if match else name.strip()


# --------------------------------------------------------------------------------------------------------
# our checks


@dataclass
class _Parsed:
    """What the sheet pass learns; used to report problems and, later, to enrich pyxform's dictionary."""

    problems: list[Problem]
    language_names: dict[str, str]  # code -> name, in sheet order
    default_language: str
    survey_rows: dict[str, _Row]  # field name -> row
    choice_rows: dict[tuple[str, str], _Row]
    or_other: set[str]
    settings: dict[str, str]
    kinds: dict[str, str]  # field name -> canonical type ("integer", "select_one", "begin group" ...)


def _parse_type(raw: str) -> tuple[str, dict[str, Any]] | tuple[None, str]:
    """Return ``(type, details)`` or ``(None, message)`` for a survey ``type`` cell."""
    spaced = _RE_SPACES.sub(" ", raw.strip())
    norm = spaced.lower()
    if m := _RE_SECTION.match(norm):
        if m["kind"] == "loop" and m["edge"] == "begin" and not m["list"]:
            return None, "begin loop needs the choice list it runs over: 'begin loop over <list_name>'"
        return f"{m['edge']} {m['kind']}", {}
    if m := _RE_SELECT.match(norm):
        kind = _SELECT_ALIASES[m["cmd"]]
        if not m["list"]:
            return None, f"{kind} needs the name of its choice list: '{kind} <list_name>'"
        skip = len(m["cmd"].split(" ")) + (1 if m["from"] else 0)
        list_name = spaced.split(" ")[skip]  # list names keep their case
        return kind, {"list_name": list_name, "or_other": bool(m["other"])}
    simple = norm.replace(" ", "_") if norm.replace(" ", "_") in _SIMPLE_ALIASES else norm
    if simple in _SIMPLE_ALIASES:
        return _SIMPLE_ALIASES[simple], {}
    from pyxform.question_type_dictionary import QUESTION_TYPE_DICT

    first = spaced.split(" ")[0]
    if spaced in QUESTION_TYPE_DICT or norm in QUESTION_TYPE_DICT:
        return PYXFORM_KIND, {}  # pyxform's type dictionary knows it: its JSON says what it is
    if first.lower() in _PYXFORM_LIST_TYPES:
        return PYXFORM_KIND, {}  # rank LIST, select_one_from_file f.csv ...: pyxform checks the rest
    vocabulary = [*QUESTION_TYPES, "begin group", "end group", "begin repeat", "end repeat", "int"]
    close = difflib.get_close_matches(first, vocabulary, n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return None, f"unknown question type {raw.strip()!r}{hint}"


def _literal_required(value: str) -> bool | None:
    low = value.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    return None


def _check(sheets: dict[str, _Sheet], filename: str | None) -> _Parsed:
    problems: list[Problem] = []
    survey = sheets.get(SURVEY)
    choices = sheets.get(CHOICES)
    settings_sheet = sheets.get(SETTINGS)

    settings: dict[str, str] = {}
    if settings_sheet and settings_sheet.rows:
        settings = {k.lower(): v for k, v in settings_sheet.rows[0].cells.items() if v}

    # languages, in sheet order
    names: list[str] = []
    for sheet in (survey, choices):
        for header in sheet.headers if sheet else ():
            base, language = _split_header(header)
            if base in TRANSLATABLE and language and language not in names:
                names.append(language)
    language_names: dict[str, str] = {}
    for name in names:
        code = language_code(name)
        if code in language_names and language_names[code] != name:
            problems.append(
                Problem(
                    SURVEY,
                    1,
                    None,
                    f"languages {language_names[code]!r} and {name!r} have the same code {code!r}",
                )
            )
        language_names.setdefault(code, name)
    wanted = settings.get("default_language", "")
    if wanted:
        default = language_code(wanted)
        if names and default not in language_names:
            problems.append(
                Problem(
                    SETTINGS,
                    2,
                    "default_language",
                    f"default language {wanted!r} has no label columns; the form has "
                    + ", ".join(repr(n) for n in names),
                )
            )
    else:
        default = next(iter(language_names), "default")
    language_names = {default: language_names.get(default, wanted or default)} | language_names

    if survey is None:
        problems.append(Problem(None, None, None, "the workbook has no 'survey' sheet"))
        return _Parsed(problems, language_names, default, {}, {}, set(), settings, {})
    for column in ("type", "name"):
        if column not in {h.lower() for h in survey.headers}:
            problems.append(Problem(SURVEY, 1, None, f"the survey sheet has no {column!r} column"))

    # choices sheet
    lists: dict[str, list[_Row]] = {}
    choice_rows: dict[tuple[str, str], _Row] = {}
    allow_duplicates = _literal_required(settings.get("allow_choice_duplicates", "")) is True
    for row in choices.rows if choices else ():
        list_name, name = row.get("list_name", "list name"), row.get("name")
        if not list_name:
            problems.append(Problem(CHOICES, row.number, "list_name", "choice without a list_name"))
            continue
        if not name:
            problems.append(Problem(CHOICES, row.number, "name", f"choice in list {list_name!r} has no name"))
            continue
        key = (list_name, name)
        if key in choice_rows and not allow_duplicates:
            problems.append(
                Problem(
                    CHOICES,
                    row.number,
                    "name",
                    f"duplicate choice {name!r} in list {list_name!r} (first in row {choice_rows[key].number})",
                )
            )
            continue
        choice_rows[key] = row
        lists.setdefault(list_name, []).append(row)

    # survey sheet: types, names, sections
    survey_rows: dict[str, _Row] = {}
    typed: list[tuple[_Row, str, dict[str, Any]]] = []
    stack: list[tuple[str, str, _Row]] = []
    or_other: set[str] = set()
    multiple_lists: set[str] = set()
    for row in survey.rows:
        raw_type = row.get("type")
        type_header = row.header_of("type")
        if not raw_type:
            problems.append(Problem(SURVEY, row.number, type_header, "row has no type"))
            continue
        kind, details = _parse_type(raw_type)
        if kind is None:
            problems.append(Problem(SURVEY, row.number, type_header, str(details)))
            continue
        assert isinstance(details, dict)
        name = row.get("name")
        if kind.startswith("end "):
            section = kind.split()[1]
            if not stack:
                problems.append(
                    Problem(
                        SURVEY,
                        row.number,
                        type_header,
                        f"'end {section}' without a matching 'begin {section}'",
                    )
                )
            else:
                open_kind, open_name, open_row = stack.pop()
                if open_kind != section:
                    problems.append(
                        Problem(
                            SURVEY,
                            row.number,
                            type_header,
                            f"'end {section}' closes 'begin {open_kind}' {open_name!r} of row {open_row.number}",
                        )
                    )
            continue
        if not name:
            if kind == "note":
                name = f"generated_note_name_{row.number}"
            else:
                problems.append(Problem(SURVEY, row.number, "name", f"{kind} row has no name"))
                continue
        elif not _RE_NAME.match(name):
            problems.append(
                Problem(
                    SURVEY,
                    row.number,
                    "name",
                    f"invalid name {name!r}: start with a letter or '_', then letters, digits, '_', '-' or '.'",
                )
            )
            continue
        if name in survey_rows:
            problems.append(
                Problem(
                    SURVEY,
                    row.number,
                    "name",
                    f"duplicate name {name!r} (first used in row {survey_rows[name].number})",
                )
            )
            continue
        survey_rows[name] = row
        if kind.startswith("begin "):
            stack.append((kind.split()[1], name, row))
        typed.append((row, kind, details))
        list_name = details.get("list_name")
        if list_name is not None:
            if list_name not in lists:
                problems.append(
                    Problem(
                        SURVEY,
                        row.number,
                        type_header,
                        f"choice list {list_name!r} is not on the choices sheet"
                        + ("" if choices else " (the workbook has no 'choices' sheet)"),
                    )
                )
            if kind == "select_multiple":
                multiple_lists.add(list_name)
            if details.get("or_other"):
                or_other.add(name)
                if row.get("choice_filter"):
                    problems.append(
                        Problem(
                            SURVEY,
                            row.number,
                            "choice_filter",
                            "a choice_filter cannot be combined with or_other",
                        )
                    )
        if kind == "calculate" and not row.get(*EXPRESSION_COLUMNS["calculation"]):
            problems.append(Problem(SURVEY, row.number, "calculation", "a calculate field needs a calculation"))
    for section, name, row in reversed(stack):
        problems.append(
            Problem(
                SURVEY,
                row.number,
                row.header_of("type"),
                f"'begin {section}' {name!r} has no matching 'end {section}'",
            )
        )

    for list_name in sorted(multiple_lists & lists.keys()):
        for row in lists[list_name]:
            if " " in row.get("name"):
                problems.append(
                    Problem(
                        CHOICES,
                        row.number,
                        "name",
                        f"choice {row.get('name')!r} of list {list_name!r} contains a space; "
                        "select_multiple answers are separated by spaces",
                    )
                )

    # expressions: references and syntax
    compile_expression = _expression_compiler()
    choice_headers = {_split_header(h)[0] for h in choices.headers} if choices else set()
    for row, _kind, _details in typed:
        for key, aliases in EXPRESSION_COLUMNS.items():
            source = row.get(*aliases)
            if not source or (key == "required" and _literal_required(source) is not None):
                continue
            header = row.header_of(*aliases)
            for ref in _RE_REF.findall(source):
                ref = ref.removeprefix(LAST_SAVED)  # ${last-saved#q} names the field q
                if ref not in survey_rows:
                    close = difflib.get_close_matches(ref, list(survey_rows), n=1)
                    hint = f"; did you mean ${{{close[0]}}}?" if close else ""
                    problems.append(Problem(SURVEY, row.number, header, f"${{{ref}}} names no field{hint}"))
            compiled = rewrite_references(source)
            if key == "choice_filter":
                compiled = rewrite_choice_filter(compiled)
                known = choice_headers | {"name", "label"}
                for column in sorted(choice_columns(source) - known):
                    problems.append(
                        Problem(
                            SURVEY,
                            row.number,
                            header,
                            f"{column!r} is not a column of the choices sheet "
                            f"(in a choice_filter, bare names are choice columns; fields are ${{name}})",
                        )
                    )
            if compile_expression is not None:
                try:
                    compile_expression(compiled)
                except Exception as exc:  # any refusal by the compiler is a problem of the form
                    if compiled != source:  # positions point into the rewritten text: keep the message only
                        detail = f"{getattr(exc, 'message', exc)} in {source!r}"
                    else:
                        detail = getattr(exc, "summary", str(exc))
                    problems.append(Problem(SURVEY, row.number, header, f"cannot read the expression: {detail}"))

    if not settings.get("form_id") and not filename:
        problems.append(Problem(SETTINGS, 2, "form_id", "the form has no form_id (settings sheet)"))
    for header in settings_sheet.headers if settings_sheet else ():  # pyxform fails on these ("no attribute nodeType")
        base, language = _split_header(header)
        if base == "form_title" and language is not None:
            problems.append(
                Problem(
                    SETTINGS,
                    1,
                    header,
                    "form_title cannot be translated (pyxform and ODK take one title): keep a single form_title "
                    "column; the questions and choices are translated with label::… columns",
                )
            )
    kinds = {name: kind for row, kind, _details in typed if (name := row.get("name"))}
    return _Parsed(problems, language_names, default, survey_rows, choice_rows, or_other, settings, kinds)


def _completeness(sheets: dict[str, _Sheet], parsed: _Parsed) -> dict[str, LanguageReport]:
    codes = list(parsed.language_names)
    missing: dict[str, list[MissingLabel]] = {c: [] for c in codes}
    total = 0
    for sheet_name in (SURVEY, CHOICES):
        sheet = sheets.get(sheet_name)
        if sheet is None:
            continue
        for row in sheet.rows:
            if sheet_name == SURVEY and row.get("type").lower().replace("_", " ").startswith("end "):
                continue
            name = row.get("name")
            if sheet_name == CHOICES:
                name = f"{row.get('list_name')}/{name}"
            for base in TRANSLATABLE:
                texts: dict[str, str] = {}
                for header, value in row.cells.items():
                    header_base, language = _split_header(header)
                    if header_base == base:
                        code = language_code(language) if language else parsed.default_language
                        if value:
                            texts[code] = value
                if not texts:
                    continue
                total += 1
                for code in codes:
                    if code not in texts:
                        column = f"{base}::{parsed.language_names[code]}"
                        missing[code].append(MissingLabel(sheet_name, row.number, name, column))
    return {
        code: LanguageReport(
            language=code,
            missing=tuple(missing[code]),
            ratio=1.0 if total == 0 else round((total - len(missing[code])) / total, 4),
        )
        for code in codes
    }


# --------------------------------------------------------------------------------------------------------
# pyxform's dictionary -> our model


class _Builder:
    def __init__(self, parsed: _Parsed) -> None:
        self.parsed = parsed
        self.codes = {name: code for code, name in parsed.language_names.items()}
        self.notices: list[Notice] = []

    def texts(self, value: Any) -> Mapping[str, str]:
        if not value:
            return {}
        if isinstance(value, str):
            return {self.parsed.default_language: value}
        out: dict[str, str] = {}
        for name, text in value.items():
            if not isinstance(text, str) or not text:
                continue
            code = self.parsed.default_language if name == "default" else self.codes.get(name, language_code(name))
            out.setdefault(code, text)
        return dict(out)

    def everywhere(self, table: Mapping[str, str], english: str) -> Mapping[str, str]:
        return {code: table.get(code, english) for code in self.parsed.language_names}

    def fields(self, children: Iterable[dict[str, Any]], path: tuple[str, ...]) -> tuple[Field, ...]:
        out = []
        for child in children:
            name = child.get("name", "")
            row = self.parsed.survey_rows.get(name)
            if row is None and name == "meta" and not path:
                continue  # the meta/instanceID group pyxform adds to every form
            out.append(self.field(child, path, row))
        return tuple(out)

    def field(self, d: dict[str, Any], path: tuple[str, ...], row: Any) -> Field:
        name = d["name"]
        raw_type = d.get("type", "")
        kind = _PYXFORM_TYPES.get(raw_type, raw_type)
        ours = self.parsed.kinds.get(name, "")
        if row is not None and ours and not ours.startswith("begin ") and ours != PYXFORM_KIND:
            kind = ours  # our canonical name ("int" is "integer")
        bind = {
            k: rewrite_references(v) if k in _BIND_EXPRESSIONS and isinstance(v, str) else v
            for k, v in (d.get("bind") or {}).items()
        }
        self.notice(d, kind, row)
        control = d.get("control") or {}
        required_raw = bind.get("required")
        required: bool | str = False
        if required_raw:
            literal = _literal_required(str(required_raw))
            required = literal if literal is not None else str(required_raw)
        section = kind in ("group", "repeat")
        generated = row is None
        label = self.texts(d.get("label"))
        relevant = bind.get("relevant")
        if generated and name.endswith("_other") and name[: -len("_other")] in self.parsed.or_other:
            owner = name[: -len("_other")]
            label = self.everywhere(SPECIFY_OTHER_LABEL, "Specify other.")
            relevant = f"selected(${{{owner}}}, 'other')"
        return Field(
            name=name,
            type=kind,
            path=path,
            label=label,
            hint=self.texts(d.get("hint")),
            required=required,
            required_message=self.texts(bind.get("jr:requiredMsg")),
            relevant=relevant or None,
            constraint=bind.get("constraint") or None,
            constraint_message=self.texts(bind.get("jr:constraintMsg")),
            calculation=bind.get("calculate") or None,
            default=str(d["default"]) if d.get("default") not in (None, "") else None,
            choice_filter=rewrite_references(d["choice_filter"]) if d.get("choice_filter") else None,
            list_name=d.get("list_name") or d.get("itemset") or None,
            or_other=name in self.parsed.or_other,
            appearance=control.get("appearance") or None,
            parameters=_parameters(d.get("parameters"), row.number if row is not None else None),
            repeat=kind == "repeat",
            group=kind == "group",
            children=self.fields(d.get("children") or (), (*path, name)) if section else (),
            row=row.number if row is not None else None,
            generated=generated,
        )

    def notice(self, d: dict[str, Any], kind: str, row: Any) -> None:
        """Note what the web form cannot offer of this element (it is still served to ODK clients)."""
        number = row.number if row is not None else None
        listed = str(d.get("list_name") or d.get("itemset") or "")
        if kind not in WEB_FORM_TYPES | METADATA_TYPES | SECTION_TYPES:
            self.notices.append(Notice(number, d.get("name", ""), f"type:{kind}"))
        elif listed.lower().endswith((".csv", ".xml", ".geojson")):
            self.notices.append(Notice(number, d.get("name", ""), f"type:{kind}_from_file"))
        if row is not None and any(LAST_SAVED in value for value in row.cells.values()):
            self.notices.append(Notice(number, d.get("name", ""), "last-saved"))

    def choices(self, lists: Mapping[str, list[dict[str, Any]]]) -> Mapping[str, tuple[Choice, ...]]:
        out: dict[str, tuple[Choice, ...]] = {}
        for list_name, items in lists.items():
            built = []
            for item in items:
                name = str(item.get("name", ""))
                row = self.parsed.choice_rows.get((list_name, name))
                label = self.texts(item.get("label"))
                if row is None and name == "other":
                    label = self.everywhere(OTHER_CHOICE_LABEL, "Other")
                extra = {k: str(v) for k, v in item.items() if k not in ("name", "label", "media") and v is not None}
                built.append(Choice(list_name, name, label, dict(extra), row.number if row else None))
            out[list_name] = tuple(built)
        return dict(out)


_BIND_EXPRESSIONS = frozenset({"relevant", "constraint", "calculate", "required", "readonly"})


def _parameters(value: Any, row: int | None = None) -> dict[str, str]:
    """pyxform's ``parameters`` as a dict: a mapping for most types, the cell text for some (parsed here)."""
    if not value:
        return {}
    if isinstance(value, str):
        from pyxform.parsing.parameters import parse

        value = parse(value, row or 0)
    if not isinstance(value, Mapping):
        return {}
    return {str(k): str(v) for k, v in value.items()}


def _pyxform_problem(exc: Exception, parsed: _Parsed) -> Problem:
    """Turn a pyxform error into a Problem, finding its row from ``[row : n]`` or the element it names."""
    message = str(exc).strip()
    row = None
    if m := _RE_PYXFORM_ROW.search(message):
        row = int(m.group(1))
        message = _RE_PYXFORM_ROW.sub("", message, count=1).strip()
    elif (m := _RE_PYXFORM_NAMED.search(message)) and m.group(1) in parsed.survey_rows:
        row = parsed.survey_rows[m.group(1)].number
    sheet = None
    if m := _RE_PYXFORM_SHEET.search(message):
        sheet = m.group(1).lower()
    elif row is not None:
        sheet = SURVEY
    return Problem(sheet, row, None, f"pyxform: {message}")


# --------------------------------------------------------------------------------------------------------


def _read_bytes(source: str | os.PathLike[str] | bytes | BinaryIO) -> tuple[bytes, str | None]:
    if isinstance(source, bytes | bytearray):
        return bytes(source), None
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        return path.read_bytes(), path.name
    return source.read(), getattr(source, "name", None)


def load_xlsform(
    source: str | os.PathLike[str] | bytes | BinaryIO,
    *,
    filename: str | None = None,
    limits: UploadLimits | None = None,
) -> Questionnaire:
    """Load an XLSForm workbook into a :class:`Questionnaire`.

    Parameters
    ----------
    source : path, bytes or binary file
        The ``.xlsx`` workbook.
    filename : str, optional
        Name used in error messages and as ``form_id`` when the settings sheet has none; defaults to the
        file name of ``source``.
    limits : UploadLimits, optional
        Bounds of the upload guard (:mod:`digifit.uploads`) checked before parsing; defaults apply.

    Returns
    -------
    Questionnaire

    Raises
    ------
    XLSFormError
        The workbook cannot be read or the form is broken; ``.problems`` lists every problem with its
        sheet, spreadsheet row and column.

    Examples
    --------
    >>> from digifit.forms import EXAMPLE_FORM
    >>> q = load_xlsform(EXAMPLE_FORM)
    >>> q.form_id, q.languages, q.choice_label("country", "DE", "en")
    ('example', ('de', 'en', 'fr'), 'Germany')
    """
    data, source_name = _read_bytes(source)
    filename = filename or source_name
    try:
        check_xlsx(data, limits)  # hostile files are refused before openpyxl or pyxform sees them
    except UploadRefused as exc:
        raise XLSFormError(
            [Problem(None, None, None, f"cannot read the workbook as .xlsx: {exc}")], filename=filename
        ) from exc
    try:
        with warnings.catch_warnings():  # openpyxl's "Unknown extension ..." would reach stderr
            warnings.simplefilter("ignore")
            sheets = _read_sheets(data)
    except Exception as exc:  # openpyxl raises many kinds (zipfile, KeyError, InvalidFileException ...)
        raise XLSFormError(
            [Problem(None, None, None, f"cannot read the workbook as .xlsx: {exc}")], filename=filename
        ) from exc

    parsed = _check(sheets, filename)
    if parsed.problems:
        raise XLSFormError(parsed.problems, filename=filename)

    from pyxform.errors import PyXFormError

    form_id = parsed.settings.get("form_id") or parsed.settings.get("id_string") or Path(filename or "form").stem
    conversion_warnings: list[str] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            survey, xform_xml = _convert(data, form_id, conversion_warnings)
    except (PyXFormError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise XLSFormError([_pyxform_problem(exc, parsed)], filename=filename) from exc

    builder = _Builder(parsed)
    fields = builder.fields(survey.get("children") or (), ())
    return Questionnaire(
        form_id=form_id,
        version=parsed.settings.get("version") or survey.get("version") or None,
        title=parsed.settings.get("form_title") or survey.get("title") or form_id,
        default_language=parsed.default_language,
        languages=tuple(parsed.language_names),
        fields=fields,
        choices=builder.choices(survey.get("choices") or {}),
        xform_xml=xform_xml,
        completeness=dict(_completeness(sheets, parsed)),
        language_names=dict(parsed.language_names),
        warnings=tuple(conversion_warnings),
        notices=tuple(builder.notices),
    )


def _convert(data: bytes, form_id: str, warnings_out: list[str]) -> tuple[dict[str, Any], str]:
    """pyxform's conversion (as ``pyxform.xls2xform.convert``), with the file's name as the fallback id.

    pyxform takes ``form_id`` from the file name when the settings sheet has none; the bytes carry no name,
    so it is given here and the XForm's ``id`` is the one digifit stores.
    """
    from pyxform.builder import create_survey_element_from_dict
    from pyxform.xls2json import workbook_to_json
    from pyxform.xls2json_backends import get_xlsform

    workbook = get_xlsform(xlsform=io.BytesIO(data), file_type=".xlsx")
    workbook = dataclasses.replace(workbook, fallback_form_name=form_id)
    survey = workbook_to_json(
        workbook_dict=workbook,
        form_name=None,
        fallback_form_name=workbook.fallback_form_name,
        default_language=None,
        warnings=warnings_out,
    )
    xform = create_survey_element_from_dict(survey).to_xml(validate=False, warnings=warnings_out)
    return survey, xform
