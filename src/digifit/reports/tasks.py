"""Background tasks of the reports (django-tasks, run by ``digifit worker``).

:func:`report_make` makes one report job. The database backend never retries a task whose worker died, so the
job row, not the task, is the record: a job left ``running`` without a heartbeat past ``DIGIFIT_REPORT_TIMEOUT``
(or ``queued`` that long) is queued again by :func:`reports_requeue_stale` — run it from cron, or it runs
whenever someone opens the reports page — and :func:`digifit.reports.services.reportjob_claim` lets a new task
take it over. Making a report twice writes the same file, so a duplicate run is harmless.
"""

from __future__ import annotations

from django_tasks import task

from digifit.reports.services import job_queued, reportjob_requeue_stale, reportjob_run, reportjob_task_record


@task()
def report_make(job_id: int) -> str:
    """Make the report of job ``job_id``; return its final status."""
    job = reportjob_run(job_id=job_id)
    return job.status if job is not None else "missing"


@task()
def reports_requeue_stale() -> int:
    """Queue again report jobs whose worker died; return how many."""
    return len(reportjob_requeue_stale())


def _make_soon(*, job_id: int, **_kwargs) -> None:
    result = report_make.enqueue(job_id)
    reportjob_task_record(job_id=job_id, task_id=result.id)


# connected when the app is ready (ReportsConfig.ready imports this module)
job_queued.connect(_make_soon, dispatch_uid="digifit.reports.tasks.make_soon")
