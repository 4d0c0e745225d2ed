"""Ibis expressions compiled to DuckDB SQL, loading only Ibis's DuckDB compiler.

``ibis.to_sql`` imports ``ibis.backends.sql.compilers``, whose ``__init__`` imports the compilers of all twenty
SQL backends (Athena, BigQuery, Trino, …) and through them every sqlglot dialect, each building its tokenizer
tables: about a quarter of a second of CPU per process, of which DuckDB needs none but its own. So before the
first compilation, :func:`to_duckdb_sql` puts that package in ``sys.modules`` *unexecuted* (its submodules
import normally beside it), imports only its ``duckdb`` submodule and compiles with that compiler, the way
``ibis.to_sql(expr, dialect="duckdb")`` does (the same call, the same SQL). The first time anything asks the
package for another name (``ibis.to_sql`` for another dialect, Ibis's own backends), the package's real
``__init__`` runs in place, so the rest of Ibis sees the package it expects. Nothing here is statistical.

>>> import ibis
>>> t = ibis.table({"y": "float64"}, name="t")
>>> print(to_duckdb_sql(t.aggregate(s=t.y.sum())))
SELECT
  SUM("t0"."y") AS "s"
FROM "t" AS "t0"
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
from typing import Any

_PACKAGE = "ibis.backends.sql.compilers"
_lock = threading.RLock()
_compiler: Any = None


def _lazy_package() -> None:
    """Install :data:`_PACKAGE` unexecuted, its ``__init__`` run on first access of a missing attribute."""
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or spec.loader is None:  # pragma: no cover - Ibis without its SQL compilers
        return
    package = importlib.util.module_from_spec(spec)
    state = {"loaded": False}

    def load_all(name: str) -> Any:
        with _lock:
            if not state["loaded"]:
                state["loaded"] = True
                del package.__dict__["__getattr__"]
                spec.loader.exec_module(package)  # the real __init__: every compiler, as Ibis would have it
        try:
            return package.__dict__[name]
        except KeyError:
            raise AttributeError(f"module {_PACKAGE!r} has no attribute {name!r}") from None

    package.__getattr__ = load_all  # type: ignore[attr-defined]  # PEP 562: only names not yet set
    sys.modules[_PACKAGE] = package
    parent = sys.modules.get(_PACKAGE.rpartition(".")[0])
    if parent is not None:
        setattr(parent, _PACKAGE.rpartition(".")[2], package)


def duckdb_compiler() -> Any:
    """Ibis's DuckDB SQL compiler, without importing the other backends' compilers."""
    global _compiler
    if _compiler is None:
        with _lock:
            if _compiler is None:
                importlib.import_module("ibis.backends.sql")
                if _PACKAGE not in sys.modules:
                    _lazy_package()
                _compiler = importlib.import_module(f"{_PACKAGE}.duckdb").compiler
    return _compiler


def to_duckdb_sql(expr: Any, pretty: bool = True) -> str:
    """The DuckDB SQL of the Ibis expression ``expr``: ``ibis.to_sql(expr, dialect="duckdb")``, compiled leanly."""
    compiler = duckdb_compiler()
    out = compiler.to_sqlglot(expr.unbind())
    queries = out if isinstance(out, list) else [out]
    return ";\n".join(query.sql(dialect=compiler.dialect, pretty=pretty) for query in queries)
