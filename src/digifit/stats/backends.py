"""Where the data live and how an Ibis expression runs there: a thin adapter, nothing statistical.

The statistics build Ibis expressions on a :class:`Source`'s ``table`` and run them with
:meth:`Source.execute`, which returns a small :class:`pyarrow.Table` (the aggregates). Two kinds:

- :class:`DuckDBSource` (the default, for file paths and in-memory frames): an unbound Ibis table compiled to
  DuckDB SQL by Ibis's DuckDB compiler (:mod:`digifit.stats.duckdb_sql`, which loads no other backend's
  compiler) and run on a ``duckdb`` connection. Same expressions, same SQL as Ibis's own DuckDB backend,
  without loading that backend's pandas machinery (a third of a second per process).
- :class:`IbisSource`: any table already bound to an Ibis backend (DuckDB, PySpark, Postgres…), executed by
  that backend. Tables bound to Ibis's PySpark backend get :class:`digifit.stats.spark.SparkSource`, which
  collects results as Arrow (``engine="spark"`` reads paths and frames that way).
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from digifit.errors import DesignError
from digifit.stats.duckdb_sql import to_duckdb_sql

__all__ = ["ENGINES", "NA_VALUES", "DuckDBSource", "IbisSource", "Source", "na_markers", "to_source"]

_names = itertools.count()


class Source(Protocol):
    """Where a design's data live: an Ibis table and a way to run expressions on it."""

    table: ir.Table

    def execute(self, expr: ir.Expr) -> Any:
        """Run ``expr``; return a :class:`pyarrow.Table` (a table expression) or a Python scalar."""

    def register(self, data: Any) -> ir.Table:
        """Make a small in-memory table (pyarrow) joinable with :attr:`table`."""


