"""The sparse-cell policy of raking: a margin level without responses is collapsed into a neighbouring level.

A wave that has just opened has responses in a few cells only; a margin level with a population count but no
sample row cannot be raked to (its weight factor would be infinite). Rather than fail, :func:`collapse_empty`
merges such a level's population count into a **neighbouring level** and records a :class:`Collapse` note:

- the level varies along one column of the margin — the last column listed in ``ordered`` that is in the
  margin, else the margin's last column (for ``country × size``: the size within the same country);
- the candidates are the levels with sample rows that agree with the empty level on the margin's other
  columns;
- **ordered** column (``ordered=("size",)``): the neighbour is the next level in the population table's order
  (``small`` → ``medium``), or the previous one when no later level has responses;
- **unordered** column: the candidate with the largest population count;
- no candidate in the same group (e.g. ``DE`` has responses in no size): the level with the largest population
  count of the whole margin;
- no level of the margin has responses: the margin is dropped (``into`` is ``None``).

The merged count keeps the margin's total, so the margins still agree on the population size. The policy only
acts when a level is empty; data with every level present are raked exactly as before (and as R's ``rake``).
``rake(..., empty_levels="fail")`` keeps the strict behaviour: the empty level is an error.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

__all__ = ["Collapse", "collapse_empty"]


@dataclass(frozen=True)
class Collapse:
    """One merged level of a margin: ``levels`` (tuples of the margin's columns) went into ``into``.

    ``into`` is ``None`` when the whole margin was dropped (no level had responses). ``column`` is the column
    along which the neighbour was chosen.
    """

    margin: tuple[str, ...]
    levels: tuple[tuple, ...]
    into: tuple | None
    column: str | None = None

    def to_dict(self) -> dict:
        """A JSON-ready form: ``{"margin": [...], "levels": [[...]], "into": [...] | None, "column": ...}``."""
        return {
            "margin": list(self.margin),
            "levels": [list(k) for k in self.levels],
            "into": list(self.into) if self.into is not None else None,
            "column": self.column,
        }

    def __str__(self) -> str:
        shown = ", ".join("/".join(map(str, k)) for k in self.levels)
        if self.into is None:
            return f"margin {'/'.join(self.margin)} dropped: no level has responses"
        return f"margin {'/'.join(self.margin)}: {shown} (no responses) collapsed into {'/'.join(map(str, self.into))}"


def _key(k: tuple) -> tuple[str, ...]:
    return tuple(str(v) for v in k)


def collapse_empty(
    columns: Sequence[str],
    population: dict[tuple, float],
    sample_levels: Collection[tuple],
    *,
    ordered: Collection[str] = (),
) -> tuple[dict[tuple, float] | None, tuple[Collapse, ...]]:
    """Merge the population levels without sample rows into neighbouring levels (see the module's policy).

    Parameters
    ----------
    columns : the margin's columns
    population : {level tuple: count}, in the margin's order (as read from the mapping or the CSV file)
    sample_levels : the level tuples that have sample rows (compared as strings: CSV levels are strings)
    ordered : columns whose levels are ordered (their order is the population table's)

    Returns
    -------
    (population, notes)
        The new population (``None``: drop the margin) and one :class:`Collapse` per receiving level.
    """
    present = {_key(k) for k in sample_levels}
    keys = list(population)
    empty = [k for k in keys if _key(k) not in present and population[k] > 0]
    if not empty:
        return population, ()
    live = [k for k in keys if _key(k) in present]
    if not live:
        return None, (Collapse(tuple(columns), tuple(empty), None),)
    varying = next((c for c in reversed(list(columns)) if c in set(ordered)), columns[-1])
    v = list(columns).index(varying)
    is_ordered = varying in set(ordered)
    order = {k: i for i, k in enumerate(keys)}
    merged: dict[tuple, list[tuple]] = {}
    for k in empty:
        group = [c for c in live if all(c[i] == k[i] for i in range(len(columns)) if i != v)]
        if group and is_ordered:
            # the level order along the varying column, as the population lists it
            position = {}
            for key in keys:
                position.setdefault(key[v], len(position))
            later = [c for c in group if position[c[v]] > position[k[v]]]
            earlier = [c for c in group if position[c[v]] < position[k[v]]]
            target = min(later, key=lambda c: position[c[v]]) if later else max(earlier, key=lambda c: position[c[v]])
        elif group:
            target = max(group, key=lambda c: (population[c], -order[c]))
        else:
            target = max(live, key=lambda c: (population[c], -order[c]))
        merged.setdefault(target, []).append(k)
    out = {}
    for k in keys:
        if k in empty:
            continue
        out[k] = population[k] + sum(population[e] for e in merged.get(k, ()))
    notes = tuple(
        Collapse(tuple(columns), tuple(sorted(src, key=order.__getitem__)), target, varying)
        for target, src in sorted(merged.items(), key=lambda kv: order[kv[0]])
    )
    return out, notes
