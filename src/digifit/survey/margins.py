"""Population margins as the analyst provides them: one CSV file, read and checked here (no Django).

The file has one column per variable (``country``, ``size``, ``sector``, …) and the count in ``Freq`` (the
column name R's ``rake``/``postStratify`` use; ``count`` is accepted too). Each row belongs to the margin of the
variables it fills; the other variable cells stay empty. The headline report needs the margins
:data:`REQUIRED` — enterprises by country × size class and by sector::

    country,size,sector,Freq
    DE,micro,,2135000
    DE,small,,375000
    ,,retail,4092000

:func:`margins_parse` returns ``{("country", "size"): {("DE", "micro"): 2135000.0, …}, ("sector",): {…}}``, the
shape :func:`digifit.reports.headline.headline_report`, the Digital-Check's peer benchmark
(:func:`digifit.assessment.benchmark.weighted_design`) and :func:`digifit.stats.rake` take. The margins belong to
a survey wave (:class:`digifit.survey.models.WaveMargins`), so both the reports and the assessment read them.
Bad input raises
:class:`MarginsError` naming the row and the column, with a stable ``code`` that the web page translates.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping

from digifit.errors import DigifitError
from digifit.uploads import UploadLimits, UploadRefused

__all__ = ["COUNT_COLUMNS", "REQUIRED", "Margins", "MarginsError", "margins_csv", "margins_parse"]

#: the margins the headline report rakes to
REQUIRED: tuple[tuple[str, ...], ...] = (("country", "size"), ("sector",))
COUNT_COLUMNS = ("Freq", "count")
Margins = dict[tuple[str, ...], dict[tuple[str, ...], float]]


class MarginsError(ValueError, DigifitError):
    """A margins file cannot be used. ``code`` is stable; ``row`` (1 = the header) and ``column`` say where."""

    def __init__(self, code: str, message: str, *, row: int | None = None, column: str | None = None, **params):
        where = ", ".join(p for p in (f"row {row}" if row else "", f"column {column!r}" if column else "") if p)
        super().__init__(f"{where}: {message}" if where else message)
        self.code = code
        self.row = row
        self.column = column
        self.params = params


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise MarginsError("encoding", "the file is not UTF-8 text (save it as CSV UTF-8).") from None


def margins_parse(
    data: bytes, *, required: tuple[tuple[str, ...], ...] = REQUIRED, limits: UploadLimits | None = None
) -> Margins:
    """Read a margins CSV file (see the module docstring).

    Raises
    ------
    UploadRefused
        The file is larger than ``limits.max_bytes`` or has more than ``limits.max_rows`` rows.
    MarginsError
        Not UTF-8, no count column, no variable column, a count that is not a number ≥ 0, a row without any
        level, a level given twice, a margin that sums to zero, or a required margin missing.

    Examples
    --------
    >>> m = margins_parse(b"country,size,sector,Freq\\nDE,micro,,10\\nDE,small,,5\\n,,retail,15\\n")
    >>> m[("country", "size")], m[("sector",)]
    ({('DE', 'micro'): 10.0, ('DE', 'small'): 5.0}, {('retail',): 15.0})
    >>> margins_parse(b"country,size,sector,Freq\\nDE,micro,,ten\\n")
    Traceback (most recent call last):
    ...
    digifit.survey.margins.MarginsError: row 2, column 'Freq': 'ten' is not a number.
    """
    limits = limits or UploadLimits()
    if len(data) > limits.max_bytes:
        raise UploadRefused("too_large", "The file is larger than {max_mb} MB.", max_mb=limits.max_bytes // 2**20)
    reader = csv.reader(io.StringIO(_text(data), newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise MarginsError("empty", "the file is empty.") from None
    except csv.Error as exc:
        raise MarginsError("csv", f"not a CSV file ({exc}).", row=1) from None
    counts = [h for h in header if h in COUNT_COLUMNS]
    if len(counts) != 1:
        raise MarginsError("no_count", "expected exactly one count column, 'Freq' or 'count'.", row=1)
    count_at = header.index(counts[0])
    variables = [(i, h) for i, h in enumerate(header) if i != count_at]
    for i, h in variables:
        if not h:
            raise MarginsError("empty_header", "a column has no name.", row=1, column=f"#{i + 1}")
        if header.count(h) > 1:
            raise MarginsError("duplicate_column", "the column appears twice.", row=1, column=h)
    if not variables:
        raise MarginsError("no_variables", "expected at least one variable column next to the count.", row=1)
    out: Margins = {}
    row_no = 1
    try:
        for row_no, row in enumerate(reader, start=2):
            if row_no - 1 > limits.max_rows:
                raise UploadRefused("too_many_rows", "The file has more than {n} rows.", n=limits.max_rows)
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                raise MarginsError("width", f"expected {len(header)} cells, found {len(row)}.", row=row_no)
            raw = row[count_at].strip()
            try:
                value = float(raw)
            except ValueError:
                raise MarginsError("count", f"{raw!r} is not a number.", row=row_no, column=counts[0]) from None
            if not math.isfinite(value) or value < 0:
                raise MarginsError("count", f"{raw!r} is not a number ≥ 0.", row=row_no, column=counts[0])
            filled = [(h, row[i].strip()) for i, h in variables if row[i].strip()]
            if not filled:
                raise MarginsError("no_level", "the row gives no level of any variable.", row=row_no)
            margin = tuple(h for h, _ in filled)
            level = tuple(v for _, v in filled)
            cells = out.setdefault(margin, {})
            if level in cells:
                raise MarginsError(
                    "duplicate_level", f"{' × '.join(level)} is given twice.", row=row_no, column=margin[-1]
                )
            cells[level] = value
    except csv.Error as exc:
        raise MarginsError("csv", f"not a CSV file ({exc}).", row=row_no) from None
    for margin, cells in out.items():
        if sum(cells.values()) <= 0:
            raise MarginsError("zero", f"the margin {' × '.join(margin)} sums to zero.", column=margin[-1])
    missing = [m for m in required if m not in out]
    if missing:
        names = "; ".join(" × ".join(m) for m in missing)
        raise MarginsError("missing_margin", f"the margin(s) {names} are missing.", margins=names)
    return out


def margins_csv(margins: Mapping[tuple[str, ...], Mapping[tuple[str, ...], float]]) -> str:
    """Write margins back as the CSV :func:`margins_parse` reads (the variables in order of appearance).

    >>> print(margins_csv({("country", "size"): {("DE", "micro"): 10.0}, ("sector",): {("retail",): 10.0}}), end="")
    country,size,sector,Freq
    DE,micro,,10
    ,,retail,10
    """
    variables = list(dict.fromkeys(v for margin in margins for v in margin))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([*variables, "Freq"])
    for margin, cells in margins.items():
        for level, value in cells.items():
            by = dict(zip(margin, level, strict=True))
            w.writerow([*(by.get(v, "") for v in variables), str(int(value)) if value == int(value) else repr(value)])
    return buf.getvalue()