class DuckDBSource:
    """Data read by an in-process DuckDB connection; expressions compiled by Ibis to DuckDB SQL.

    ``names`` are the column names as the data have them (a CSV header, a frame's columns), when DuckDB had to
    rename some: its identifiers ignore case, so of ``nh`` and ``Nh`` it keeps ``nh`` and reads ``Nh_1``. The
    Ibis table then carries the data's own names, and each query is rewritten to DuckDB's names (and its result
    back) before it runs. ``na_values``: text values (and numbers) taken as missing in every column.
    """

    def __init__(
        self,
        con: Any,
        relation_sql: str,
        *,
        names: Sequence[str] | None = None,
        na_values: Sequence[str] | None = None,
    ):
        self.con = con
        self.name = f"digifit_{os.getpid()}_{next(_names)}"
        self._to_engine: dict[str, str] = {}
        if names is not None or na_values:
            relation_sql = self._mapped(relation_sql, names, na_values)
        con.execute(f'CREATE OR REPLACE TEMP VIEW "{self.name}" AS {relation_sql}')
        self.table = self._unbound(self.name, self._to_engine)

    def _mapped(self, relation_sql: str, names: Sequence[str] | None, na_values: Sequence[str] | None) -> str:
        rel = self.con.sql(f"SELECT * FROM ({relation_sql}) LIMIT 0")
        engine_names = list(rel.columns)
        if names is not None and len(names) == len(engine_names) and len(set(names)) == len(names):
            self._to_engine = {u: e for u, e in zip(names, engine_names) if u != e}
        numbers = [float(v) for v in na_values or () if _is_number(v)]
        items = []
        for col, typ in zip(engine_names, rel.types):
            q = _sql_identifier(col)
            kind = str(typ)
            if na_values and kind == "VARCHAR":
                markers = ", ".join(_sql_string(v) for v in na_values)
                items.append(f"CASE WHEN {q} IN ({markers}) THEN NULL ELSE {q} END AS {q}")
            elif numbers and kind in _NUMERIC_TYPES:
                markers = ", ".join(repr(v) for v in numbers)
                items.append(f"CASE WHEN CAST({q} AS DOUBLE) IN ({markers}) THEN NULL ELSE {q} END AS {q}")
            else:
                items.append(q)
        return f"SELECT {', '.join(items)} FROM ({relation_sql})"

    def _unbound(self, name: str, rename: dict[str, str] | None = None) -> ir.Table:
        schema = self.con.sql(f'SELECT * FROM "{name}" LIMIT 0').to_arrow_table().schema
        if rename:
            back = {e: u for u, e in rename.items()}
            schema = pa.schema([f.with_name(back.get(f.name, f.name)) for f in schema])
        return ibis.table(ibis.Schema.from_pyarrow(schema), name=name)

    def _sql(self, expr: ir.Expr) -> str:
        sql = to_duckdb_sql(expr)
        mapping = self._to_engine
        if not mapping:
            return sql
        import sqlglot
        from sqlglot import exp

        def rename(node):
            if isinstance(node, exp.Identifier) and node.this in mapping:
                return exp.Identifier(this=mapping[node.this], quoted=True)
            return node

        return sqlglot.parse_one(sql, dialect="duckdb").transform(rename).sql(dialect="duckdb")

    def _back(self, result: Any) -> Any:
        mapping = self._to_engine
        if not mapping:
            return result
        back = {e: u for u, e in mapping.items()}
        return result.rename_columns([back.get(n, n) for n in result.column_names])

    def execute(self, expr: ir.Expr) -> Any:
        result = self._back(self.con.sql(self._sql(expr)).to_arrow_table())
        if isinstance(expr, ir.Scalar):
            return result.column(0)[0].as_py()
        return result

    def to_parquet(self, expr: ir.Table, path: Any) -> None:
        """Stream ``expr`` into a Parquet file (DuckDB's COPY: rows never pass through Python).

        With names DuckDB cannot hold apart (``nh`` and ``Nh``), batches stream through pyarrow instead, so
        the file gets the data's own names (DuckDB's COPY would rename one again).
        """
        sql = self._sql(expr)
        if not self._to_engine:
            self.con.execute(f"COPY ({sql}) TO {_sql_string(str(path))} (FORMAT parquet)")
            return
        import pyarrow.parquet as pq

        reader = self.con.sql(sql).to_arrow_reader()
        schema = pa.schema([f.with_name(c) for f, c in zip(reader.schema, expr.columns)])
        with pq.ParquetWriter(str(path), schema) as writer:
            for batch in reader:
                writer.write_batch(pa.RecordBatch.from_arrays(batch.columns, schema=schema))

    def register(self, data: Any) -> ir.Table:
        name = f"digifit_{os.getpid()}_{next(_names)}"
        self.con.register(name, data)
        return self._unbound(name)


