"""Where the data live and how an Ibis expression runs there: a thin adapter, nothing statistical.

The statistics build Ibis expressions on a :class:`Source`'s ``table`` and run them with
:meth:`Source.execute`, which returns a small :class:`pyarrow.Table` (the aggregates). Two kinds:

- :class:`DuckDBSource` (the default, for file paths and in-memory frames): an unbound Ibis table compiled to
  DuckDB SQL with ``ibis.to_sql`` and run on a ``duckdb`` connection. Same expressions, same SQL as Ibis's own
  DuckDB backend, without loading that backend's pandas machinery (a third of a second per process).
- :class:`IbisSource`: any table already bound to an Ibis backend (DuckDB, PySpark, Postgres…), executed by
  that backend. Tables bound to Ibis's PySpark backend get :class:`digifit.stats.spark.SparkSource`, which
  collects results as Arrow (``engine="spark"`` reads paths and frames that way).
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Any, Protocol

import ibis
import ibis.expr.types as ir

from digifit.errors import DesignError

__all__ = ["ENGINES", "DuckDBSource", "IbisSource", "Source", "to_source"]

_names = itertools.count()


class Source(Protocol):
    """Where a design's data live: an Ibis table and a way to run expressions on it."""

    table: ir.Table

    def execute(self, expr: ir.Expr) -> Any:
        """Run ``expr``; return a :class:`pyarrow.Table` (a table expression) or a Python scalar."""

    def register(self, data: Any) -> ir.Table:
        """Make a small in-memory table (pyarrow) joinable with :attr:`table`."""


class DuckDBSource:
    """Data read by an in-process DuckDB connection; expressions compiled by Ibis to DuckDB SQL."""

    def __init__(self, con: Any, relation_sql: str):
        self.con = con
        self.name = f"digifit_{os.getpid()}_{next(_names)}"
        con.execute(f'CREATE OR REPLACE TEMP VIEW "{self.name}" AS {relation_sql}')
        self.table = self._unbound(self.name)

    def _unbound(self, name: str) -> ir.Table:
        schema = self.con.sql(f'SELECT * FROM "{name}" LIMIT 0').to_arrow_table().schema
        return ibis.table(ibis.Schema.from_pyarrow(schema), name=name)

    def execute(self, expr: ir.Expr) -> Any:
        result = self.con.sql(str(ibis.to_sql(expr, dialect="duckdb"))).to_arrow_table()
        if isinstance(expr, ir.Scalar):
            return result.column(0)[0].as_py()
        return result

    def to_parquet(self, expr: ir.Table, path: Any) -> None:
        """Stream ``expr`` into a Parquet file (DuckDB's COPY: rows never pass through Python)."""
        sql = str(ibis.to_sql(expr, dialect="duckdb"))
        self.con.execute(f"COPY ({sql}) TO {_sql_string(str(path))} (FORMAT parquet)")

    def register(self, data: Any) -> ir.Table:
        name = f"digifit_{os.getpid()}_{next(_names)}"
        self.con.register(name, data)
        return self._unbound(name)


class IbisSource:
    """A table bound to an Ibis backend; expressions run on that backend."""

    def __init__(self, table: ir.Table):
        self.table = table

    def execute(self, expr: ir.Expr) -> Any:
        result = expr.to_pyarrow()
        return result.as_py() if isinstance(expr, ir.Scalar) else result

    def register(self, data: Any) -> ir.Table:
        return ibis.memtable(data)

    def to_parquet(self, expr: ir.Table, path: Any) -> None:
        """Write ``expr`` to Parquet with the backend's own writer."""
        expr.to_parquet(path)


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


#: Types DuckDB may infer for a CSV column. BOOLEAN is left out on purpose: survey answers such as "Yes"/"No"
#: must stay the words they are (and match population margins written the same way), not become True/False.
CSV_TYPES = ("BIGINT", "DOUBLE", "DATE", "TIMESTAMP", "VARCHAR")


