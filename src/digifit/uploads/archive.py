"""The checks every uploaded zip archive gets before anything reads a member (an .xlsx, a SCORM package).

Zip headers can lie: the declared sizes are checked here (entries, per-entry and total size, compression ratio),
and :class:`BoundedReader` enforces them while a member is actually read. Paths that could escape a folder when
unpacked (absolute, ``..``, drive letters, backslashes) and symbolic links are refused outright.
"""

from __future__ import annotations

import io
import stat
import zipfile

from digifit.uploads.errors import UploadRefused
from digifit.uploads.limits import UploadLimits

CHUNK = 64 * 1024


class BoundedReader(io.RawIOBase):
    """Reads a zip member and refuses once more bytes come out than allowed (headers can lie)."""

    def __init__(self, member, budget: int, name: str) -> None:
        self.member = member
        self.budget = budget
        self.name = name
        self.read_bytes = 0

    def readable(self):
        return True

    def readinto(self, b):
        data = self.member.read(min(len(b), CHUNK))
        self.read_bytes += len(data)
        if self.read_bytes > self.budget:
            raise UploadRefused("entry_too_large", "A part of the file unpacks too large ({name}).", name=self.name)
        b[: len(data)] = data
        return len(data)


def unsafe_path(name: str) -> bool:
    """Whether ``name`` could land outside the folder it is unpacked into."""
    parts = name.replace("\\", "/").split("/")
    return name.startswith(("/", "\\")) or ".." in parts or (len(name) > 1 and name[1] == ":")


def open_archive(data: bytes | io.BufferedIOBase, limits: UploadLimits, *, code: str, message: str) -> zipfile.ZipFile:
    """The archive ``data`` as a :class:`zipfile.ZipFile` once its size and every header passed the limits.

    ``code``/``message`` are the refusal when ``data`` is not a zip at all (``"not_xlsx"``, ``"not_scorm"``).
    """
    if not isinstance(data, (bytes, bytearray)):
        data = data.read(limits.max_bytes + 1)
    if len(data) > limits.max_bytes:
        raise UploadRefused(
            "too_large",
            "The file is larger than {max_mb} MB.",
            max_mb=limits.max_bytes // 2**20,
            max_bytes=limits.max_bytes,
        )
    if not bytes(data[:4]) == b"PK\x03\x04":
        raise UploadRefused(code, message)
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UploadRefused(code, message) from exc
    infos = zf.infolist()
    if len(infos) > limits.max_entries:
        raise UploadRefused("too_many_entries", "The file has more than {n} parts.", n=limits.max_entries)
    total = 0
    for info in infos:
        name = info.filename
        if unsafe_path(name) or stat.S_ISLNK(info.external_attr >> 16):
            raise UploadRefused("bad_path", "The file contains an unsafe path ({name}).", name=name[:80])
        if info.file_size > limits.max_entry_bytes:
            raise UploadRefused("entry_too_large", "A part of the file unpacks too large ({name}).", name=name[:80])
        total += info.file_size
        if total > limits.max_total_bytes:
            raise UploadRefused(
                "inflated_too_large", "The file unpacks to more than {n} MB.", n=limits.max_total_bytes // 2**20
            )
        if info.compress_size and info.file_size / info.compress_size > limits.max_ratio and info.file_size > 1 * 2**20:
            raise UploadRefused("ratio", "The file is compressed suspiciously strongly ({name}).", name=name[:80])
    return zf
