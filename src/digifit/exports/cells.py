"""Formula neutralisation of exported cells (OWASP "CSV injection").

Every text value that starts with ``=``, ``+``, ``-``, ``@``, TAB or CR gets a leading single quote, so a
spreadsheet program shows it as text instead of running it as a formula; numbers, dates and booleans pass
unchanged (``-5`` stays a number). In XLSX the quote also stops openpyxl from writing a formula cell.
"""

from __future__ import annotations

from typing import Any

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Return ``value`` ready for a CSV or XLSX cell: text that could start a formula is quoted."""
    if isinstance(value, str) and value.startswith(TRIGGERS):
        return "'" + value
    return value