def csv_sql(path: str) -> str:
    """The DuckDB SQL that reads a CSV file the way digifit does (type inference without booleans)."""
    types = ", ".join(_sql_string(t) for t in CSV_TYPES)
    return f"SELECT * FROM read_csv({_sql_string(path)}, auto_type_candidates=[{types}])"


ENGINES = ("duckdb", "spark")

# Engines other than the built-in DuckDB one, found by name: engine -> (module, function making a source from
# ``(data, con)``, class wrapping a table already bound to that engine). Resolved lazily with importlib, so this
# module never imports an engine (the engine modules import this one for the interface they implement).
ENGINE_REGISTRY: dict[str, tuple[str, str, str]] = {
    "spark": ("digifit.stats.spark", "spark_source", "SparkSource"),
}


def _engine_attr(engine: str, which: int) -> Any:
    import importlib

    module, *names = ENGINE_REGISTRY[engine]
    return getattr(importlib.import_module(module), names[which])


def _is_spark_table(table: ir.Table) -> bool:
    try:
        return table._find_backend(use_default=False).name == "pyspark"
    except Exception:  # an unbound table or one without a backend
        return False


def to_source(data: Any, *, con: Any = None, engine: str = "duckdb") -> Source:
    """Return where ``data`` live as a :class:`Source`.

    Parameters
    ----------
    data : str, os.PathLike, pandas.DataFrame, polars.DataFrame, pyarrow.Table, duckdb relation or ibis Table
        A ``.parquet`` / ``.csv`` path (a Parquet glob or folder works too), an in-memory frame, a DuckDB
        relation, or an Ibis table bound to any backend (then that backend runs the aggregations).
    con : duckdb connection or pyspark.sql.SparkSession, optional
        The DuckDB connection (or, with ``engine="spark"``, the Spark session) for paths and frames; a new
        in-memory DuckDB connection (a Spark session from :func:`digifit.stats.spark.spark_session`) by default.
    engine : {'duckdb', 'spark'}, default 'duckdb'
        Which engine reads paths and frames; an Ibis table always runs on the backend it is bound to.
    """
    if engine not in ENGINES:
        raise DesignError(f"engine {engine!r} is not known; expected one of {', '.join(ENGINES)}.")
    if isinstance(data, ir.Table):
        if _is_spark_table(data):
            return _engine_attr("spark", 1)(data)
        return IbisSource(data)
    if engine == "spark":
        return _engine_attr("spark", 0)(data, con)
    import duckdb

    if isinstance(data, str | os.PathLike):
        path = Path(data)
        suffix = path.suffix.lower()
        if "*" not in str(path) and not path.exists():
            raise DesignError(f"data file {str(path)!r} does not exist.")
        con = con if con is not None else duckdb.connect()
        if suffix in (".parquet", ".pq") or path.is_dir():
            target = str(path / "*.parquet") if path.is_dir() else str(path)
            return DuckDBSource(con, f"SELECT * FROM read_parquet({_sql_string(target)})")
        if suffix in (".csv", ".tsv", ".txt") or str(path).endswith(".csv.gz"):
            return DuckDBSource(con, csv_sql(str(path)))
        raise DesignError(f"data file {str(path)!r}: unknown format {suffix!r}; expected a .parquet or .csv file.")
    if isinstance(data, duckdb.DuckDBPyRelation):
        con = con if con is not None else duckdb.connect()
        name = f"digifit_rel_{next(_names)}"
        con.register(name, data.to_arrow_table())
        return DuckDBSource(con, f'SELECT * FROM "{name}"')
    module = type(data).__module__.split(".")[0]
    if module in ("pandas", "polars", "pyarrow"):
        con = con if con is not None else duckdb.connect()
        frame = data.to_arrow() if module == "polars" else data
        name = f"digifit_frame_{next(_names)}"
        con.register(name, frame)
        return DuckDBSource(con, f'SELECT * FROM "{name}"')
    raise DesignError(
        f"cannot read data of type {type(data).__name__}; expected a Parquet/CSV path, a pandas or polars "
        "DataFrame, a pyarrow Table, a DuckDB relation or an Ibis table."
    )
