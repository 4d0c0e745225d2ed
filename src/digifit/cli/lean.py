"""What the command line keeps out of its processes: pandas, which pyarrow would otherwise load unasked.

pyarrow imports pandas (when it is installed) the first time it converts anything — ``pa.array``,
``pa.table``, even ``pa.scalar`` — to know whether the input is a pandas object. That costs about 0.4 s of CPU
per process, and no command of the CLI ever hands pyarrow a pandas object (they read files). Before a data
command runs, :func:`pyarrow_without_pandas` lets pyarrow's one look happen while ``import pandas`` fails, so
pyarrow records "no pandas" and never looks again. pyarrow still imports pandas itself wherever pandas is
really needed (``Table.to_pandas``, ``Table.from_pandas``); only its recognition of pandas objects passed to
``pa.array`` is off, which nothing in the command line relies on. The Python API (``digifit.stats``) is not
touched: a program that imports it keeps pyarrow's usual behaviour.
"""

from __future__ import annotations

import sys


class _NoPandas:
    """A meta path finder under which ``import pandas`` fails (pyarrow's check is compiled code that takes a
    ``None`` in ``sys.modules`` for the module itself, so the import has to fail in the finders)."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        if name == "pandas":
            raise ModuleNotFoundError("pandas is kept out of the digifit command line", name="pandas")
        return None


def pyarrow_without_pandas() -> None:
    """Make pyarrow's lazy pandas check find no pandas (unless pandas is already imported); idempotent."""
    if "pandas" in sys.modules:
        return
    import pyarrow as pa

    finder = _NoPandas()
    sys.meta_path.insert(0, finder)
    try:
        pa.scalar(0)  # pyarrow's first conversion: its pandas shim tries the import once and remembers
    finally:
        sys.meta_path.remove(finder)