_NUMERIC_TYPES = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "FLOAT",
    "DOUBLE",
)


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


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _sql_identifier(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


#: What the readers take as missing, besides real nulls: ``NA`` (what R's ``write.csv`` writes for a missing
#: value, quoted or not, and what R's ``read.csv`` reads as one) and the empty field. A text column never keeps
#: them as values, so a missing value can never become a category.
NA_VALUES = ("NA", "")


def na_markers(na_values: str | Sequence[Any] | None = None) -> tuple[str, ...]:
    """The missing-value markers: :data:`NA_VALUES` and ``na_values`` (one value or several), as text."""
    if na_values is None:
        extra: tuple[Any, ...] = ()
    elif isinstance(na_values, str):
        extra = (na_values,)
    else:
        extra = tuple(na_values)
    return tuple(dict.fromkeys((*NA_VALUES, *(str(v) for v in extra))))


def _renamed_by_engine(columns: Sequence[str]) -> bool:
    """True when DuckDB may have renamed a column (``Nh`` read as ``Nh_1`` beside ``nh``)."""
    lower = {c.lower() for c in columns}
    return any((m := re.fullmatch(r"(.+)_\d+", c)) and m.group(1).lower() in lower for c in columns)


#: Types DuckDB may infer for a CSV column. BOOLEAN is left out on purpose: survey answers such as "Yes"/"No"
#: must stay the words they are (and match population margins written the same way), not become True/False.
CSV_TYPES = ("BIGINT", "DOUBLE", "DATE", "TIMESTAMP", "VARCHAR")


def csv_sql(path: str, na_values: str | Sequence[Any] | None = None, *, header: bool = True) -> str:
    """The DuckDB SQL that reads a CSV file the way digifit does.

    Type inference without booleans; the markers of :func:`na_markers` (``NA``, the empty field and
    ``na_values``) are read as NULL, before the types are inferred, so a number column with ``NA`` is numbers.
    """
    types = ", ".join(_sql_string(t) for t in CSV_TYPES)
    nulls = ", ".join(_sql_string(v) for v in na_markers(na_values))
    options = f"auto_type_candidates=[{types}], nullstr=[{nulls}]"
    if not header:
        options += ", header=false, all_varchar=true"
    return f"SELECT * FROM read_csv({_sql_string(path)}, {options})"


def _csv_names(con: Any, path: str, columns: Sequence[str]) -> list[str] | None:
    """The CSV header as written (case included), when DuckDB may have renamed a column; else None."""
    if not _renamed_by_engine(columns):
        return None
    rows = con.sql(csv_sql(path, header=False) + " LIMIT 1").fetchall()
    row = rows[0] if rows else None
    return None if row is None or len(row) != len(columns) else [str(v) for v in row]


def _parquet_names(target: str, columns: Sequence[str]) -> list[str] | None:
    if not _renamed_by_engine(columns):
        return None
    import glob

    import pyarrow.parquet as pq

    files = sorted(glob.glob(target)) if "*" in target else [target]
    if not files:
        return None
    names = pq.read_schema(files[0]).names
    return names if len(names) == len(columns) else None


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


def to_source(
    data: Any, *, con: Any = None, engine: str = "duckdb", na_values: str | Sequence[Any] | None = None
) -> Source:
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
    na_values : str or list, optional
        Values read as missing besides :data:`NA_VALUES` (``NA`` and the empty field): a CSV reads them as
        NULL before inferring types; in Parquet files and frames read by DuckDB, text columns equal to a
        marker (and number columns equal to a numeric marker) become NULL. Column names are kept as the data
        have them, case included.
    """
    if engine not in ENGINES:
        raise DesignError(f"engine {engine!r} is not known; expected one of {', '.join(ENGINES)}.")
    markers = na_markers(na_values)
    if isinstance(data, ir.Table):
        if _is_spark_table(data):
            return _engine_attr("spark", 1)(data)
        return IbisSource(data)
    if engine == "spark":
        if markers != NA_VALUES:
            raise DesignError("na_values with the Spark engine is not supported; Spark reads NA and empty as missing.")
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
            sql = f"SELECT * FROM read_parquet({_sql_string(target)})"
            names = _parquet_names(target, con.sql(f"{sql} LIMIT 0").columns)
            return DuckDBSource(con, sql, names=names, na_values=markers)
        if suffix in (".csv", ".tsv", ".txt") or str(path).endswith(".csv.gz"):
            sql = csv_sql(str(path), na_values)
            names = _csv_names(con, str(path), con.sql(f"{sql} LIMIT 0").columns)
            return DuckDBSource(con, sql, names=names)
        raise DesignError(f"data file {str(path)!r}: unknown format {suffix!r}; expected a .parquet or .csv file.")
    if isinstance(data, duckdb.DuckDBPyRelation):
        con = con if con is not None else duckdb.connect()
        name = f"digifit_rel_{next(_names)}"
        con.register(name, data.to_arrow_table())
        return DuckDBSource(con, f'SELECT * FROM "{name}"', names=list(data.columns), na_values=markers)
    module = type(data).__module__.split(".")[0]
    if module in ("pandas", "polars", "pyarrow"):
        con = con if con is not None else duckdb.connect()
        frame = data.to_arrow() if module == "polars" else data
        name = f"digifit_frame_{next(_names)}"
        con.register(name, frame)
        names = [str(c) for c in (frame.column_names if module != "pandas" else frame.columns)]
        return DuckDBSource(con, f'SELECT * FROM "{name}"', names=names, na_values=markers)
    raise DesignError(
        f"cannot read data of type {type(data).__name__}; expected a Parquet/CSV path, a pandas or polars "
        "DataFrame, a pyarrow Table, a DuckDB relation or an Ibis table."
    )
