"""Peer benchmark of the Digital-Check: a business against weighted survey estimates. No Django.

Where the numbers come from
---------------------------
The survey wave's Parquet snapshot (``digifit.survey.exports.snapshot_write``), weighted by
:func:`weighted_design` as the reports weight it: stratified by country, starting from ``design_weight`` and
raked (:func:`digifit.stats.rake`) to enterprise counts by country × size class and by sector (the wave's
population margins, :class:`digifit.survey.models.WaveMargins`, as the analyst uploaded them); post-stratified by
country × size when the sample lacks a level of the margins; unweighted when the wave has no margins.
Every number is an :class:`digifit.stats.Estimate` of :func:`digifit.stats.mean` of a 0/1 variable (a weighted
share) with its logit confidence interval; nothing is computed here on its own.

What is comparable
------------------
Only what the survey and the check ask the same way (:data:`MEASURES`):

* at least 25 % of revenue through digital channels (``digital25``, the same revenue bands in both);
* own website, online shop, social-media page, messaging with customers (the survey asks what the business had
  *before the crisis*, the check what it has now: the survey share is a floor for today).

Not compared, and the result page says so: online advertising (the survey asks only whether it was adopted
since the crisis), the DII and the six maturity dimensions (the survey does not ask those items).

The peer group
--------------
The business's country × sector × size class (:data:`GROUPS`). When that cell has fewer than ``min_n``
respondents or the estimate's coefficient of variation is above ``max_cv`` (or not finite), the next broader
group is used: country × sector, then country, then all respondents; the row says which group it used and why.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "GROUPS",
    "MEASURES",
    "NOT_COMPARABLE",
    "Measure",
    "PeerRow",
    "peer_benchmark",
    "peer_table",
    "weighted_design",
]

MIN_N = 30
MAX_CV = 0.30


@dataclass(frozen=True)
class Measure:
    """A share that the survey and the check both measure: survey column and the check result's value."""

    key: str
    survey_column: str
    check_path: tuple[str, ...]  # where the value sits in CheckResult.to_dict()

    def check_value(self, result: Mapping[str, Any]) -> int | None:
        value: Any = result
        for part in self.check_path:
            value = value.get(part) if isinstance(value, Mapping) else None
        return None if value is None else int(value)


MEASURES: tuple[Measure, ...] = (
    Measure("digital25", "digital25", ("digital25",)),
    Measure("website", "presence_before__website", ("channels", "website")),
    Measure("online_shop", "presence_before__online_shop", ("channels", "online_shop")),
    Measure("social_media", "presence_before__social_page", ("channels", "social_media")),
    Measure("messaging", "presence_before__messaging", ("channels", "messaging")),
)
#: What the result page shows without a peer value, and why (keys of the reasons in the page's text).
NOT_COMPARABLE: tuple[str, ...] = ("online_ads", "dii", "dimensions")

#: Peer groups from the narrowest to the broadest.
GROUPS: tuple[tuple[str, ...], ...] = (("country", "sector", "size"), ("country", "sector"), ("country",), ())


def _key(values: Sequence[Any]) -> str:
    return "|".join("" if v is None else str(v) for v in values)


