"""The web form for respondents: ``/r/<invitation token>/`` and a wave's open link ``/r/open/<key>/``.

How the form works (docs/respondent.md explains it to respondents, docs/survey-manager.md to managers):

* **Pages.** Each top-level group of the XLSForm is a page; questions outside groups form pages of their own
  (notes before the first group open the first page, notes after the last one are shown on the thank-you page).
* **Drafts.** Every page POST saves the answers given so far on the server (:func:`services.submission_draft_save`),
  also when they do not pass the checks yet, so a closed tab or an expired session loses nothing; the invitation
  link resumes at the first page that still needs an answer. With JavaScript a change also saves (see below).
* **Skip logic, one evaluator.** Which questions apply, and which choices a ``choice_filter`` offers, is computed
  by :func:`form_state` on the server with :mod:`digifit.forms.expressions` — the evaluator that also checks the
  submission. Without JavaScript each page POST re-renders with relevance applied; with JavaScript
  ``static/digifit/skiplogic.js`` posts the page to the relevance endpoint on every change and shows or hides
  questions (and choices) by the answer. The browser never evaluates an expression itself.
* **Checks.** A page is checked with :func:`digifit.forms.validation.check_answers` over all answers; the
  messages of the page's own questions are shown next to them (``aria-describedby``), plus a summary with links.
  The final submit goes through :func:`services.submission_submit`, exactly like the API.

Views are thin: what is evaluated lives in the functions above the views, which take no request.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from digifit.forms.choice_filters import choice_scope, rewrite_choice_filter
from digifit.forms.expressions import ExpressionError, compile_expression, to_boolean
from digifit.forms.model import METADATA_TYPES, WEB_FORM_TYPES, Field, Questionnaire
from digifit.forms.validation import check_answers
from digifit.survey import formdef, selectors, services
from digifit.survey.answer_labels import DECIMAL_SEPARATORS
from digifit.survey.errors import SubmissionRejected, SurveyError
from digifit.survey.models import Invitation, QuestionnaireVersion, Submission, Wave

LANGUAGES = ("de", "en", "fr")
#: Types the respondent never sees (computed, filled by the system or the client).
_SILENT = frozenset({"calculate", "hidden", "background-geopoint"}) | METADATA_TYPES
#: Types the web form has no widget for: a notice says the question needs ODK Collect (served over OpenRosa).
_ODK_ONLY_NOTICE = "odk_only"
_MAX_REPEAT = 200
_MAX_PASSES = 20
_OPEN_SALT = "digifit.survey.open-link"
_TEST_SALT = "digifit.survey.test-link"

# ------------------------------------------------------------------------------------------- pages


@dataclass(frozen=True)
class Page:
    """One page of the web form: a top-level group, or a run of questions outside groups."""

    name: str
    fields: tuple[Field, ...]
    group: Field | None = None

    def label(self, language: str, fallback: str) -> str:
        if self.group is None:
            return ""
        return self.group.text("label", language, fallback) or self.group.name

    @property
    def names(self) -> frozenset[str]:
        """The answer keys of this page (top-level names; a repeat is one key)."""
        return frozenset(m.name for m in _scope_members(self.fields) if m.type not in _SILENT | {"note"})


def _scope_members(fields: Iterable[Field]) -> list[Field]:
    out: list[Field] = []
    for f in fields:
        if f.group:
            out.extend(_scope_members(f.children))
        else:
            out.append(f)
    return out


def _shown(f: Field) -> bool:
    return f.section or f.type not in _SILENT


@dataclass(frozen=True)
class Layout:
    """The pages of a questionnaire and the notes shown on the thank-you page."""

    pages: tuple[Page, ...]
    closing_notes: tuple[Field, ...]

    def index(self, name: str) -> int | None:
        return next((i for i, p in enumerate(self.pages) if p.name == name), None)

    def page_of(self, key: str) -> int | None:
        """The page holding the answer ``key`` (``tools[2]/tool_cost`` belongs to the page of ``tools``)."""
        top = key.split("[", 1)[0].split("/", 1)[0]
        return next((i for i, p in enumerate(self.pages) if top in p.names), None)


def form_layout(q: Questionnaire) -> Layout:
    """Split a questionnaire into pages (see the module docstring)."""
    pages: list[Page] = []
    loose: list[Field] = []
    leading_notes: list[Field] = []

    def flush() -> None:
        nonlocal loose
        shown = [f for f in loose if _shown(f)]
        if shown and all(f.type == "note" for f in shown):
            leading_notes.extend(shown)  # notes only: they open the next page
        elif shown:
            pages.append(Page(name=f"page{len(pages) + 1}", fields=(*leading_notes, *shown)))
            leading_notes.clear()
        loose = []

    for f in q.fields:
        if f.group and not f.repeat:
            flush()
            pages.append(Page(name=f.name, fields=(*leading_notes, f), group=f))
            leading_notes.clear()
        else:
            loose.append(f)
    closing = tuple(f for f in loose if _shown(f))
    if closing and all(f.type == "note" for f in closing):
        closing_notes = tuple(leading_notes) + closing
    else:
        flush()
        closing_notes = tuple(leading_notes)
    if not pages:  # a form of notes only
        pages.append(Page(name="page1", fields=closing_notes))
        closing_notes = ()
    return Layout(pages=tuple(pages), closing_notes=closing_notes)


# ------------------------------------------------------------------------------------------- relevance


@dataclass(frozen=True)
class FormState:
    """Which questions apply and which choices are offered, for the answers given so far.

    Keys are answer keys as the answer checks name them: ``closed_months``, inside a repeat
    ``tool_detail[2]/tool`` (counting from 1); groups and repeats have keys too.
    """

    relevant: Mapping[str, bool] = field(default_factory=dict)
    offered: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def is_relevant(self, key: str) -> bool:
        return self.relevant.get(key, True)

    def as_json(self) -> dict[str, Any]:
        return {"relevant": dict(self.relevant), "offered": {k: list(v) for k, v in self.offered.items()}}


def _env_value(f: Field, value: Any) -> Any:
    """An answer (stored or as typed into the form) as the evaluator reads it, typed like the checks do."""
    if value is None or (isinstance(value, str) and not value.strip()) or value == []:
        return None
    if f.type in ("select_multiple", "rank"):
        return " ".join(value) if isinstance(value, list | tuple) else str(value)
    text = str(value).strip()
    try:
        if f.type == "integer" and not isinstance(value, bool):
            return int(text)
        if f.type == "decimal" and not isinstance(value, bool):
            number = float(text)
            return number if math.isfinite(number) else None
        if f.type == "date":
            return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None  # not of the type: the checks report it; for relevance it is no answer
    return value


def _literal_default(f: Field) -> Any:
    if f.default is None or "${" in f.default or "(" in f.default:
        return None
    return _env_value(f, f.default)


def _truthy(source: str, env: Mapping[str, Any], context: str, today: dt.date) -> bool:
    try:
        return to_boolean(compile_expression(source).evaluate(env, context=context, today=today))
    except ExpressionError:
        return True  # as the answer checks: an expression that fails does not hide a question


def _members_with_chain(fields: Iterable[Field], inherited: tuple[str, ...] = ()) -> list[tuple[Field, tuple]]:
    out: list[tuple[Field, tuple]] = []
    for f in fields:
        chain = (*inherited, f.relevant) if f.relevant else inherited
        out.append((f, chain))
        if f.group:
            out.extend(_members_with_chain(f.children, chain))
    return out


def form_state(q: Questionnaire, answers: Mapping[str, Any], *, today: dt.date | None = None) -> FormState:
    """Evaluate relevance and choice filters for ``answers`` with the same rules as the answer checks.

    Relevance and calculations are iterated until they settle (a calculation may depend on relevance and
    the other way round), an enclosing group's ``relevant`` applies to everything inside it, and answers to
    questions that do not apply count as empty — as :func:`digifit.forms.validation.check_answers` does.
    """
    relevant: dict[str, bool] = {}
    offered: dict[str, tuple[str, ...]] = {}
    _state_scope(q, q.fields, answers, {}, "", today or dt.date.today(), relevant, offered)
    return FormState(relevant=relevant, offered=offered)


def _state_scope(q, fields, raw, outer, prefix, today, relevant, offered) -> None:
    members = _members_with_chain(fields)
    given: dict[str, Any] = {}
    for f, _chain in members:
        if f.group or f.type == "note":
            continue
        if f.repeat:
            items = raw.get(f.name)
            given[f.name] = [i for i in items if isinstance(i, Mapping)] if isinstance(items, list) else []
        elif f.type == "calculate":
            given[f.name] = None
        elif f.name in raw:
            given[f.name] = _env_value(f, raw[f.name])
        else:
            given[f.name] = _literal_default(f)
    values = {k: (None if isinstance(v, list) else v) for k, v in given.items()}
    env = {**outer, **{k: v for k, v in given.items()}}
    is_rel: dict[str, bool] = {}
    for _ in range(_MAX_PASSES):
        changed = False
        for f, chain in members:
            if f.type == "note" and not f.group:
                rel = all(_truthy(r, env, f.name, today) for r in chain)
                is_rel[f.name] = rel
                continue
            rel = all(_truthy(r, env, f.name, today) for r in chain)
            if is_rel.get(f.name) != rel:
                is_rel[f.name] = rel
                changed = True
            if f.group:
                continue
            if f.type == "calculate":
                new = None
                if rel and f.calculation:
                    try:
                        new = compile_expression(f.calculation).evaluate(env, context=f.name, today=today)
                    except ExpressionError:
                        new = None
                    if new == "" or (isinstance(new, float) and math.isnan(new)):
                        new = None
            elif f.repeat:
                new = given[f.name] if rel else []
            else:
                new = given[f.name] if rel else None
            if new != env.get(f.name) or f.name not in env:
                env[f.name] = new
                values[f.name] = new
                changed = True
        if not changed:
            break
    for f, _chain in members:
        key = prefix + f.name
        relevant[key] = is_rel.get(f.name, True)
        if f.choice_filter and f.list_name and relevant[key]:
            source = rewrite_choice_filter(f.choice_filter)
            offered[key] = tuple(
                c.name
                for c in q.choices.get(f.list_name, ())
                if _truthy(source, {**env, **choice_scope(c)}, f.name, today)
            )
        if f.repeat and relevant[key]:
            for i, item in enumerate(given[f.name], start=1):
                _state_scope(q, f.children, item, env, f"{key}[{i}]/", today, relevant, offered)


def page_applies(page: Page, state: FormState) -> bool:
    """Whether a page has a question (or note) that applies."""
    if page.group is not None and not state.is_relevant(page.group.name):
        return False
    return any(state.is_relevant(f.name) for f in _scope_members(page.fields) if f.type not in _SILENT)


# ------------------------------------------------------------------------------------------- answers


def page_answers_parse(page: Page, post: Mapping[str, Any], language: str = "en") -> dict[str, Any]:
    """Read the answers of one page from a POST (``QueryDict``); empty inputs are left out.

    A decimal typed with the page language's decimal comma (``29,90`` on a German or French page) is stored
    with the point, as every client stores it; a comma on an English page stays and fails the check, since
    there ``1,000`` is a thousand.

    >>> from digifit.forms.model import Field
    >>> page = Page(name="p", fields=(Field(name="price", type="decimal"),))
    >>> page_answers_parse(page, {"price": " 29,90 "}, "de"), page_answers_parse(page, {"price": "1,000"}, "en")
    ({'price': '29.90'}, {'price': '1,000'})
    """
    return _parse_scope(page.fields, post, "", DECIMAL_SEPARATORS.get(language, "."))


_LOCAL_DECIMAL = re.compile(r"[+-]?(\d+,\d*|,\d+)")


def _parse_scope(fields: Iterable[Field], post, prefix: str, separator: str = ".") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields:
        if f.group:
            out.update(_parse_scope(f.children, post, prefix, separator))
            continue
        key = prefix + f.name
        if f.repeat:
            try:
                n = max(0, min(_MAX_REPEAT, int(post.get(f"{key}#count", "0"))))
            except ValueError:
                n = 0
            out[f.name] = [_parse_scope(f.children, post, f"{key}[{i}]/", separator) for i in range(1, n + 1)]
            continue
        if f.type in _SILENT or f.type == "note":
            continue
        if f.type not in WEB_FORM_TYPES:
            continue  # answered in ODK Collect only
        if f.type in ("select_multiple", "rank"):
            picked = [v for v in post.getlist(key) if v.strip()] if hasattr(post, "getlist") else post.get(key)
            if picked:
                out[f.name] = list(picked)
            continue
        if f.type == "geopoint":
            parts = [str(post.get(f"{key}#{part}", "") or "").strip() for part in ("lat", "lon", "alt", "acc")]
            if parts[0] or parts[1]:
                lat, lon, alt, acc = parts
                out[f.name] = " ".join([lat or "?", lon or "?", alt or "0", acc or "0"])
            continue
        value = post.get(key, "")
        if isinstance(value, str) and value.strip():
            value = value.strip()
            if f.type == "decimal" and separator == "," and _LOCAL_DECIMAL.fullmatch(value):
                value = value.replace(",", ".")
            out[f.name] = value
    return out


def answers_merge(stored: Mapping[str, Any], page: Page, posted: Mapping[str, Any]) -> dict[str, Any]:
    """The draft's answers with the page's answers replaced by what was posted."""
    merged = {k: v for k, v in stored.items() if k not in page.names}
    merged.update(posted)
    return merged


def _drop_key(answers: dict[str, Any], key: str) -> None:
    """Remove the answer ``key`` (``tools[2]/tool_cost`` reaches into a repeat) from ``answers``."""
    parts = key.split("/")
    scope: Any = answers
    for part in parts[:-1]:
        m = re.fullmatch(r"(.+)\[(\d+)\]", part)
        if not m or not isinstance(scope, dict) or not isinstance(scope.get(m.group(1)), list):
            return
        items = scope[m.group(1)]
        index = int(m.group(2)) - 1
        if not 0 <= index < len(items):
            return
        scope = items[index]
    if isinstance(scope, dict):
        scope.pop(parts[-1], None)


def _repeat_list(answers: dict[str, Any], key: str) -> list | None:
    """The list of instances of the repeat ``key`` (``a`` or ``a[1]/b``), created if missing."""
    parts = key.split("/")
    scope: Any = answers
    for part in parts[:-1]:
        m = re.fullmatch(r"(.+)\[(\d+)\]", part)
        if not m or not isinstance(scope.get(m.group(1)), list):
            return None
        items = scope[m.group(1)]
        index = int(m.group(2)) - 1
        if not 0 <= index < len(items):
            return None
        scope = items[index]
    if not isinstance(scope, dict):
        return None
    found = scope.get(parts[-1])
    if not isinstance(found, list):
        found = scope[parts[-1]] = []
    return found


def answers_storable(version: QuestionnaireVersion, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers minus those of the wrong type (they stay on the page with their message, not in the draft)."""
    data = json.loads(json.dumps(answers, default=str))
    for _ in range(50):
        try:
            formdef.answers_normalize(version.schema, data)
            return data
        except SubmissionRejected as exc:
            for p in exc.problems:
                _drop_key(data, p.field)
    return {}


