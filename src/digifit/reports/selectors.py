"""Reads of the reports' web part: the analysis tables, the dashboard's headline, report jobs.

Every number comes from :mod:`digifit.stats` through the report library (:mod:`digifit.reports.headline`): the
same derived indicators, the same design (strata = country, clusters = business, raked to the population
margins), the same reliability rule (:func:`~digifit.reports.headline.reliability`) and the same difference
for "online before the crisis vs not" (:func:`~digifit.reports.headline.difference`). Nothing here computes a
statistic; results are cached per process by the snapshot files they read (a new submission makes a new
snapshot, so a new cache key) and the margins version they are weighted to.

The margins are the newest uploaded version (:class:`~digifit.survey.models.WaveMargins`) of the newest chosen wave;
without one the reads raise :class:`NoMargins`, which the pages turn into a message to upload them. Level labels
come from the questionnaire versions the wave's responses answered (:func:`level_labels_get`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from digifit.reports import headline as hl
from digifit.reports.locale import labels_from_schema
from digifit.reports.models import ReportJob
from digifit.stats import Estimate
from digifit.survey.models import WaveMargins
from digifit.survey.selectors import margins_cells
from digifit.survey.selectors import margins_description as margins_description  # the wave's margins, re-exported
from digifit.survey.selectors import margins_latest as margins_latest
from digifit.survey.selectors import margins_list as margins_list
from digifit.survey.selectors import margins_of as margins_of

#: indicator → 0/1 column of the report library's prepared table
INDICATORS: dict[str, str] = {
    "digital25": "digital25",
    "online_before": "online_before",
    "loss25": "loss25",
    "loss": "loss",
}
BREAKDOWNS: tuple[str, ...] = ("country", "sector", "size", "wave")
_SIZE_ORDER = ("micro", "small", "medium", "large")
_COUNTRY_ORDER = ("DE", "FR", "UK", "IT", "ES", "PL")


@dataclass(frozen=True)
class AnalysisRow:
    """One cell: its domain (``{"country": "DE"}``), the estimate and its reliability (ok/flagged/suppressed)."""

    domain: tuple[tuple[str, str], ...]
    estimate: Estimate
    status: str


@dataclass(frozen=True)
class Analysis:
    """An indicator by a breakdown over some waves, with the online-before comparison when it applies."""

    indicator: str
    by: tuple[str, ...]
    waves: tuple[str, ...]
    rows: tuple[AnalysisRow, ...]
    overall: AnalysisRow
    comparison: hl.Comparison | None
    n_rows: int
    design_note: str
    collapsed: tuple = ()  # weighting: empty margin levels merged into neighbours (digifit.stats.Collapse)


#: The analysis's design note (for the API and the logs); :func:`design_sentence` says it in the page's language.
NOTE_DESIGN = "strata=country, clusters=business, raked to country×size and sector"
NOTE_SCALED = " (sector margin scaled)"
NOTE_SEPARATE = ", each wave raked on its own"


def design_sentence(note: str) -> str:
    """The design note of an analysis as a sentence in the active language (the page shows this, not the note)."""
    from django.utils.translation import gettext as _

    if not note.startswith(NOTE_DESIGN):
        return note
    parts = [
        _(
            "Design-based estimates: stratified by country, each business one cluster (across waves too), weights "
            "raked to the population by country × size and by sector."
        )
    ]
    if NOTE_SCALED in note:
        parts.append(_("The sector margin is scaled to the countries in the sample."))
    if note.endswith(NOTE_SEPARATE):
        parts.append(_("Each wave is raked on its own, then the waves are pooled."))
    return " ".join(parts)


class NoMargins(hl.ReportError):
    """None of the chosen waves has population margins yet (the analyst uploads them on the margins page)."""


def _margins_required(waves) -> WaveMargins:
    found = margins_latest(waves=waves)
    if found is None:
        raise NoMargins(f"no population margins for wave(s) {', '.join(w.name for w in waves)}.")
    return found


def level_labels_get(*, waves) -> dict:
    """The level labels (country, sector, size) of the questionnaire versions the waves' responses answered.

    The version answered most recently wins where versions differ; a wave without responses uses its
    questionnaire's newest version.
    """
    from django.db.models import Max

    from digifit.survey.models import QuestionnaireVersion

    ids = [w.pk for w in waves]
    versions = list(
        QuestionnaireVersion.objects.filter(submissions__wave_id__in=ids, submissions__status="complete")
        .annotate(last=Max("submissions__id"))
        .order_by("last")
        .only("schema")
    )
    if not versions:
        versions = list(
            QuestionnaireVersion.objects.filter(questionnaire__waves__id__in=ids).order_by("created_at", "id")
        )
    out: dict = {}
    for version in versions:
        for column, levels in labels_from_schema(version.schema or {}).items():
            out.setdefault(column, {}).update(levels)
    return out


def wave_snapshots(waves) -> list[Path]:
    """The Parquet snapshots of the waves (written when missing or stale)."""
    from digifit.reports.snapshots import wave_snapshot_ensure

    return [wave_snapshot_ensure(wave=w)[0] for w in waves]


def _sort_key(column: str, value: str, sector_order: list[str]):
    if column == "country":
        return (_COUNTRY_ORDER.index(value) if value in _COUNTRY_ORDER else 99, value)
    if column == "size":
        return (_SIZE_ORDER.index(value) if value in _SIZE_ORDER else 99, value)
    if column == "sector":
        return (sector_order.index(value) if value in sector_order else 99, value)
    if column == "wave":
        try:
            return (0, tuple(int(p) for p in value.split("-")))
        except ValueError:
            return (1, value)
    return (0, value)


def _design_of(paths: tuple[str, ...], margins_id: int):
    """The report library's raked design on the given snapshots (one DuckDB connection)."""
    import duckdb

    margins = margins_cells(margins_id)
    con = duckdb.connect()
    rel = con.read_parquet(list(paths), union_by_name=True)
    _full, table = hl._prepare(rel, margins, con)
    t = table.table
    countries = {r for r in table.execute(t.select("country").distinct()).column(0).to_pylist()}
    n_rows = int(table.execute(t.count()))
    if n_rows == 0:
        raise hl.ReportError("no responses in the countries, sizes and sectors of the margins.")
    to_rake, scaled = hl.rake_margins(margins, {str(c) for c in countries})
    weights = "design_weight" if "design_weight" in t.columns else "__w0"
    design = hl._design(table, weights, to_rake, clusters=True)
    note = NOTE_DESIGN + (NOTE_SCALED if scaled else "")
    return design, n_rows, note, [k[0] for k in margins[("sector",)]]