def weighted_design(
    source: str | Path | Any,
    *,
    weights: str | None = "weight",
    base_weights: str = "design_weight",
    margins: str | Path | Mapping | None = None,
) -> tuple[Any, str]:
    """Return the weighted design of a wave snapshot and a note saying how it was weighted.

    Parameters
    ----------
    source : path or table
        A Parquet snapshot (or a pyarrow Table).
    weights : str or None, default 'weight'
        Final weights: used as they are when the snapshot has this column.
    base_weights : str, default 'design_weight'
        Starting weights for the calibration when the snapshot has this column (else 1).
    margins : mapping or path, optional
        The population margins ``{("country", "size"): {("DE", "micro"): count, …}, ("sector",): {…}}`` (the
        wave's stored ones, :func:`digifit.survey.selectors.margins_of`), or a folder with
        ``enterprises_country_size.csv`` (``country, size, Freq``) and ``enterprises_sector.csv``
        (``sector, Freq``). Without margins the design is unweighted. Respondents whose country, size or sector has no
        count (such as ``other``) are left out. The design is stratified by country and raked to both margins,
        as the reports do; when the sample lacks a level of the margins (raking needs every level on both
        sides), it is post-stratified to the country × size cells present in the sample instead.

    Returns
    -------
    (Design, str)
        The design and ``'weights'``, ``'raked'``, ``'poststratified'`` or ``'unweighted'``.
    """
    import ibis
    import pyarrow as pa
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from digifit import stats
    from digifit.errors import CalibrationError

    table = pq.read_table(source) if isinstance(source, str | Path) else source
    if not isinstance(table, pa.Table):
        table = pa.table(table)
    if weights and weights in table.column_names:
        return stats.design(table, weights=weights), "weights"
    if margins is None or not {"country", "size"} <= set(table.column_names):
        return stats.design(table), "unweighted"
    if isinstance(margins, Mapping):
        country_size = dict(margins.get(("country", "size")) or {})
        sector = dict(margins.get(("sector",)) or {}) or None
    else:
        folder = Path(margins)
        cs_path, sector_path = folder / "enterprises_country_size.csv", folder / "enterprises_sector.csv"
        if not cs_path.exists():
            return stats.design(table), "unweighted"
        strings = {c: pa.string() for c in ("country", "size", "sector")}

        def read(path: Path, cols: tuple[str, ...]) -> dict[tuple, float]:
            rows = pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types=strings)).to_pylist()
            return {tuple(r[c] for c in cols): float(r["Freq"]) for r in rows}

        country_size = read(cs_path, ("country", "size"))
        sector = read(sector_path, ("sector",)) if sector_path.exists() else None
    if not country_size:
        return stats.design(table), "unweighted"
    if "sector" not in table.column_names:
        sector = None
    if base_weights not in table.column_names:
        # an explicit base weight of 1 (the core calibrates designs with a weight column)
        table = table.append_column(base_weights, pa.array([1.0] * table.num_rows))
    t = ibis.memtable(table)
    keep = t.country.isin(sorted({k[0] for k in country_size})) & t["size"].isin(sorted({k[1] for k in country_size}))
    if sector is not None:
        keep = keep & t.sector.isin(sorted(k[0] for k in sector))
    t = t.filter(keep)
    d = stats.design(t, weights=base_weights, strata="country")
    if sector is not None:
        try:
            return stats.rake(
                d,
                {("country", "size"): country_size, "sector": {k[0]: v for k, v in sector.items()}},
                max_iter=100,
                epsilon=1e-7,
                # an empty cell falls back to post-stratification on the cells present (below)
                empty_levels="fail",
            ), "raked"
        except CalibrationError:
            pass
    present = set(zip(table.column("country").to_pylist(), table.column("size").to_pylist()))
    usable = {cell: n for cell, n in country_size.items() if cell in present}
    if not usable:
        return stats.design(table), "unweighted"
    cells = ibis.literal(False)
    for country, size in usable:
        cells = cells | ((t.country == country) & (t["size"] == size))
    d = stats.design(t.filter(cells), weights=base_weights, strata="country")
    return stats.poststratify(d, ["country", "size"], usable), "poststratified"


