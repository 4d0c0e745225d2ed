"""Check an .xlsx (a zip of XML parts) against :class:`UploadLimits` without trusting its headers."""

from __future__ import annotations

import io
import re
from xml.sax.handler import ContentHandler

import defusedxml.sax
from defusedxml import DefusedXmlException

from digifit.uploads.archive import CHUNK as _CHUNK
from digifit.uploads.archive import BoundedReader as _BoundedReader
from digifit.uploads.archive import open_archive
from digifit.uploads.errors import UploadRefused
from digifit.uploads.limits import UploadLimits

_REF = re.compile(r"^[A-Z]{0,3}(\d*):?([A-Z]{1,3})(\d+)$")


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + (ord(ch) - 64)
    return n


class _TooBig(Exception):
    pass


class _SheetCounter(ContentHandler):
    def __init__(self, limits: UploadLimits, kind: str) -> None:
        super().__init__()
        self.limits = limits
        self.kind = kind
        self.count = 0

    def startElement(self, name, attrs):
        local = name.rsplit(":", 1)[-1]
        if self.kind == "sheet":
            if local == "dimension":
                m = _REF.match(attrs.get("ref", "").replace("$", ""))
                if m and (int(m.group(3)) > self.limits.max_rows or _col_index(m.group(2)) > self.limits.max_columns):
                    raise _TooBig("dimension")
            elif local == "row":
                self.count += 1
                if self.count > self.limits.max_rows:
                    raise _TooBig("rows")
        elif local == "si":
            self.count += 1
            if self.count > self.limits.max_shared_strings:
                raise _TooBig("strings")


def check_xlsx(data: bytes | io.BufferedIOBase, limits: UploadLimits | None = None) -> None:
    """Raise :class:`UploadRefused` unless ``data`` is a bounded, well-formed .xlsx zip."""
    limits = limits or UploadLimits()
    zf = open_archive(data, limits, code="not_xlsx", message="The file is not an Excel workbook (.xlsx).")
    infos = zf.infolist()
    names = {i.filename for i in infos}
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
        raise UploadRefused("not_xlsx", "The file is not an Excel workbook (.xlsx).")
    streamed = 0
    for info in infos:
        kind = None
        if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
            kind = "sheet"
        elif info.filename == "xl/sharedStrings.xml":
            kind = "strings"
        budget = min(limits.max_entry_bytes, limits.max_total_bytes - streamed)
        try:
            with zf.open(info) as member:
                reader = _BoundedReader(member, budget, info.filename[:80])
                if info.filename.endswith((".xml", ".rels")):
                    handler = _SheetCounter(limits, kind or "")
                    defusedxml.sax.parse(
                        io.BufferedReader(reader, _CHUNK),
                        handler,
                        forbid_dtd=True,
                        forbid_entities=True,
                        forbid_external=True,
                    )
                else:
                    while reader.read(_CHUNK):
                        pass
                streamed += reader.read_bytes
        except UploadRefused:
            raise
        except _TooBig as exc:
            if str(exc) == "strings":
                raise UploadRefused(
                    "too_many_strings", "The file has more than {n} texts.", n=limits.max_shared_strings
                ) from None
            raise UploadRefused(
                "too_many_rows",
                "A sheet has more than {n} rows or {c} columns.",
                n=limits.max_rows,
                c=limits.max_columns,
            ) from None
        except DefusedXmlException:
            raise UploadRefused("xml_entities", "The file contains XML declarations that are not allowed.") from None
        except Exception as exc:  # zlib errors, bad CRC, malformed XML
            raise UploadRefused("corrupt", "The file is damaged and cannot be read.") from exc