def page_errors(q: Questionnaire, layout: Layout, index: int, answers: Mapping[str, Any], language: str):
    """The problems of the questions on page ``index``: ``{key: [message, ...]}`` in sheet order."""
    checked = check_answers(q, dict(answers), language=language)
    errors: dict[str, list[str]] = {}
    for e in checked.errors:
        if layout.page_of(e.field) == index:
            errors.setdefault(e.field, []).append(form_message(q, e.field, e.code, e.message))
    return errors


def form_message(q: Questionnaire, key: str, code: str, message: str) -> str:
    """The message a respondent reads for a problem: the check's own, except that a number that cannot be read
    is asked for again with an example in the page language's notation ("Bitte eine Zahl eingeben, zum Beispiel
    12 oder 29,90") — the check's message speaks of the point, which the web form does not require."""
    if code == "type":
        name = re.sub(r"\[\d+\]$", "", key.rsplit("/", 1)[-1])
        try:
            kind = q.field(name).type
        except KeyError:
            return message
        if kind == "decimal":
            return gettext("Please enter a number, for example 12 or 29.90.")
        if kind == "integer":
            return gettext("Please enter a whole number, for example 12.")
    return message


# ------------------------------------------------------------------------------------------- widgets


@dataclass
class Widget:
    """What the template needs to draw one question, note, group or repeat."""

    kind: str  # note | group | repeat | radio | checkbox | select | text | integer | decimal | date | time |
    # dateTime | barcode | range | geopoint | rank | acknowledge | odk_only
    key: str
    label: str
    hint: str = ""
    required: bool = False
    relevant: bool = True
    value: str = ""
    values: tuple[str, ...] = ()
    choices: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    children: list[Widget] = field(default_factory=list)
    instances: list[dict[str, Any]] = field(default_factory=list)
    likert: bool = False
    filtered: bool = False
    range: dict[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return "f-" + re.sub(r"[^A-Za-z0-9_-]", "-", self.key)

    @property
    def describedby(self) -> str:
        ids = []
        if self.hint:
            ids.append(self.id + "-hint")
        if self.errors:
            ids.append(self.id + "-error")
        return " ".join(ids)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def page_widgets(
    q: Questionnaire,
    page: Page,
    answers: Mapping[str, Any],
    state: FormState,
    errors: Mapping[str, list[str]],
    language: str,
) -> list[Widget]:
    """Build the widgets of a page for ``answers`` (the draft merged with what was just posted)."""
    # the page's own group is the page (its label is the heading): draw its questions, not a fieldset
    fields = [c for f in page.fields for c in (f.children if f is page.group else (f,))]
    return _widgets(q, fields, answers, state, errors, language, "")


def _widgets(q, fields, values, state, errors, language, prefix) -> list[Widget]:
    out: list[Widget] = []
    fallback = q.default_language
    for f in fields:
        key = prefix + f.name
        if f.type in _SILENT and not f.section:
            continue
        label = f.text("label", language, fallback) or ""
        hint = f.text("hint", language, fallback) or ""
        common = {"key": key, "label": label, "hint": hint, "relevant": state.is_relevant(key)}
        if f.group and not f.repeat:
            out.append(
                Widget(
                    kind="group", children=_widgets(q, f.children, values, state, errors, language, prefix), **common
                )
            )
            continue
        if f.repeat:
            items = values.get(f.name)
            if not isinstance(items, list):
                items = [{}]  # one entry to start with; the respondent adds or removes entries
            instances = [
                {
                    "index": i,
                    "key": f"{key}[{i}]",
                    "children": _widgets(q, f.children, item, state, errors, language, f"{key}[{i}]/"),
                }
                for i, item in enumerate(items, start=1)
            ]
            out.append(Widget(kind="repeat", instances=instances, errors=list(errors.get(key, [])), **common))
            continue
        if f.type == "note":
            out.append(Widget(kind="note", **common))
            continue
        value = values.get(f.name)
        widget = Widget(
            kind="text",
            required=f.required is True,
            errors=list(errors.get(key, [])),
            likert="likert" in (f.appearance or ""),
            **common,
        )
        if f.type in ("select_one", "select_multiple"):
            choices = q.choices.get(f.list_name or "", ())
            if f.type == "select_multiple":
                picked = value if isinstance(value, list | tuple) else str(value or "").split()
            else:
                picked = [_text(value)] if value not in (None, "") else []
            offered = state.offered.get(key) if f.choice_filter else None
            widget.choices = [
                {
                    "name": c.name,
                    "label": c.label.get(language) or c.label.get(fallback) or next(iter(c.label.values()), c.name),
                    "checked": c.name in picked,
                    "offered": offered is None or c.name in offered,
                }
                for c in choices
            ]
            if f.or_other and not any(c.name == "other" for c in choices):
                other = {"de": "Sonstiges", "en": "Other", "fr": "Autre"}.get(language, "Other")
                widget.choices.append({"name": "other", "label": other, "checked": "other" in picked, "offered": True})
            widget.values = tuple(picked)
            widget.filtered = bool(f.choice_filter)
            if f.type == "select_multiple":
                widget.kind = "checkbox"
            else:
                widget.kind = "select" if f.choice_filter or len(widget.choices) > 12 else "radio"
        elif f.type == "rank":
            choices = q.choices.get(f.list_name or "", ())
            order = value if isinstance(value, list | tuple) else str(value or "").split()
            by_name = {c.name: c for c in choices}
            ranked = [by_name[n] for n in order if n in by_name] + [c for c in choices if c.name not in order]
            widget.kind = "rank"
            widget.choices = [
                {"name": c.name, "label": c.label.get(language) or c.label.get(fallback) or c.name} for c in ranked
            ]
        elif f.type == "geopoint":
            widget.kind = "geopoint"
            parts = [*str(value or "").split(), "", "", "", ""][:4]
            widget.values = tuple("" if p == "?" else p for p in parts)
        elif f.type == "range":
            widget.kind = "range"
            widget.value = _text(value)
            p = f.parameters
            widget.range = {"min": p.get("start", "1"), "max": p.get("end", "10"), "step": p.get("step", "1")}
        elif f.type in ("acknowledge", "trigger"):
            widget.kind = "acknowledge"
            widget.value = _text(value)
        elif f.type not in WEB_FORM_TYPES:
            widget.kind = _ODK_ONLY_NOTICE
        else:
            kinds = {"integer", "decimal", "date", "time", "dateTime", "barcode"}
            widget.kind = f.type if f.type in kinds else "text"
            widget.value = _text(value)
            if f.type == "decimal" and _LOCAL_DECIMAL.fullmatch(widget.value.replace(".", ",")):
                widget.value = widget.value.replace(".", DECIMAL_SEPARATORS.get(language, "."))
            if f.type == "dateTime":
                widget.value = widget.value[:16]  # datetime-local shows minutes; the zone is the browser's
        out.append(widget)
    return out


# ------------------------------------------------------------------------------------------- respondent


@dataclass
class Respondent:
    """Who answers through this URL: an invitation, a browser session on a wave's open link, or one on a
    version's test link (``pinned`` to that version, no wave, answers stored as tests)."""

    wave: Wave | None
    invitation: Invitation | None
    instance_id: uuid.UUID
    draft: Submission | None
    urls: dict[str, str]
    pinned: QuestionnaireVersion | None = None

    @property
    def test(self) -> bool:
        return self.pinned is not None

    @property
    def version(self) -> QuestionnaireVersion:
        if self.pinned is not None:
            return self.pinned
        if self.draft is not None:
            return self.draft.questionnaire_version
        found = selectors.version_latest(questionnaire=self.wave.questionnaire)
        if found is None:
            raise Http404("the questionnaire has no version")
        return found

    @property
    def accepts(self) -> bool:
        """Whether answers are taken now: a test link always, otherwise while the wave is open."""
        return self.test or services.wave_accepts(self.wave)

    @property
    def completed(self) -> bool:
        if self.draft is not None and self.draft.status in (Submission.Status.COMPLETE, Submission.Status.TEST):
            return True
        return self.invitation is not None and self.invitation.status == Invitation.Status.COMPLETED


def invitation_instance_id(invitation: Invitation, token: str) -> uuid.UUID:
    """The instanceID of the web form's answer to an invitation (``token``: the clear one of its link): the same
    in every browser and tab."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"digifit:invitation:{invitation.pk}:{token}")


def wave_open_key(wave: Wave) -> str:
    """The signed key of a wave's open link ``/r/open/<key>/`` (anyone with the link may answer)."""
    return signing.Signer(salt=_OPEN_SALT).sign(str(wave.pk)).replace(":", ".")


def wave_open_url(wave: Wave) -> str:
    """The path of a wave's open link."""
    return reverse("survey:respond_open", kwargs={"key": wave_open_key(wave)})


def version_test_key(version: QuestionnaireVersion) -> str:
    """The signed key of a version's test link ``/r/test/<key>/`` (answers are stored as tests)."""
    return signing.Signer(salt=_TEST_SALT).sign(str(version.pk)).replace(":", ".")


def version_test_url(version: QuestionnaireVersion) -> str:
    """The path of a version's test link."""
    return reverse("survey:respond_test", kwargs={"key": version_test_key(version)})


def _invitation_respondent(token: str) -> Respondent:
    invitation = selectors.invitation_get(token=token)
    if invitation is None:
        raise Http404("unknown invitation")
    uid = invitation_instance_id(invitation, token)
    draft = (
        Submission.objects.select_related("questionnaire_version")
        .filter(invitation=invitation)
        .order_by("status", "id")  # "complete" sorts before "draft"
        .first()
    )
    urls = {
        name: reverse(f"survey:respond_{name}", kwargs={"token": token}) for name in ("form", "relevance", "thanks")
    }
    return Respondent(
        wave=invitation.wave,
        invitation=invitation,
        instance_id=draft.instance_id if draft else uid,
        draft=draft,
        urls=urls,
    )


def _open_respondent(request: HttpRequest, key: str, *, create: bool) -> Respondent:
    try:
        wave_pk = int(signing.Signer(salt=_OPEN_SALT).unsign(key.replace(".", ":")))
    except (signing.BadSignature, ValueError):
        raise Http404("unknown link") from None
    wave = Wave.objects.select_related("questionnaire").filter(pk=wave_pk).first()
    if wave is None:
        raise Http404("unknown wave")
    session_key = f"digifit-open-{wave.pk}"
    stored = request.session.get(session_key)
    if stored is None:
        stored = str(uuid.uuid4())
        if create:
            request.session[session_key] = stored
    uid = uuid.UUID(stored)
    draft = Submission.objects.select_related("questionnaire_version").filter(instance_id=uid).first()
    urls = {
        "form": reverse("survey:respond_open", kwargs={"key": key}),
        "relevance": reverse("survey:respond_open_relevance", kwargs={"key": key}),
        "thanks": reverse("survey:respond_open_thanks", kwargs={"key": key}),
    }
    return Respondent(wave=wave, invitation=None, instance_id=uid, draft=draft, urls=urls)


def _test_respondent(request: HttpRequest, key: str, *, create: bool) -> Respondent:
    try:
        version_pk = int(signing.Signer(salt=_TEST_SALT).unsign(key.replace(".", ":")))
    except (signing.BadSignature, ValueError):
        raise Http404("unknown link") from None
    version = QuestionnaireVersion.objects.select_related("questionnaire").filter(pk=version_pk).first()
    if version is None:
        raise Http404("unknown version")
    session_key = f"digifit-test-{version.pk}"
    stored = request.session.get(session_key)
    if stored is None or (create and request.method == "GET" and request.GET.get("again")):
        stored = str(uuid.uuid4())  # "test again": a fresh answer
        if create:
            request.session[session_key] = stored
    uid = uuid.UUID(stored)
    draft = Submission.objects.select_related("questionnaire_version").filter(instance_id=uid).first()
    urls = {
        "form": reverse("survey:respond_test", kwargs={"key": key}),
        "relevance": reverse("survey:respond_test_relevance", kwargs={"key": key}),
        "thanks": reverse("survey:respond_test_thanks", kwargs={"key": key}),
    }
    return Respondent(wave=None, invitation=None, instance_id=uid, draft=draft, urls=urls, pinned=version)


def _language(request: HttpRequest, r: Respondent, q: Questionnaire) -> str:
    offered = [lang for lang in LANGUAGES if lang in q.languages] or [q.default_language]
    session_key = f"digifit-lang-{r.instance_id}"
    asked = request.GET.get("lang") or request.POST.get("_lang")
    if asked in offered:
        request.session[session_key] = asked
        return asked
    for candidate in (
        request.session.get(session_key),
        r.draft.language if r.draft else None,
        r.invitation.language if r.invitation else None,
        "de",
        q.default_language,
    ):
        if candidate in offered:
            return candidate
    return offered[0]


def _draft_save(r: Respondent, version: QuestionnaireVersion, answers: Mapping[str, Any], language: str) -> None:
    r.draft = services.submission_draft_save(
        questionnaire_version=version,
        instance_id=r.instance_id,
        data=answers_storable(version, answers),
        invitation=r.invitation,
        wave=r.wave,
        language=language,
    )


def _relevant_pages(layout: Layout, state: FormState) -> list[int]:
    return [i for i, p in enumerate(layout.pages) if page_applies(p, state)]


def _resume_page(q: Questionnaire, layout: Layout, answers: Mapping[str, Any], language: str, r: Respondent) -> int:
    state = form_state(q, answers)
    shown = _relevant_pages(layout, state) or [0]
    if r.draft is None:
        return shown[0]
    checked = check_answers(q, dict(answers), language=language)
    with_errors = {layout.page_of(e.field) for e in checked.errors}
    return next((i for i in shown if i in with_errors), shown[-1])


# ------------------------------------------------------------------------------------------- views


def _render_page(request, r, q, layout, index, answers, errors, language, *, status=200) -> HttpResponse:
    state = form_state(q, answers)
    shown = _relevant_pages(layout, state) or [index]
    if index not in shown:
        shown = sorted({*shown, index})
    position = shown.index(index)
    page = layout.pages[index]
    widgets = page_widgets(q, page, answers, state, errors, language)
    summary = [{"id": w.id, "label": w.label or w.key, "message": m} for w in _flatten(widgets) for m in w.errors]
    context = {
        "respondent": r,
        "title": q.title,
        "page": page,
        "page_label": page.label(language, q.default_language),
        "widgets": widgets,
        "errors": summary,
        "position": position + 1,
        "n_pages": len(shown),
        "is_first": position == 0,
        "is_last": position == len(shown) - 1,
        "language": language,
        "languages": [lang for lang in LANGUAGES if lang in q.languages],
        "urls": r.urls,
    }
    return render(request, "survey/respond/page.html", context, status=status)


def _flatten(widgets: list[Widget]) -> Iterable[Widget]:
    for w in widgets:
        yield w
        yield from _flatten(w.children)
        for inst in w.instances:
            yield from _flatten(inst["children"])


def _form(request: HttpRequest, r: Respondent) -> HttpResponse:
    if r.completed:
        return redirect(r.urls["thanks"])
    version = r.version
    q = formdef.questionnaire_of(version)
    language = _language(request, r, q)
    translation.activate(language)
    request.LANGUAGE_CODE = language
    if not r.accepts:
        return render(request, "survey/respond/closed.html", {"language": language}, status=403)
    layout = form_layout(q)
    stored = dict(r.draft.data) if r.draft is not None else {}

    if request.method != "POST":
        asked = layout.index(request.GET.get("page", ""))
        index = asked if asked is not None else _resume_page(q, layout, stored, language, r)
        return _render_page(request, r, q, layout, index, stored, {}, language)

    index = layout.index(request.POST.get("_page", ""))
    if index is None:
        return redirect(r.urls["form"])
    page = layout.pages[index]
    answers = answers_merge(stored, page, page_answers_parse(page, request.POST, language))
    action = request.POST.get("_action", "next")

    if action.startswith(("add:", "remove:")):
        verb, _, target = action.partition(":")
        if verb == "add":
            items = _repeat_list(answers, target)
            if items is not None and len(items) < _MAX_REPEAT:
                items.append({})
        else:
            m = re.fullmatch(r"(.+)\[(\d+)\]", target)
            items = _repeat_list(answers, m.group(1)) if m else None
            if items is not None and 0 < int(m.group(2)) <= len(items):
                items.pop(int(m.group(2)) - 1)
        _draft_save(r, version, answers, language)
        return _render_page(request, r, q, layout, index, answers, {}, language)

    _draft_save(r, version, answers, language)
    state = form_state(q, answers)
    shown = _relevant_pages(layout, state)
    if action == "back":
        earlier = [i for i in shown if i < index]
        target = layout.pages[earlier[-1] if earlier else index].name
        return redirect(f"{r.urls['form']}?page={target}")
    errors = page_errors(q, layout, index, answers, language)
    if errors:
        return _render_page(request, r, q, layout, index, answers, errors, language)
    later = [i for i in shown if i > index]
    if action != "submit" and later:
        return redirect(f"{r.urls['form']}?page={layout.pages[later[0]].name}")

    try:
        services.submission_submit(
            questionnaire_version=version,
            instance_id=r.instance_id,
            data=_with_timestamps(q, answers, r),
            wave=r.wave if r.invitation is None else None,
            invitation=r.invitation,
            language=language,
            source=Submission.Source.WEB,
            test=r.test,
        )
    except SubmissionRejected as exc:
        errors_by_page: dict[int, dict[str, list[str]]] = {}
        for p in exc.problems:
            at = layout.page_of(p.field)
            errors_by_page.setdefault(at if at is not None else index, {}).setdefault(p.field, []).append(
                form_message(q, p.field, p.code, p.message)
            )
        first = min(errors_by_page)
        return _render_page(request, r, q, layout, first, answers, errors_by_page[first], language)
    except SurveyError as exc:
        return render(
            request, "survey/respond/closed.html", {"language": language, "reason": str(exc)}, status=exc.status
        )
    return redirect(r.urls["thanks"])


def _with_timestamps(q: Questionnaire, answers: Mapping[str, Any], r: Respondent) -> dict[str, Any]:
    """Fill the form's ``start``/``end`` metadata fields as a data-collection client does."""
    out = dict(answers)
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    for f in q.fields:
        if f.type == "start" and f.name not in out:
            started = r.draft.created_at if r.draft is not None else None
            out[f.name] = started.isoformat(timespec="seconds") if started else now
        elif f.type == "end":
            out[f.name] = now
    return out


def _relevance(request: HttpRequest, r: Respondent) -> HttpResponse:
    """Save the page's answers as a draft and answer which questions apply and which choices are offered."""
    if r.completed:
        return JsonResponse({"detail": "already submitted"}, status=409)
    version = r.version
    q = formdef.questionnaire_of(version)
    layout = form_layout(q)
    index = layout.index(request.POST.get("_page", ""))
    if index is None:
        return JsonResponse({"detail": "unknown page"}, status=400)
    page = layout.pages[index]
    stored = dict(r.draft.data) if r.draft is not None else {}
    language = _language(request, r, q)
    answers = answers_merge(stored, page, page_answers_parse(page, request.POST, language))
    if r.accepts:
        _draft_save(r, version, answers, language)
    return JsonResponse(form_state(q, answers).as_json())


def _thanks(request: HttpRequest, r: Respondent) -> HttpResponse:
    version = r.version
    q = formdef.questionnaire_of(version)
    language = _language(request, r, q)
    translation.activate(language)
    request.LANGUAGE_CODE = language
    if not r.completed:
        return redirect(r.urls["form"])
    notes = [f.text("label", language, q.default_language) for f in form_layout(q).closing_notes]
    context = {
        "notes": [n for n in notes if n],
        "language": language,
        "title": q.title,
        "respondent": r,
        "programme_links": r.wave is not None and r.wave.thanks_links,
    }
    response = render(request, "survey/respond/thanks.html", context)
    if context["programme_links"]:
        # the programme and the Check follow the site's language (LocaleMiddleware): the form's language, as
        # Django's own set_language view stores it, so the links open in the language the respondent used
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite=settings.LANGUAGE_COOKIE_SAMESITE,
        )
    return response


