"""The typed, frozen model of a questionnaire loaded from an XLSForm.

::

    Questionnaire
     ├── fields: tuple[Field, ...]          the survey sheet as a tree (groups and repeats hold children)
     ├── choices: {list_name: (Choice, ...)}
     ├── completeness: {language: LanguageReport}
     └── xform_xml                          the XForm pyxform generated

    XLSFormError(ValueError, DigifitError)  a form that cannot be used; ``.problems`` lists what is wrong

Labels, hints and messages are dictionaries keyed by language *code* (``"de"``, ``"en"``, ``"fr"``), parsed
from XLSForm column headers such as ``label::Deutsch (de)``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import NamedTuple

from digifit.errors import DigifitError

#: Field types digifit understands (XLSForm aliases such as ``int`` or ``select all that apply`` are mapped
#: onto these names).
QUESTION_TYPES: frozenset[str] = frozenset(
    {"integer", "decimal", "text", "select_one", "select_multiple", "date", "note", "calculate", "hidden"}
    | {"time", "dateTime", "geopoint", "geotrace", "geoshape", "range", "rank", "acknowledge", "trigger"}
    | {"barcode", "image", "audio", "video", "file", "osm", "background-geopoint"}
)
#: Metadata types filled in by the data-collection client, never by the respondent.
METADATA_TYPES: frozenset[str] = frozenset(
    {"start", "end", "today", "start-geopoint", "deviceid", "phonenumber", "username", "email", "audit"}
    | {"subscriberid", "simserial", "uri:deviceid", "uri:email", "uri:phonenumber", "uri:username"}
)
SECTION_TYPES: frozenset[str] = frozenset({"group", "repeat"})
#: Types digifit's web form offers a widget for (others are served to ODK clients, the web form shows a
#: "needs ODK Collect" notice).
WEB_FORM_TYPES: frozenset[str] = frozenset(
    {"integer", "decimal", "text", "select_one", "select_multiple", "date", "note", "calculate", "hidden"}
    | {"time", "dateTime", "geopoint", "range", "rank", "acknowledge", "trigger", "barcode"}
)


class Notice(NamedTuple):
    """Something of a form that is accepted and served to ODK clients but that the web form cannot offer.

    ``feature`` is ``"type:<type>"`` (a question type without a web widget) or ``"last-saved"`` (an
    expression reads ``${last-saved#...}``, empty in the web form); the survey app words it per language.
    """

    row: int | None
    name: str
    feature: str


class Problem(NamedTuple):
    """One thing wrong with an XLSForm, located as a spreadsheet user would look for it.

    ``row`` is the 1-based spreadsheet row (the header is row 1); ``sheet``, ``row`` and ``column`` are
    ``None`` when the problem is not tied to one place.
    """

    sheet: str | None
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = []
        if self.sheet:
            where.append(f"{self.sheet} sheet" + (f" row {self.row}" if self.row is not None else ""))
        elif self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f'column "{self.column}"')
        return f"{', '.join(where)}: {self.message}" if where else self.message


class XLSFormError(ValueError, DigifitError):
    """An XLSForm that cannot be loaded. ``problems`` holds every problem found, in sheet order."""

    #: how many problems ``str(error)`` lists before summarising the rest
    SHOWN = 20

    def __init__(self, problems: list[Problem] | tuple[Problem, ...], *, filename: str | None = None) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        self.filename = filename
        n = len(self.problems)
        head = f"{filename}: " if filename else ""
        head += f"the XLSForm has {n} problem{'s' if n != 1 else ''}"
        lines = [f"  - {p}" for p in self.problems[: self.SHOWN]]
        if n > self.SHOWN:
            lines.append(f"  ... and {n - self.SHOWN} more")
        super().__init__("\n".join([head + ":", *lines]))

    def __reduce__(self):  # keep problems and filename through pickling (task queues, caches)
        return _rebuild_xlsform_error, (self.problems, self.filename)


def _rebuild_xlsform_error(problems: tuple[Problem, ...], filename: str | None) -> XLSFormError:
    return XLSFormError(problems, filename=filename)


class MissingLabel(NamedTuple):
    """A translatable cell that has text in some language but not in this one."""

    sheet: str
    row: int
    name: str
    column: str


@dataclass(frozen=True)
class LanguageReport:
    """How completely one language is translated.

    ``ratio`` is the share of translatable cells (labels, hints, messages that have text in at least one
    language) that have text in this language; 1.0 means nothing is missing.
    """

    language: str
    missing: tuple[MissingLabel, ...]
    ratio: float

    @property
    def complete(self) -> bool:
        return not self.missing


@dataclass(frozen=True)
class Choice:
    """One row of the choices sheet.

    ``columns`` holds the extra columns (used by ``choice_filter``, e.g. ``country`` on a region list).
    """

    list_name: str
    name: str
    label: Mapping[str, str] = field(default_factory=dict)
    columns: Mapping[str, str] = field(default_factory=dict)
    row: int | None = None


@dataclass(frozen=True)
class Field:
    """One survey-sheet element: a question, a calculation, a note, a group or a repeat.

    Parameters
    ----------
    name : str
        The XLSForm ``name``; unique in the whole form, it is the key of the answer.
    type : str
        One of ``QUESTION_TYPES``, ``METADATA_TYPES`` or ``"group"`` / ``"repeat"``.
    path : tuple of str
        Names of the groups and repeats that enclose the field, outermost first.
    required : bool or str
        ``True``/``False``, or an expression when the form makes the answer conditionally required.
    relevant, constraint, calculation, choice_filter : str or None
        XLSForm expressions as written (``${name}`` references, ``.`` for the field's own value).
    or_other : bool
        For selects declared ``... or_other``: the value ``other`` is allowed and the free text goes to the
        field ``<name>_other``.
    generated : bool
        The field was added by pyxform, not written in the sheet (the ``<name>_other`` text of ``or_other``).
    """

    name: str
    type: str
    path: tuple[str, ...] = ()
    label: Mapping[str, str] = field(default_factory=dict)
    hint: Mapping[str, str] = field(default_factory=dict)
    required: bool | str = False
    required_message: Mapping[str, str] = field(default_factory=dict)
    relevant: str | None = None
    constraint: str | None = None
    constraint_message: Mapping[str, str] = field(default_factory=dict)
    calculation: str | None = None
    default: str | None = None
    choice_filter: str | None = None
    list_name: str | None = None
    or_other: bool = False
    appearance: str | None = None
    parameters: Mapping[str, str] = field(default_factory=dict)
    repeat: bool = False
    group: bool = False
    children: tuple[Field, ...] = ()
    row: int | None = None
    generated: bool = False

    @property
    def section(self) -> bool:
        """True for groups and repeats."""
        return self.group or self.repeat

    @property
    def xpath(self) -> str:
        """The path below the instance root, e.g. ``profile/country``."""
        return "/".join((*self.path, self.name))

    def walk(self) -> Iterator[Field]:
        """Yield this field and everything below it, in sheet order."""
        yield self
        for child in self.children:
            yield from child.walk()

    def text(self, attribute: str, language: str, fallback: str | None = None) -> str | None:
        """Return ``label``/``hint``/``constraint_message``/``required_message`` in ``language``.

        Falls back to ``fallback`` (usually the form's default language), then to any language given.
        """
        values: Mapping[str, str] = getattr(self, attribute)
        for lang in (language, fallback):
            if lang is not None and values.get(lang):
                return values[lang]
        return next(iter(values.values()), None)


@dataclass(frozen=True)
class Questionnaire:
    """A loaded XLSForm: its settings, its fields as a tree, its choice lists and its XForm."""

    form_id: str
    version: str | None
    title: str
    default_language: str
    languages: tuple[str, ...]
    fields: tuple[Field, ...]
    choices: Mapping[str, tuple[Choice, ...]]
    xform_xml: str
    completeness: Mapping[str, LanguageReport]
    language_names: Mapping[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    notices: tuple[Notice, ...] = ()

    def walk(self) -> Iterator[Field]:
        """Yield every field (groups and repeats included) in sheet order."""
        for f in self.fields:
            yield from f.walk()

    def field(self, name: str) -> Field:
        """Return the field called ``name``; raise ``KeyError`` naming the form if there is none."""
        found = self._index.get(name)
        if found is None:
            raise KeyError(f"questionnaire {self.form_id!r} has no field {name!r}")
        return found

    @cached_property
    def _index(self) -> Mapping[str, Field]:
        return {f.name: f for f in self.walk()}

    def choice_label(self, list_name: str, name: str, language: str | None = None) -> str | None:
        """Return the label of choice ``name`` in ``list_name`` (default language if none is given)."""
        for choice in self.choices.get(list_name, ()):
            if choice.name == name:
                labels = choice.label
                return labels.get(language or self.default_language) or labels.get(
                    self.default_language, next(iter(labels.values()), None)
                )
        return None
