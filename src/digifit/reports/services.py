"""Writes of the reports' web part: wave snapshots for analysis, population margins per wave, report jobs and
their background run (the margins are the survey wave's: :func:`digifit.survey.services.margins_upload`).

Names follow ``<entity>_<action>``; arguments are keyword-only. No statistics here: the numbers come from
:func:`digifit.reports.headline.headline_report` (which calls :mod:`digifit.stats`), the files from its renderers.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from digifit.errors import DigifitError
from digifit.reports.models import ReportJob
from digifit.reports.snapshots import _data_dir, wave_snapshot_ensure
from digifit.survey.services import margins_upload  # the analyst's margins page is in this app

__all__ = [
    "ReportJobError", "job_queued", "margins_upload", "report_timeout", "reportjob_claim", "reportjob_create",
    "reportjob_file", "reportjob_requeue_stale", "reportjob_run", "reportjob_task_record", "wave_snapshot_ensure",
]  # fmt: skip


class ReportJobError(ValueError, DigifitError):
    """A report job cannot be started (unknown format or language, a wave without responses)."""


def report_timeout() -> int:
    """Seconds after which a ``running`` job without a heartbeat counts as stale (its worker died)."""
    return int(getattr(settings, "DIGIFIT_REPORT_TIMEOUT", None) or os.environ.get("DIGIFIT_REPORT_TIMEOUT", 900))


# ------------------------------------------------------------------------------------------- report jobs


def reportjob_create(*, wave, format: str, lang: str, user=None, enqueue: bool = True) -> ReportJob:
    """Queue a headline report of ``wave`` (``format`` html|pdf|xlsx, ``lang`` de|en).

    Raises
    ------
    ReportJobError
        Unknown format or language, or the wave has no responses.
    """
    if format not in ReportJob.Format.values:
        raise ReportJobError(f"format {format!r}: expected one of {', '.join(ReportJob.Format.values)}.")
    if lang not in ReportJob.Lang.values:
        raise ReportJobError(f"language {lang!r}: expected one of {', '.join(ReportJob.Lang.values)}.")
    if not wave.submissions.filter(status="complete").exists():
        raise ReportJobError(f"wave {wave.name!r} has no responses yet.")
    n = wave.submissions.filter(status="complete").count()
    minimum = int(getattr(settings, "DIGIFIT_MIN_RESPONSES", 30))
    if n < minimum:
        from django.utils.translation import gettext as _

        raise ReportJobError(
            _("Not enough responses yet (n = %(n)s). Estimates are shown from %(min)s responses on.")
            % {"n": n, "min": minimum}
        )
    from digifit.reports.selectors import margins_latest

    margins = margins_latest(waves=[wave])
    if margins is None:
        from django.utils.translation import gettext as _

        raise ReportJobError(
            _("Wave %(wave)s has no population margins yet. Upload them on the margins page first.")
            % {"wave": wave.name}
        )
    with transaction.atomic():
        job = ReportJob(
            wave=wave,
            format=format,
            lang=lang,
            margins=margins,
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        job.full_clean()
        job.save()
        if enqueue:
            transaction.on_commit(lambda: _enqueue(job.pk))
    return job


# Sent when a job is to be made. ``digifit.reports.tasks`` listens and enqueues ``report_make``, so the dependency
# runs one way (tasks -> services); the task id comes back through :func:`reportjob_task_record`.
job_queued = Signal()


def _enqueue(job_id: int) -> None:
    job_queued.send(sender=None, job_id=job_id)


def reportjob_task_record(*, job_id: int, task_id: object) -> None:
    """Record the id of the background task that makes a job."""
    ReportJob.objects.filter(pk=job_id).update(task_id=str(task_id)[:64])


def _progress(job_id: int, percent: int, step: str) -> None:
    ReportJob.objects.filter(pk=job_id).update(progress=percent, step=step[:200], heartbeat_at=timezone.now())


def reportjob_claim(*, job_id: int, now: dt.datetime | None = None) -> ReportJob | None:
    """Mark a queued (or stale running) job ``running``; return it, or None when another worker has it or it is done."""
    now = now or timezone.now()
    stale_before = now - dt.timedelta(seconds=report_timeout())
    with transaction.atomic():
        job = ReportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None:
            return None
        fresh = job.heartbeat_at is not None and job.heartbeat_at >= stale_before
        if job.status == ReportJob.Status.RUNNING and fresh:
            return None  # another worker is on it
        if job.status not in (ReportJob.Status.QUEUED, ReportJob.Status.RUNNING):
            return None
        job.status = ReportJob.Status.RUNNING
        job.progress = 0
        job.step = ""
        job.error = ""
        job.attempts += 1
        job.started_at = job.heartbeat_at = now
        job.save(update_fields=["status", "progress", "step", "error", "attempts", "started_at", "heartbeat_at"])
        return job


def reportjob_run(*, job_id: int) -> ReportJob | None:
    """Make the report of a job (the background task's body); return the finished job.

    A failure is stored on the job (status ``failed`` and its one-line message), never raised: the page shows it.
    """
    job = reportjob_claim(job_id=job_id)
    if job is None:
        return ReportJob.objects.filter(pk=job_id).first()
    try:
        _progress(job.pk, 5, "snapshot")
        snapshot, _written = wave_snapshot_ensure(wave=job.wave)
        _progress(job.pk, 25, "estimates")
        from digifit.reports import selectors
        from digifit.reports.headline import headline_report

        margins = job.margins or selectors.margins_latest(waves=[job.wave])
        if margins is None:
            raise selectors.NoMargins(f"wave {job.wave.name!r} has no population margins.")
        if job.margins_id != margins.pk:
            ReportJob.objects.filter(pk=job.pk).update(margins=margins)
        # the library reports its steps (fraction 0…1 of the estimates): 25 % … 70 % of the job, and a heartbeat
        report = headline_report(
            snapshot,
            margins=selectors.margins_of(margins),
            margins_source=selectors.margins_description(margins),
            labels=selectors.level_labels_get(waves=[job.wave]),
            progress=lambda step, f: _progress(job.pk, 25 + int(45 * f), step),
        )
        _progress(job.pk, 70, "render")
        folder = _data_dir() / "reports"
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / f"job-{job.pk}.{job.format}"
        tmp = target.with_name(target.name + ".tmp")
        if job.format == "html":
            from digifit.reports.render_html import render_html

            tmp.write_text(render_html(report, job.lang), encoding="utf-8")
        elif job.format == "pdf":
            from digifit.reports.render_pdf import render_pdf

            render_pdf(report, job.lang, tmp)
        else:
            from digifit.reports.render_xlsx import render_xlsx

            render_xlsx(report, job.lang, tmp)
        tmp.replace(target)
        ReportJob.objects.filter(pk=job.pk).update(
            status=ReportJob.Status.DONE,
            progress=100,
            step="done",
            file=str(target.relative_to(_data_dir())),
            finished_at=timezone.now(),
            heartbeat_at=timezone.now(),
        )
    except Exception as exc:  # stored for the page; the worker goes on with the next task
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        ReportJob.objects.filter(pk=job.pk).update(
            status=ReportJob.Status.FAILED, error=first[:2000], finished_at=timezone.now()
        )
    return ReportJob.objects.get(pk=job.pk)


def reportjob_file(job: ReportJob) -> Path | None:
    """Return the made file of a finished job, or None."""
    if job.status != ReportJob.Status.DONE or not job.file:
        return None
    path = _data_dir() / job.file
    return path if path.is_file() else None


def reportjob_requeue_stale(*, now: dt.datetime | None = None, enqueue: bool = True) -> list[int]:
    """Queue again the jobs whose worker died: ``running`` without a heartbeat for :func:`report_timeout` seconds,
    or ``queued`` that long with no task picking them up. Returns their ids.
    """
    now = now or timezone.now()
    before = now - dt.timedelta(seconds=report_timeout())
    running = ReportJob.objects.filter(status=ReportJob.Status.RUNNING, heartbeat_at__lt=before)
    queued = ReportJob.objects.filter(status=ReportJob.Status.QUEUED, created_at__lt=before)
    stale = list(running.values_list("pk", flat=True)) + list(queued.values_list("pk", flat=True))
    for pk in stale:
        ReportJob.objects.filter(pk=pk).update(status=ReportJob.Status.QUEUED, step="requeued")
        if enqueue:
            _enqueue(pk)
    return stale
