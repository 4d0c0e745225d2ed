"""Writes of the Digital-Check: store a result, change consent, cache peer tables, export for statistics.

Names follow ``<entity>_<action>``; arguments are keyword-only; each write is one transaction.
"""

from __future__ import annotations

import datetime as dt
import secrets
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from digifit.assessment import benchmark, display, scoring, selectors
from digifit.assessment.models import Assessment, PeerTable

#: Bump when the peer table's content changes for the same data (measures, groups, weighting).
PEER_TABLE_VERSION = "1"


#: The answers do not fit the check form; ``problems`` holds ``(field, message)`` pairs.
CheckRejected = scoring.AnswersError


def answers_check(answers: Mapping[str, Any], *, language: str = "de", partial: bool = False) -> dict[str, Any]:
    """Check answers against the configured check form (:func:`digifit.assessment.scoring.answers_check`).

    Raises
    ------
    CheckRejected
    """
    return scoring.answers_check(selectors.check_form_get(), answers, language=language, partial=partial)


@transaction.atomic
def assessment_submit(
    *,
    answers: Mapping[str, Any],
    language: str = "de",
    previous: Assessment | None = None,
    now: dt.datetime | None = None,
) -> Assessment:
    """Check, score and store one completed check behind a new private link.

    Raises
    ------
    CheckRejected
        An answer is missing or not allowed (per field, in ``language``).
    """
    values = answers_check(answers, language=language)
    rules = selectors.scoring_rules_get()
    result = scoring.score(values, rules)
    form = selectors.check_form_get()
    now = now or timezone.now()
    consent = values.get("consent_statistics") == "yes"
    assessment = Assessment(
        token=secrets.token_urlsafe(24),
        previous=previous,
        form_id=form.form_id,
        form_version=str(form.version or ""),
        rules_version=rules.version,
        language=(language or "de")[:10],
        answers=values,
        result=result.to_dict(),
        country=result.profile.get("country") or "",
        sector=result.profile.get("sector") or "",
        size=result.profile.get("size") or "",
        dii_score=result.dii_score,
        dii_level=result.dii_level,
        overall=result.overall,
        email=str(values.get("email") or "").strip().lower(),
        consent_statistics=consent,
        consent_changed_at=now if consent else None,
        completed_at=now,
    )
    assessment.full_clean()
    assessment.save()
    return assessment


@transaction.atomic
def assessment_consent_set(*, assessment: Assessment, consent: bool) -> Assessment:
    """Give or withdraw consent to use a result in statistics (takes effect at the next export)."""
    assessment.consent_statistics = bool(consent)
    assessment.consent_changed_at = timezone.now()
    assessment.save(update_fields=["consent_statistics", "consent_changed_at"])
    return assessment


class ClaimConflict(ValueError):
    """The result is already claimed by another account."""


@transaction.atomic
def assessment_claim(*, assessment: Assessment, owner, now: dt.datetime | None = None) -> Assessment:
    """Link a result to the account ``owner`` (the caller has checked that it proved its e-mail address).

    Claiming a result twice for the same account changes nothing.

    Raises
    ------
    ClaimConflict
        The result belongs to another account already.
    """
    locked = Assessment.objects.select_for_update().get(pk=assessment.pk)
    if locked.owner_id is not None:
        if locked.owner_id != owner.pk:
            raise ClaimConflict(f"result {locked.pk} is claimed by another account")
        return locked
    locked.owner, locked.claimed_at = owner, now or timezone.now()
    locked.save(update_fields=["owner", "claimed_at"])
    assessment.owner, assessment.claimed_at = locked.owner, locked.claimed_at
    return locked


@transaction.atomic
def assessment_delete_for_owner(*, owner) -> int:
    """Delete every result ``owner`` has claimed (its erasure); return how many. Re-assessments of other
    accounts started from one of them keep their own scores and lose only the link."""
    deleted, _ = Assessment.objects.filter(owner=owner).delete()
    return deleted


@transaction.atomic
def assessment_delete(*, assessment: Assessment) -> None:
    """Delete a result for good (its owner's request on the private page); later exports no longer contain it.

    A re-assessment started from it keeps its own scores and loses only the link to this one.
    """
    assessment.delete()


# ----------------------------------------------------------------------------------------- peer benchmark


def _margins(wave):
    """The wave's newest population margins (the analyst's upload), or None: the peer table is then unweighted."""
    from digifit.survey.selectors import margins_latest, margins_of

    latest = margins_latest(waves=[wave])
    return margins_of(latest) if latest is not None else None


def _fingerprint(wave) -> str:
    from digifit.survey.models import Submission, WaveMargins

    qs = Submission.objects.filter(wave=wave, status=Submission.Status.COMPLETE)
    agg = qs.aggregate(n=Max("id"), last=Max("updated_at"))
    margins = WaveMargins.objects.filter(wave=wave).aggregate(m=Max("id"))["m"] or 0  # a new upload: a new table
    return f"v{PEER_TABLE_VERSION}:{qs.count()}:{agg['n']}:{agg['last'].isoformat() if agg['last'] else '-'}:m{margins}"