def respond_form(request: HttpRequest, token: str) -> HttpResponse:
    """The form of an invitation: GET shows a page, POST saves it and goes on (or submits)."""
    return _form(request, _invitation_respondent(token))


@require_POST
def respond_relevance(request: HttpRequest, token: str) -> HttpResponse:
    """JSON ``{"relevant": {key: bool}, "offered": {key: [choice, ...]}}`` for the posted page (saved as draft)."""
    return _relevance(request, _invitation_respondent(token))


def respond_thanks(request: HttpRequest, token: str) -> HttpResponse:
    """The thank-you page of an answered invitation."""
    return _thanks(request, _invitation_respondent(token))


def respond_open(request: HttpRequest, key: str) -> HttpResponse:
    """A wave's open link: each browser session answers once."""
    return _form(request, _open_respondent(request, key, create=True))


@require_POST
def respond_open_relevance(request: HttpRequest, key: str) -> HttpResponse:
    return _relevance(request, _open_respondent(request, key, create=True))


def respond_open_thanks(request: HttpRequest, key: str) -> HttpResponse:
    return _thanks(request, _open_respondent(request, key, create=False))


def respond_test(request: HttpRequest, key: str) -> HttpResponse:
    """A version's test link: the form as respondents see it, its answers kept out of statistics.
    ``?again=1`` starts a fresh answer."""
    return _form(request, _test_respondent(request, key, create=True))


@require_POST
def respond_test_relevance(request: HttpRequest, key: str) -> HttpResponse:
    return _relevance(request, _test_respondent(request, key, create=True))


def respond_test_thanks(request: HttpRequest, key: str) -> HttpResponse:
    return _thanks(request, _test_respondent(request, key, create=False))
