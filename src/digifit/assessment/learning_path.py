"""Learning path of the Digital-Check: the weakest dimensions → trainings and coaching sessions. No Django.

The rules are a file organisers edit (``assessment/content/v1/learning_path.toml``): dimension → catalogue topics,
missing channel → topics, how many dimensions, trainings and sessions, and the sector codes of the catalogue.
The catalogue is anything with two methods (:class:`Catalogue`); the web app passes one backed by
``digifit.programme.selectors``, tests pass plain records.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from digifit.assessment.scoring import CheckResult, RulesError

__all__ = ["Catalogue", "Focus", "LearningPath", "PathRules", "load_path_rules", "recommend"]


class Catalogue(Protocol):
    """Where recommendations come from (the programme's training catalogue and coaching sessions)."""

    def trainings(self, *, sector: str | None, topics: Sequence[str], language: str | None) -> Sequence[Any]:
        """Return published trainings on any of ``topics`` for ``sector`` (None: any) in ``language``."""

    def sessions(self, *, sector: str | None, limit: int) -> Sequence[Any]:
        """Return the next upcoming coaching sessions open to ``sector``."""


@dataclass(frozen=True)
class PathRules:
    """The learning-path rules, as read by :func:`load_path_rules`."""

    version: str
    weakest: int
    below: float
    trainings_per_dimension: int
    sessions: int
    dimensions: Mapping[str, tuple[str, ...]]
    channels: Mapping[str, tuple[str, ...]]
    sectors: Mapping[str, str]


def load_path_rules(path: str | Path | None = None) -> PathRules:
    """Read the learning-path rules file.

    Raises
    ------
    RulesError
        The file is missing, not TOML, or a key has the wrong type.
    """
    if path is None:
        from digifit.assessment.content import instrument_paths

        path = instrument_paths().learning_path
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RulesError(f"{path}: the learning-path rules file does not exist.") from None
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{path}: not a valid TOML file ({exc}).") from None
    try:
        dims = {str(d): tuple(str(t) for t in spec["topics"]) for d, spec in data.get("dimensions", {}).items()}
        return PathRules(
            version=str(data["version"]),
            weakest=int(data.get("weakest", 2)),
            below=float(data.get("below", 75)),
            trainings_per_dimension=int(data.get("trainings_per_dimension", 3)),
            sessions=int(data.get("sessions", 3)),
            dimensions=dims,
            channels={str(k): tuple(str(t) for t in v) for k, v in data.get("channels", {}).items()},
            sectors={str(k): str(v) for k, v in data.get("sectors", {}).items()},
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise RulesError(f"{path}: {exc!r} — expected the keys documented at the top of the file.") from None


@dataclass(frozen=True)
class Focus:
    """One reason for recommendations: a weak dimension (``kind='dimension'``) or a missing channel."""

    kind: str
    key: str
    score: float | None
    topics: tuple[str, ...]
    trainings: tuple[Any, ...] = ()


@dataclass(frozen=True)
class LearningPath:
    """What a result recommends: focus areas with their trainings, and upcoming coaching sessions."""

    focus: tuple[Focus, ...]
    sessions: tuple[Any, ...]
    rules_version: str
    catalogue_sector: str | None
    notes: tuple[str, ...] = field(default=())


def _identity(item: Any) -> Any:
    for attr in ("pk", "id", "slug"):
        value = item.get(attr) if isinstance(item, Mapping) else getattr(item, attr, None)
        if value is not None:
            return (attr, value)
    return ("obj", id(item))


def recommend(
    result: CheckResult | Mapping[str, Any],
    rules: PathRules,
    catalogue: Catalogue | None,
    *,
    language: str | None = None,
) -> LearningPath:
    """Build the learning path of a result.

    The ``rules.weakest`` lowest-scoring dimensions below ``rules.below`` (ties in the scoring rules' order)
    come first, then missing channels. Scores are compared exact, as stored (a score of exactly ``below`` is not
    below it; 1e-9 less is, although it is shown rounded to the same figure). A training is recommended once,
    under the first focus that finds it.
    Without a catalogue the focus areas and topics are still returned (and a note says so).
    """
    data = result.to_dict() if isinstance(result, CheckResult) else dict(result)
    dims = data.get("dimensions") or {}
    order = list(dims)
    scored = sorted(
        (s, order.index(d), d) for d, s in dims.items() if s is not None and s < rules.below and d in rules.dimensions
    )
    focus_specs = [("dimension", d, s, rules.dimensions[d]) for s, _i, d in scored[: rules.weakest]]
    for channel, used in (data.get("channels") or {}).items():
        if used == 0 and channel in rules.channels:
            focus_specs.append(("channel", channel, None, rules.channels[channel]))
    sector_code = (data.get("profile") or {}).get("sector")
    sector = rules.sectors.get(sector_code) if sector_code else None
    notes = []
    seen: set[Any] = set()
    focus = []
    for kind, key, s, topics in focus_specs:
        found: list[Any] = []
        if catalogue is not None:
            for item in catalogue.trainings(sector=sector, topics=list(topics), language=language):
                ident = _identity(item)
                if ident in seen:
                    continue
                seen.add(ident)
                found.append(item)
                if len(found) >= rules.trainings_per_dimension:
                    break
        focus.append(Focus(kind=kind, key=key, score=s, topics=tuple(topics), trainings=tuple(found)))
    sessions: tuple[Any, ...] = ()
    if catalogue is None:
        notes.append("catalogue unavailable")
    else:
        sessions = tuple(catalogue.sessions(sector=sector, limit=rules.sessions))
    return LearningPath(
        focus=tuple(focus), sessions=sessions, rules_version=rules.version, catalogue_sector=sector, notes=tuple(notes)
    )