def peer_table_get(*, wave, now: dt.datetime | None = None) -> PeerTable:
    """Return the peer table of a survey wave, computing and caching it when the wave's data changed.

    The wave's snapshot is written to a temporary Parquet file (the same writer as ``digifit snapshot``),
    weighted by :func:`digifit.assessment.benchmark.weighted_design` and estimated by
    :func:`digifit.assessment.benchmark.peer_table`. One table is kept per wave. While a wave is still
    collecting, a table computed less than ``DIGIFIT_CHECK_PEER_MAX_AGE`` seconds ago (default 600) is used even
    if submissions arrived since, so that result pages do not recompute on every new submission.
    """
    from django.conf import settings

    from digifit.survey.exports import ExportSpec, snapshot_write

    fingerprint = _fingerprint(wave)
    latest = PeerTable.objects.filter(wave=wave).order_by("-computed_at", "-id").first()
    if latest is not None:
        max_age = float(getattr(settings, "DIGIFIT_CHECK_PEER_MAX_AGE", 600))
        if latest.fingerprint == fingerprint or (now or timezone.now()) - latest.computed_at < dt.timedelta(
            seconds=max_age
        ):
            return latest
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "wave.parquet"
        snapshot_write(ExportSpec(questionnaire=wave.questionnaire, wave=wave), path)
        design, weighting = benchmark.weighted_design(path, margins=_margins(wave))
        table = benchmark.peer_table(design)
    try:
        with transaction.atomic():
            created = PeerTable.objects.create(wave=wave, fingerprint=fingerprint, weighting=weighting, table=table)
            PeerTable.objects.filter(wave=wave).exclude(pk=created.pk).delete()
            return created
    except IntegrityError:  # computed by another request at the same time
        return PeerTable.objects.get(wave=wave, fingerprint=fingerprint)


@dataclass(frozen=True)
class Benchmark:
    """The peer benchmark of one result, ready for the page."""

    wave: Any
    weighting: str
    rows: list[benchmark.PeerRow]
    computed_at: dt.datetime | None


def assessment_benchmark(*, assessment: Assessment) -> Benchmark | None:
    """Return the result's peer benchmark against the latest survey wave (None when there is no wave)."""
    wave = selectors.benchmark_wave_get()
    if wave is None:
        return None
    cached = peer_table_get(wave=wave)
    rows = benchmark.peer_benchmark(cached.table, assessment.result)
    return Benchmark(wave=wave, weighting=cached.weighting, rows=rows, computed_at=cached.computed_at)


# ----------------------------------------------------------------------------------------- export

EXPORT_COLUMNS = (
    "result_id",
    "completed_at",
    "rules_version",
    "form_version",
    "language",
    "country",
    "sector",
    "size",
    "dii_score",
    "dii_level",
    "dii_basic",
    "digital_share",
    "digital25",
)


def results_export(*, target: str | Path | IO[bytes]) -> int:
    """Write the consenting results to Parquet for the analytic store; return the number of rows.

    One row per result whose owner consented to statistics, without private link or e-mail: ``result_id``
    (the row id), the profile, the DII score, level and items (0/1), the channels (0/1), the
    revenue band and ``digital25``, and the six dimension scores and the overall score — exact
    (``dimension__<dim>``, ``overall``: average these) and as the business read them
    (``dimension_rounded__<dim>``, ``overall_rounded``: :func:`digifit.assessment.display.rounded`). Columns are
    typed for ``digifit estimate``; results without consent are never read.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    rules = selectors.scoring_rules_get()
    qs = Assessment.objects.filter(consent_statistics=True).order_by("id")
    columns: dict[str, list[Any]] = {c: [] for c in EXPORT_COLUMNS}
    dii_cols = {f"dii__{name}": [] for name in rules.dii_items}
    channel_cols = {f"channel__{key}": [] for key in rules.channels}
    dim_cols = {f"dimension__{d}": [] for d in rules.dimensions}
    dim_rounded = {f"dimension_rounded__{d}": [] for d in rules.dimensions}
    overall: list[Any] = []
    overall_rounded: list[Any] = []
    for a in qs.iterator(chunk_size=2000):
        r = a.result
        columns["result_id"].append(a.pk)
        columns["completed_at"].append(a.completed_at)
        columns["rules_version"].append(a.rules_version)
        columns["form_version"].append(a.form_version)
        columns["language"].append(a.language)
        for c in ("country", "sector", "size"):
            columns[c].append(getattr(a, c) or None)
        columns["dii_score"].append(a.dii_score)
        columns["dii_level"].append(a.dii_level)
        columns["dii_basic"].append(int(bool(r.get("dii_basic"))))
        columns["digital_share"].append(r.get("digital_share"))
        columns["digital25"].append(r.get("digital25"))
        for name in rules.dii_items:
            dii_cols[f"dii__{name}"].append((r.get("dii_items") or {}).get(name))
        for key in rules.channels:
            channel_cols[f"channel__{key}"].append((r.get("channels") or {}).get(key))
        shown = display.scores_rounded(r)
        for d in rules.dimensions:
            dim_cols[f"dimension__{d}"].append((r.get("dimensions") or {}).get(d))
            dim_rounded[f"dimension_rounded__{d}"].append(shown["dimensions"].get(d))
        overall.append(r.get("overall"))
        overall_rounded.append(shown["overall"])
    types = {
        "result_id": pa.int64(),
        "completed_at": pa.timestamp("us", tz="UTC"),
        "dii_score": pa.int64(),
        "dii_basic": pa.int64(),
        "digital25": pa.int64(),
    }
    arrays, names = [], []
    for name, values in columns.items():
        arrays.append(pa.array(values, type=types.get(name, pa.string())))
        names.append(name)
    for group, kind in ((dii_cols, pa.int64()), (channel_cols, pa.int64()), (dim_cols, pa.float64())):
        for name, values in group.items():
            arrays.append(pa.array(values, type=kind))
            names.append(name)
    arrays.append(pa.array(overall, type=pa.float64()))
    names.append("overall")
    for name, values in dim_rounded.items():
        arrays.append(pa.array(values, type=pa.float64()))
        names.append(name)
    arrays.append(pa.array(overall_rounded, type=pa.float64()))
    names.append("overall_rounded")
    pq.write_table(pa.Table.from_arrays(arrays, names=names), target, compression="zstd")
    return len(columns["result_id"])