@functools.lru_cache(maxsize=64)
def _analysis(
    paths: tuple[str, ...], margins_id: int, indicator: str, by: tuple[str, ...], compare: bool, level: float
) -> Analysis:
    from digifit import stats

    column = INDICATORS[indicator]
    design, n_rows, note, sector_order = _design_of(paths, margins_id)
    kw = {"level": level, "ci_method": "logit", "na_rm": True}
    by_list = list(by)
    rows = []
    if by_list:
        for e in stats.mean(design, column, by=by_list if len(by_list) > 1 else by_list[0], **kw):
            domain = tuple((c, str(e.domain[c])) for c in by_list)
            rows.append(AnalysisRow(domain, e, hl.reliability(e)))
        rows.sort(key=lambda r: tuple(_sort_key(c, v, sector_order) for c, v in r.domain))
    overall_e = stats.mean(design, column, **kw)[0]
    overall = AnalysisRow((), overall_e, hl.reliability(overall_e))
    comparison = None
    if compare and column != "online_before":
        on, off, diff = hl.difference(design, column, "online_before", level=level)
        comparison = hl.Comparison(
            column,
            hl.Line("online", on, hl.reliability(on)),
            hl.Line("offline", off, hl.reliability(off)),
            hl.Line("difference", diff, "suppressed" if min(on.n, off.n) < hl.MIN_N else "ok"),
        )
    return Analysis(
        indicator, tuple(by_list), (), tuple(rows), overall, comparison, n_rows, note, design.calibration.collapsed
    )


