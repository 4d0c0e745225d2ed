"""Wave snapshots for analysis: the Parquet file of a wave's complete submissions, written when missing or stale.

A cache of files (the snapshot is a function of the wave's submissions), so both the reads
(:mod:`digifit.reports.selectors`) and the writes (:mod:`digifit.reports.services`) use it without depending on
each other.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from django.conf import settings
from django.db.models import Count, Max

__all__ = ["wave_snapshot_ensure"]


def _data_dir() -> Path:
    return Path(getattr(settings, "DATA_DIR", "var"))


def _fingerprint(wave) -> str:
    from digifit.survey.models import Submission

    agg = Submission.objects.filter(wave=wave, status=Submission.Status.COMPLETE).aggregate(
        n=Count("id"), last=Max("id"), changed=Max("updated_at")
    )
    changed = agg["changed"].strftime("%Y%m%d%H%M%S%f") if agg["changed"] else "0"
    return f"{agg['n']}-{agg['last'] or 0}-{changed}"


def wave_snapshot_ensure(*, wave) -> tuple[Path, bool]:
    """Return the Parquet snapshot of ``wave``'s complete submissions, writing it when missing or stale.

    The file is ``snapshots/wave-<id>-<fingerprint>/<form_id>-<wave>.parquet`` under ``DIGIFIT_DATA_DIR``; the
    fingerprint (count, last id, last change of the wave's submissions) makes a new or edited submission write a
    new snapshot; older ones of the wave are removed. Returns ``(path, written)``.
    """
    import shutil

    from digifit.survey import exports

    root = _data_dir() / "snapshots"
    folder = root / f"wave-{wave.pk}-{_fingerprint(wave)}"
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in f"{wave.questionnaire.form_id}-{wave.name}")
    path = folder / f"{safe}.parquet"
    if path.exists():
        return path, False
    folder.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    exports.snapshot_write(exports.ExportSpec(questionnaire=wave.questionnaire, wave=wave), tmp)
    tmp.replace(path)
    for old in root.glob(f"wave-{wave.pk}-*"):
        if old != folder:
            shutil.rmtree(old, ignore_errors=True)
    return path, True
