"""Turn what the user has into an Ibis table: a file path, a DataFrame, an Arrow table or an Ibis table.

The statistics never see rows: they build Ibis expressions on the table returned here and execute them on
whatever engine the table is bound to (DuckDB in-process by default; PySpark or any Ibis backend otherwise).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir

from digifit.errors import DesignError

__all__ = ["connect", "to_table"]

_ENGINES = ("duckdb",)


def connect(engine: str = "duckdb", **kwargs: Any) -> ibis.BaseBackend:
    """Return an Ibis connection for ``engine``.

    Parameters
    ----------
    engine : {'duckdb'}, default 'duckdb'
        The engine that runs the aggregations.
    **kwargs
        Passed to the backend's ``connect``.
    """
    if engine == "duckdb":
        return ibis.duckdb.connect(**kwargs)
    raise DesignError(f"engine {engine!r} is not supported; expected one of {', '.join(_ENGINES)}.")


def to_table(data: Any, *, con: ibis.BaseBackend | None = None) -> ir.Table:
    """Return ``data`` as an Ibis table.

    Parameters
    ----------
    data : str, os.PathLike, pandas.DataFrame, polars.DataFrame, pyarrow.Table or ibis Table
        A ``.parquet`` / ``.csv`` path (globs allowed for Parquet), an in-memory frame, or a table already
        bound to an engine.
    con : ibis backend, optional
        The connection that reads files and holds in-memory frames; a new DuckDB connection by default.
    """
    if isinstance(data, ir.Table):
        return data
    if isinstance(data, str | os.PathLike):
        path = Path(data)
        con = con if con is not None else connect()
        suffix = path.suffix.lower()
        if "*" not in str(path) and not path.exists():
            raise DesignError(f"data file {str(path)!r} does not exist.")
        if suffix in (".parquet", ".pq") or path.is_dir():
            return con.read_parquet(str(path))
        if suffix in (".csv", ".tsv", ".txt") or str(path).endswith(".csv.gz"):
            return con.read_csv(str(path))
        raise DesignError(f"data file {str(path)!r}: unknown format {suffix!r}; expected a .parquet or .csv file.")
    module = type(data).__module__.split(".")[0]
    if module in ("pandas", "polars", "pyarrow"):
        table = ibis.memtable(data)
        if con is not None:
            return con.create_table(ibis.util.gen_name("digifit"), table, temp=True)
        return table
    raise DesignError(
        f"cannot read data of type {type(data).__name__}; expected a Parquet/CSV path, a pandas or polars "
        "DataFrame, a pyarrow Table or an Ibis table."
    )
