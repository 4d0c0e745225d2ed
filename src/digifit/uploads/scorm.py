"""Unpack a SCORM package (a zip with ``imsmanifest.xml`` at its root) into a folder, after the archive checks.

Every member is read through :class:`~digifit.uploads.archive.BoundedReader` (the declared sizes are not
trusted) and written below ``target`` only; directories are created, nothing else (no links, no absolute or
``..`` paths — :func:`~digifit.uploads.archive.open_archive` refused those already). The manifest itself is
read by :mod:`digifit.learning.scorm_manifest` (with defusedxml); this module only returns its bytes.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from digifit.uploads.archive import CHUNK, BoundedReader, open_archive
from digifit.uploads.errors import UploadRefused
from digifit.uploads.limits import MB, UploadLimits

MANIFEST = "imsmanifest.xml"

#: packages from authoring tools carry media: larger than a workbook, many more files
SCORM_LIMITS = UploadLimits(
    max_bytes=200 * MB, max_entries=10_000, max_entry_bytes=200 * MB, max_total_bytes=500 * MB, max_ratio=200.0
)


def unpack_scorm(data: bytes | io.BufferedIOBase, target: Path, limits: UploadLimits = SCORM_LIMITS) -> bytes:
    """Unpack the package ``data`` into the (new, empty) folder ``target``; return the manifest's bytes.

    Raises :class:`UploadRefused` (codes of :func:`open_archive`, plus ``not_scorm``, ``no_manifest`` and
    ``corrupt``) before or while unpacking; the caller removes ``target`` on a refusal.
    """
    zf = open_archive(data, limits, code="not_scorm", message="The file is not a SCORM package (.zip).")
    names = [i.filename for i in zf.infolist()]
    if MANIFEST not in names:
        nested = next((n for n in names if n.rsplit("/", 1)[-1] == MANIFEST), None)
        raise UploadRefused(
            "no_manifest",
            "The package has no imsmanifest.xml at its top level{hint}.",
            folder=nested.rsplit("/", 1)[0] if nested else "",
            hint=f" (it is in {nested.rsplit('/', 1)[0]}/)" if nested else "",
        )
    target.mkdir(parents=True, exist_ok=False)
    root = target.resolve()
    streamed = 0
    manifest = b""
    for info in zf.infolist():
        dest = (root / info.filename).resolve()
        if root not in dest.parents and dest != root:  # belt and braces after open_archive's path check
            raise UploadRefused("bad_path", "The file contains an unsafe path ({name}).", name=info.filename[:80])
        if info.is_dir():
            dest.mkdir(parents=True, exist_ok=True)
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        budget = min(limits.max_entry_bytes, limits.max_total_bytes - streamed)
        try:
            with zf.open(info) as member, dest.open("wb") as out:
                reader = BoundedReader(member, budget, info.filename[:80])
                while chunk := reader.read(CHUNK):
                    out.write(chunk)
                streamed += reader.read_bytes
        except UploadRefused:
            raise
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:  # zlib errors, bad CRC, truncation
            raise UploadRefused(
                "corrupt", "The package is damaged and cannot be read ({name}).", name=info.filename[:80]
            ) from exc
        if info.filename == MANIFEST:
            manifest = dest.read_bytes()
    return manifest