def analysis_get(*, waves, indicator: str, by: tuple[str, ...] = ("country",), compare: bool = True) -> Analysis:
    """Estimate ``indicator`` by ``by`` (at most two of :data:`BREAKDOWNS`) over ``waves``, pooled.

    The pooled waves are raked together to the population margins. For a breakdown by wave each wave is its own
    design, raked on its own (the trend), and the rows of all waves are returned together.

    Raises
    ------
    NoMargins
        None of the waves has population margins.
    ReportError
        No wave, an unknown indicator or breakdown, more than two breakdowns, or no usable responses.
    """
    waves = list(waves)
    if not waves:
        raise hl.ReportError("choose at least one wave.")
    if indicator not in INDICATORS:
        raise hl.ReportError(f"indicator {indicator!r}: expected one of {', '.join(INDICATORS)}.")
    by = tuple(dict.fromkeys(b for b in by if b))
    bad = [b for b in by if b not in BREAKDOWNS]
    if bad:
        raise hl.ReportError(f"breakdown {bad[0]!r}: expected one of {', '.join(BREAKDOWNS)}.")
    if len(by) > 2:
        raise hl.ReportError(f"at most two breakdowns; got {len(by)}.")
    names = tuple(w.name for w in waves)
    margins_id = _margins_required(waves).pk
    paths = [str(p) for p in wave_snapshots(waves)]
    if "wave" not in by:
        a = _analysis(tuple(paths), margins_id, indicator, by, True, 0.95)
        return Analysis(a.indicator, a.by, names, a.rows, a.overall, a.comparison, a.n_rows, a.design_note, a.collapsed)
    # the trend: each wave raked on its own
    other = tuple(b for b in by if b != "wave")
    rows: list[AnalysisRow] = []
    n_rows = 0
    note = ""
    collapsed: list = []
    for w, p in sorted(zip(waves, paths, strict=True), key=lambda wp: _sort_key("wave", wp[0].name, [])):
        own = margins_latest(waves=[w])  # each wave raked on its own: to its own margins where it has them
        a = _analysis((p,), own.pk if own is not None else margins_id, indicator, other, False, 0.95)
        n_rows += a.n_rows
        collapsed.extend(a.collapsed)
        note = a.design_note + NOTE_SEPARATE
        cells = a.rows if other else (a.overall,)
        for r in cells:
            domain = tuple((c, w.name) if c == "wave" else (c, dict(r.domain)[c]) for c in by)
            rows.append(AnalysisRow(domain, r.estimate, r.status))
    pooled = _analysis(tuple(paths), margins_id, indicator, (), True, 0.95)
    return Analysis(
        indicator, by, names, tuple(rows), pooled.overall, pooled.comparison, n_rows, note, tuple(collapsed)
    )


@functools.lru_cache(maxsize=16)
def _headline(paths: tuple[str, ...], margins_id: int, source: str, labels_json: str) -> hl.HeadlineReport:
    import json

    import duckdb

    margins = margins_cells(margins_id)
    kw = {"margins": margins, "margins_source": source, "labels": json.loads(labels_json)}
    if len(paths) == 1:
        return hl.headline_report(paths[0], **kw)
    con = duckdb.connect()
    return hl.headline_report(con.read_parquet(list(paths), union_by_name=True), con=con, **kw)


def headline_get(*, wave=None, waves=None) -> hl.HeadlineReport:
    """The headline report of ``wave``, or of ``waves`` pooled (the library's
    :func:`~digifit.reports.headline.headline_report` on their snapshots read together: the same design, a
    business answering several waves one cluster), weighted to the newest margins (:func:`margins_latest`) and
    labelled as the waves' questionnaire versions label the levels.

    Raises
    ------
    NoMargins
        None of the waves has population margins.
    """
    import json

    chosen = list(waves) if waves else [wave]
    margins = _margins_required(chosen)
    paths = tuple(sorted(str(p) for p in wave_snapshots(chosen)))
    labels = json.dumps(level_labels_get(waves=chosen), sort_keys=True)
    return _headline(paths, margins.pk, margins_description(margins), labels)


def analysis_waves():
    """Waves with complete responses, newest first."""
    from django.db.models import Count, Q

    from digifit.survey.models import Wave

    return (
        Wave.objects.select_related("questionnaire")
        .annotate(n=Count("submissions", filter=Q(submissions__status="complete")))
        .filter(n__gt=0)
        .order_by("-pk")
    )


def reportjob_list(*, limit: int = 20):
    """The latest report jobs, newest first."""
    return ReportJob.objects.select_related("wave", "created_by").order_by("-created_at", "-id")[:limit]


def reportjob_get(*, job_id: int) -> ReportJob | None:
    return ReportJob.objects.select_related("wave").filter(pk=job_id).first()