def peer_table(
    design: Any,
    *,
    measures: Sequence[Measure] = MEASURES,
    groups: Sequence[tuple[str, ...]] = GROUPS,
    ci_method: str = "logit",
) -> dict[str, Any]:
    """Estimate every measure in every cell of every peer group (cache it per wave; it is small).

    Returns
    -------
    dict
        ``{"groups": {"country|sector|size": {"DE|retail|micro": {"digital25": {estimate row}, ...}}}}`` with
        :meth:`digifit.stats.Estimate.to_dict` rows (JSON-safe); measures whose column the snapshot lacks are
        left out and listed under ``"absent"``.
    """
    from digifit import stats
    from digifit.errors import DigifitError

    columns = set(design.table.columns)
    out: dict[str, Any] = {"groups": {}, "absent": [m.key for m in measures if m.survey_column not in columns]}
    present = [m for m in measures if m.survey_column in columns]
    by_column = {m.survey_column: m.key for m in present}
    for group in groups:
        if any(c not in columns for c in group):
            continue
        cells: dict[str, dict[str, Any]] = {}

        def estimate(variables: list[str], group: tuple[str, ...] = group) -> Any:
            return stats.mean(design, variables, by=list(group) or None, na_rm=True, ci_method=ci_method)

        try:  # one aggregation for every measure (missing values are left out per variable)
            rows = list(estimate([m.survey_column for m in present])) if present else []
        except DigifitError:  # e.g. a column without any answer: measure by measure, skipping what fails
            rows = []
            for m in present:
                try:
                    rows.extend(estimate([m.survey_column]))
                except DigifitError:
                    continue
        for e in rows:
            cells.setdefault(_key([e.domain.get(c) for c in group]), {})[by_column[e.variable]] = e.to_dict()
        out["groups"][_key(group)] = cells
    return out


@dataclass(frozen=True)
class PeerRow:
    """The business's value of one measure against the weighted share of its peers."""

    measure: str
    own: int | None
    group: tuple[str, ...]
    domain: dict[str, Any]
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    se: float | None
    n: int
    cv: float | None
    fallback: bool
    reasons: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["group"] = list(self.group)
        out["reasons"] = list(self.reasons)
        return out


def _usable(row: Mapping[str, Any] | None, min_n: int, max_cv: float) -> str | None:
    """Return why an estimate is not usable, or None."""
    if row is None:
        return "no respondents"
    if int(row.get("n") or 0) < min_n:
        return f"n = {row.get('n')} < {min_n}"
    cv = row.get("cv")
    if cv is None or not math.isfinite(cv) or cv > max_cv:
        return "CV not finite" if cv is None or not math.isfinite(cv) else f"CV {cv:.0%} > {max_cv:.0%}"
    return None


def peer_benchmark(
    table: Mapping[str, Any],
    result: Mapping[str, Any],
    *,
    min_n: int = MIN_N,
    max_cv: float = MAX_CV,
    measures: Sequence[Measure] = MEASURES,
    groups: Sequence[tuple[str, ...]] = GROUPS,
) -> list[PeerRow]:
    """Place one result (``CheckResult.to_dict()``) against a :func:`peer_table`, falling back when needed.

    For each measure the narrowest group whose cell has at least ``min_n`` respondents and a CV of at most
    ``max_cv`` is used; if even the whole sample fails, the whole sample's estimate is shown with its reasons.
    """
    profile = result.get("profile") or {}
    rows = []
    absent = set(table.get("absent", ()))
    for m in measures:
        reasons: list[str] = []
        chosen = None
        if m.key in absent:
            reasons.append("not in the survey snapshot")
        for i, group in enumerate(groups):
            cells = table.get("groups", {}).get(_key(group))
            if cells is None or m.key in absent:
                continue
            domain = {c: profile.get(c) for c in group}
            est = cells.get(_key([domain[c] for c in group]), {}).get(m.key)
            why = _usable(est, min_n, max_cv)
            if why is None or (i == len(groups) - 1 and est is not None):
                chosen = (group, domain, est)
                break
            reasons.append(f"{' × '.join(group) or 'all'}: {why}")
        if chosen is None:
            rows.append(
                PeerRow(m.key, m.check_value(result), (), {}, None, None, None, None, 0, None, True, tuple(reasons))
            )
            continue
        group, domain, est = chosen
        rows.append(
            PeerRow(
                measure=m.key,
                own=m.check_value(result),
                group=group,
                domain=domain,
                estimate=est["estimate"],
                ci_low=est["ci_low"],
                ci_high=est["ci_high"],
                se=est["se"],
                n=int(est["n"]),
                cv=est.get("cv"),
                fallback=group != groups[0],
                reasons=tuple(reasons),
            )
        )
    return rows
