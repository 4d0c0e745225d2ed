"""Scoring of the Digital-Check: answers in, scores out. Pure Python, no Django.

The rules are data, read from one versioned file (``digifit/assessment/content/v1/rules.toml`` unless another path is
given): which items make the Digital Intensity Index (DII) and its levels, which items are channels, and which
items make each of the six dimensions of the EU Digital Maturity Assessment. The web page, ``digifit check
score`` and the statistics export all call :func:`score` with these rules.

::

    rules = load_rules()                        # RulesError names the file and the key that is wrong
    result = score({"dii_erp": "yes", ...}, rules)
    result.dii_score, result.dii_level, result.dimensions["data"], result.overall
    progress(previous, result)                  # RulesVersionMismatch if the rules versions differ

Missing answers are allowed (the web form requires every answer; the CLI scores partial answers):

* DII: a missing item counts as "no", so the score is a lower bound; ``dii_missing`` lists the items and
  ``dii_complete`` is False.
* a dimension's score is the mean of its answered items (0..``scale_max``) scaled to 0–100, and missing when
  fewer than ``min_answered`` items are answered; ``overall`` (mean of the six) is missing when any dimension is.

Every score is exact: computed as a fraction and stored as the nearest float (``66.66666666666667``, never a
rounded ``66.7``); the overall is the mean of the exact dimension scores and every threshold compares exact
values. Only :mod:`digifit.assessment.display` rounds, where a person reads the number.
* a channel or the revenue share left unanswered is ``None``.

An answer that is not allowed (``"maybe"`` for a yes/no item, ``7`` on a 0–4 scale) is an
:class:`AnswersError` naming the field; the scorer never guesses.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from digifit.errors import DigifitError

__all__ = [
    "AnswersError",
    "CheckResult",
    "Progress",
    "Rules",
    "RulesError",
    "RulesVersionMismatch",
    "answers_check",
    "dii_level",
    "load_rules",
    "progress",
    "rules_check_form",
    "score",
    "weakest_dimensions",
]


class RulesError(ValueError, DigifitError):
    """The scoring rules file is unusable (names the file and the key)."""


class AnswersError(ValueError, DigifitError):
    """Answers that cannot be scored; ``problems`` lists ``(field, message)`` pairs."""

    def __init__(self, message: str, problems: list[tuple[str, str]] | tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems)


class RulesVersionMismatch(ValueError, DigifitError):
    """Two results were scored with different rules versions and cannot be compared."""


@dataclass(frozen=True)
class Level:
    """A DII level: ``code`` for scores ``min``..``max`` (inclusive)."""

    code: str
    min: int
    max: int


@dataclass(frozen=True)
class Rules:
    """The scoring rules, as read from the rules file by :func:`load_rules`."""

    version: str
    dii_items: tuple[str, ...]
    dii_yes: str
    basic_min: int
    levels: tuple[Level, ...]
    channels: Mapping[str, str]
    channel_yes: str
    share_field: str
    share_bands: tuple[str, ...]
    share_25_plus: tuple[str, ...]
    scale_max: int
    min_answered: int
    dimensions: Mapping[str, tuple[str, ...]]
    profile_fields: tuple[str, ...]
    source: str = ""

    @property
    def dimension_order(self) -> tuple[str, ...]:
        return tuple(self.dimensions)

    def items(self) -> list[str]:
        """Return every answer name the rules read."""
        out = [*self.profile_fields, *self.dii_items, *self.channels.values(), self.share_field]
        for names in self.dimensions.values():
            out.extend(names)
        return out


def _get(data: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in data:
        raise RulesError(f"{where}: key {key!r} is missing.")
    value = data[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise RulesError(f"{where}: {key!r} is {value!r}; expected {getattr(kind, '__name__', kind)}.")
    return value


def load_rules(path: str | Path | None = None) -> Rules:
    """Read and check the scoring rules file.

    Parameters
    ----------
    path : str or Path, optional
        A TOML file; default the instrument's (:mod:`digifit.assessment.content`).

    Returns
    -------
    Rules

    Raises
    ------
    RulesError
        The file is missing or not TOML, a key is missing or has the wrong type, the DII levels do not cover
        ``0..len(items)`` exactly, or an item is listed twice.
    """
    if path is None:
        from digifit.assessment.content import instrument_paths

        path = instrument_paths().rules
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RulesError(f"{path}: the rules file does not exist.") from None
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{path}: not a valid TOML file ({exc}).") from None
    where = str(path)
    version = str(_get(data, "version", (str, int, float), where))
    dii = _get(data, "dii", dict, where)
    dii_items = tuple(_get(dii, "items", list, f"{where} [dii]"))
    levels = []
    for i, lv in enumerate(_get(dii, "levels", list, f"{where} [dii]"), start=1):
        w = f"{where} [dii] levels[{i}]"
        if not isinstance(lv, dict):
            raise RulesError(f"{w}: expected a table {{code, min, max}}; got {lv!r}.")
        levels.append(Level(str(_get(lv, "code", str, w)), _get(lv, "min", int, w), _get(lv, "max", int, w)))
    levels.sort(key=lambda lv: lv.min)
    expected = 0
    for lv in levels:
        if lv.min != expected or lv.max < lv.min:
            raise RulesError(
                f"{where} [dii] levels: level {lv.code!r} covers {lv.min}..{lv.max}; expected it to start at "
                f"{expected} (levels must cover 0..{len(dii_items)} without gaps or overlaps)."
            )
        expected = lv.max + 1
    if expected != len(dii_items) + 1:
        raise RulesError(
            f"{where} [dii] levels: they end at {expected - 1}; expected {len(dii_items)} (the number of items)."
        )
    ch = _get(data, "channels", dict, where)
    dims = _get(data, "dimensions", dict, where)
    dim_items = _get(dims, "items", dict, f"{where} [dimensions]")
    order = list(dims.get("order") or dim_items)
    if set(order) != set(dim_items):
        raise RulesError(
            f"{where} [dimensions]: order {order} does not list the same dimensions as items {list(dim_items)}."
        )
    rules = Rules(
        version=version,
        dii_items=dii_items,
        dii_yes=str(dii.get("yes", "yes")),
        basic_min=_get(dii, "basic_min", int, f"{where} [dii]"),
        levels=tuple(levels),
        channels={str(k): str(v) for k, v in _get(ch, "items", dict, f"{where} [channels]").items()},
        channel_yes=str(ch.get("yes", "yes")),
        share_field=str(_get(ch, "share_field", str, f"{where} [channels]")),
        share_bands=tuple(_get(ch, "share_bands", list, f"{where} [channels]")),
        share_25_plus=tuple(_get(ch, "share_25_plus", list, f"{where} [channels]")),
        scale_max=_get(dims, "scale_max", int, f"{where} [dimensions]"),
        min_answered=_get(dims, "min_answered", int, f"{where} [dimensions]"),
        dimensions={str(d): tuple(dim_items[d]) for d in order},
        profile_fields=tuple(data.get("profile", {}).get("fields", ("country", "sector", "size"))),
        source=str(path),
    )
    names = rules.items()
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise RulesError(f"{where}: item(s) {dupes} are listed more than once.")
    unknown = set(rules.share_25_plus) - set(rules.share_bands)
    if unknown:
        raise RulesError(f"{where} [channels]: share_25_plus has {sorted(unknown)}, which are not share_bands.")
    return rules


def rules_check_form(rules: Rules, questionnaire: Any) -> list[str]:
    """Return what does not fit between the rules and a check form (empty when they fit).

    Every item of the rules must be a field of the form, and a scale item's choices must be ``0..scale_max``.
    """
    problems = []
    fields = {f.name: f for f in questionnaire.walk()}
    for name in rules.items():
        if name not in fields:
            problems.append(f"rules item {name!r} is not a field of form {questionnaire.form_id!r}")
    for names in rules.dimensions.values():
        for name in names:
            f = fields.get(name)
            if f is not None and f.list_name:
                values = {c.name for c in questionnaire.choices.get(f.list_name, ())}
                if values != {str(i) for i in range(rules.scale_max + 1)}:
                    problems.append(f"field {name!r}: choices {sorted(values)}; expected 0..{rules.scale_max}")
    return problems


def _plain(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return " ".join(str(v) for v in value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def answers_check(
    questionnaire: Any, answers: Mapping[str, Any], *, language: str = "de", partial: bool = False
) -> dict[str, Any]:
    """Check answers against the check form with the forms engine; return them as stored (JSON values).

    The web page calls this with ``partial=False`` (every required answer must be given); ``digifit check
    score`` with ``partial=True`` (unanswered questions are allowed and scored as missing). Unknown fields,
    values outside the choices and failed constraints are always errors.

    Raises
    ------
    AnswersError
        With ``problems``: ``(field, message)`` in ``language``.
    """
    from digifit.forms import check_answers

    if not isinstance(answers, Mapping):
        raise AnswersError(f"answers must be an object of answer names to values; got {type(answers).__name__}.")
    checked = check_answers(questionnaire, dict(answers), language=language or "de")
    problems = [(str(e.field), str(e.message)) for e in checked.errors if not (partial and e.code == "required")]
    if problems:
        shown = "; ".join(f"{f}: {m}" for f, m in problems[:5])
        more = f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
        raise AnswersError(f"{len(problems)} answer(s) rejected: {shown}{more}", problems)
    return {k: _plain(v) for k, v in checked.values.items() if v is not None and v != ""}


# --------------------------------------------------------------------------------------------- results


@dataclass(frozen=True)
class CheckResult:
    """The scores of one set of answers (JSON-safe through :meth:`to_dict`)."""

    rules_version: str
    profile: dict[str, str | None]
    dii_score: int
    dii_level: str
    dii_basic: bool
    dii_complete: bool
    dii_missing: tuple[str, ...]
    dii_items: dict[str, int | None]
    channels: dict[str, int | None]
    digital_share: str | None
    digital25: int | None
    dimensions: dict[str, float | None]
    overall: float | None
    missing: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """Return the result as a JSON-safe dictionary (lists for tuples)."""
        out = asdict(self)
        out["dii_missing"] = list(self.dii_missing)
        out["missing"] = list(self.missing)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CheckResult:
        """Rebuild a result stored with :meth:`to_dict`."""
        values = dict(data)
        values["dii_missing"] = tuple(values.get("dii_missing", ()))
        values["missing"] = tuple(values.get("missing", ()))
        return cls(**{k: values[k] for k in cls.__dataclass_fields__ if k in values})


def dii_level(value: float, rules: Rules) -> str:
    """Return the DII level code of a score: the level whose ``min`` is the highest one ``<= value``.

    A level's ``min`` is its cut-off and belongs to it; anything below (even by 1e-9) is the level under it.
    The DII is a whole number, so this is the same as ``min <= value <= max``.

    >>> rules = load_rules()
    >>> [dii_level(s, rules) for s in (3, 4, 6, 7, 9, 10)]
    ['very_low', 'low', 'low', 'high', 'high', 'very_high']
    """
    found = None
    if rules.levels and rules.levels[0].min <= value <= rules.levels[-1].max:
        for lv in rules.levels:  # sorted by min (load_rules)
            if lv.min <= value:
                found = lv.code
    if found is None:
        raise RulesError(f"DII score {value!r} is outside every level of rules version {rules.version!r}.")
    return found


def _answer(answers: Mapping[str, Any], name: str) -> Any:
    value = answers.get(name)
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _yes_no(answers: Mapping[str, Any], name: str, yes: str, errors: list[str]) -> int | None:
    value = _answer(answers, name)
    if value is None:
        return None
    if isinstance(value, bool):
        return int(value)
    if value == yes:
        return 1
    if value == "no":
        return 0
    errors.append(f"{name}: got {value!r}; expected {yes!r} or 'no'")
    return None


def _scale(answers: Mapping[str, Any], name: str, top: int, errors: list[str]) -> int | None:
    value = _answer(answers, name)
    if value is None:
        return None
    try:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError
        number = int(value)
    except (TypeError, ValueError):
        number = -1
    if not 0 <= number <= top:
        errors.append(f"{name}: got {value!r}; expected a whole number from 0 to {top}")
        return None
    return number


def score(answers: Mapping[str, Any], rules: Rules) -> CheckResult:
    """Score one set of answers.

    Parameters
    ----------
    answers : mapping
        Answer name → value, as the check form stores them (``"yes"``/``"no"``, ``"0"``..``"4"`` or integers,
        band codes). Fields the rules do not read are ignored.
    rules : Rules

    Returns
    -------
    CheckResult

    Raises
    ------
    AnswersError
        Some answers have values the rules do not allow; every such field is named.

    Examples
    --------
    >>> rules = load_rules()
    >>> r = score({"dii_erp": "yes", "dii_crm": "yes", "dii_cloud": "yes", "dii_ai": "yes"}, rules)
    >>> r.dii_score, r.dii_level, r.dii_basic, r.dii_complete
    (4, 'low', True, False)
    """
    if not isinstance(answers, Mapping):
        raise AnswersError(f"answers must be an object of answer names to values; got {type(answers).__name__}.")
    errors: list[str] = []
    missing: list[str] = []
    dii_items = {name: _yes_no(answers, name, rules.dii_yes, errors) for name in rules.dii_items}
    dii_missing = tuple(name for name, v in dii_items.items() if v is None and _answer(answers, name) is None)
    channels = {key: _yes_no(answers, name, rules.channel_yes, errors) for key, name in rules.channels.items()}
    missing += [rules.channels[k] for k, v in channels.items() if v is None]
    share = _answer(answers, rules.share_field)
    if share is not None and share not in rules.share_bands:
        errors.append(f"{rules.share_field}: got {share!r}; expected one of {', '.join(rules.share_bands)}")
        share = None
    if share is None:
        missing.append(rules.share_field)
    # Exact rational scores: the overall is the mean of these, thresholds compare them; nothing is rounded here
    # (digifit.assessment.display rounds where a person reads a number).
    exact: dict[str, Fraction | None] = {}
    for dim, names in rules.dimensions.items():
        values = [_scale(answers, name, rules.scale_max, errors) for name in names]
        answered = [v for v in values if v is not None]
        missing += [n for n, v in zip(names, values) if v is None]
        if len(answered) < min(rules.min_answered, len(names)):
            exact[dim] = None
        else:
            exact[dim] = Fraction(sum(answered), len(answered) * rules.scale_max) * 100
    profile = {}
    for name in rules.profile_fields:
        value = _answer(answers, name)
        profile[name] = None if value is None else str(value)
        if value is None:
            missing.append(name)
    if errors:
        shown = "; ".join(errors[:5]) + (f"; and {len(errors) - 5} more" if len(errors) > 5 else "")
        raise AnswersError(f"{len(errors)} answer(s) not allowed by rules version {rules.version!r}: {shown}.")
    dii_score = sum(v for v in dii_items.values() if v)
    scores = list(exact.values())
    overall = None if not scores or any(s is None for s in scores) else sum(scores, Fraction(0)) / len(scores)
    return CheckResult(
        rules_version=rules.version,
        profile=profile,
        dii_score=dii_score,
        dii_level=dii_level(dii_score, rules),
        dii_basic=dii_score >= rules.basic_min,
        dii_complete=not dii_missing,
        dii_missing=dii_missing,
        dii_items=dii_items,
        channels=channels,
        digital_share=share,
        digital25=None if share is None else int(share in rules.share_25_plus),
        dimensions={d: None if v is None else float(v) for d, v in exact.items()},
        overall=None if overall is None else float(overall),
        missing=(*dii_missing, *missing),
    )


def weakest_dimensions(result: CheckResult, n: int = 2, *, below: float = 100.0) -> list[str]:
    """Return up to ``n`` dimensions with the lowest scores under ``below`` (ties in the rules' order)."""
    order = list(result.dimensions)
    scored = [(s, order.index(d), d) for d, s in result.dimensions.items() if s is not None and s < below]
    return [d for _s, _i, d in sorted(scored)[:n]]


@dataclass(frozen=True)
class Progress:
    """The change from a previous result to the current one (current minus previous)."""

    rules_version: str
    dii_score: int
    dii_level_changed: bool
    dimensions: dict[str, float | None]
    overall: float | None


def progress(previous: CheckResult, current: CheckResult) -> Progress:
    """Compare two results scored with the same rules version.

    Raises
    ------
    RulesVersionMismatch
        The results were scored with different rules versions; their scores do not mean the same.
    """
    if previous.rules_version != current.rules_version:
        raise RulesVersionMismatch(
            f"the previous result was scored with rules version {previous.rules_version!r}, this one with "
            f"{current.rules_version!r}; scores of different versions are not compared."
        )
    dims = {}
    for dim, now in current.dimensions.items():
        before = previous.dimensions.get(dim)
        dims[dim] = None if now is None or before is None else now - before  # exact; rounded where shown
    overall = None if current.overall is None or previous.overall is None else current.overall - previous.overall
    return Progress(
        rules_version=current.rules_version,
        dii_score=current.dii_score - previous.dii_score,
        dii_level_changed=current.dii_level != previous.dii_level,
        dimensions=dims,
        overall=overall,
    )
