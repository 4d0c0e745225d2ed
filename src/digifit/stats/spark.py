"""Spark as the engine: a session with sensible defaults, data read through Ibis's PySpark backend.

The estimators only build Ibis expressions; on Spark they run as Spark SQL, and only the small aggregates
(one row per domain × stratum × PSU) come back to the driver. This module is the adapter: it starts or reuses
a :class:`pyspark.sql.SparkSession`, reads Parquet/CSV into an Ibis table bound to that session, and runs
expressions with :class:`SparkSource`.

>>> from digifit import stats
>>> from digifit.stats.spark import read_spark, spark_session
>>> session = spark_session()  # doctest: +SKIP
>>> wave = read_spark("wave.parquet", session)  # doctest: +SKIP
>>> d = stats.design(wave, weights="weight", strata="stratum", ids="psu")  # doctest: +SKIP
>>> stats.proportion(d, "online", by="country")  # doctest: +SKIP

or, the same in one step: ``stats.design("wave.parquet", engine="spark", ...)``.

pyspark is an optional dependency (``pip install 'digifit[spark]'``, Java 17 or later); importing this
module does not import it.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import ibis.expr.types as ir

from digifit.errors import DesignError
from digifit.stats.backends import IbisSource

__all__ = ["MASTER_ENV", "SparkSource", "read_spark", "spark_session", "spark_source", "stop_session"]

MASTER_ENV = "DIGIFIT_SPARK_MASTER"
"""Environment variable naming the Spark master when none is given (``local[2]`` when unset)."""

DEFAULT_MASTER = "local[2]"

_names = itertools.count()

# every session digifit starts gets these unless the caller overrides them
_DEFAULTS = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
    # toPandas/createDataFrame through Arrow (Ibis's own paths use them)
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}
# local mode only (plus spark.sql.shuffle.partitions = the local threads, set in spark_session)
_LOCAL_DEFAULTS = {
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
}

# local mode: the driver JVM logs warnings, without the lines Spark's default profile prints on every start
# (root at WARN is also what keeps pyspark from announcing "Setting default log level")
_LOG4J2 = """\
rootLogger.level = warn
rootLogger.appenderRef.stderr.ref = console
logger.native.name = org.apache.hadoop.util.NativeCodeLoader
logger.native.level = error
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex
"""

_CSV_SUFFIXES = (".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz")
_PARQUET_SUFFIXES = (".parquet", ".pq")


def _require_pyspark():
    try:
        import pyspark  # noqa: F401
    except ImportError:
        raise DesignError(
            "the Spark engine needs pyspark and Ibis's PySpark backend; install them with "
            "pip install 'digifit[spark]' (and a Java 17+ runtime)."
        ) from None


def _local_threads(master: str) -> int | None:
    """Return the number of threads of a ``local`` master (``local[4]`` → 4), None for a cluster master."""
    if master == "local":
        return 1
    match = re.fullmatch(r"local\[(\*|\d+)(?:,\s*\d+)?\]", master)
    if match is None:
        return None
    return (os.cpu_count() or 1) if match.group(1) == "*" else max(int(match.group(1)), 1)


def _conf_key(key: str) -> str:
    """``driver_memory`` → ``spark.driver.memory``; keys already starting with ``spark.`` are kept."""
    return key if key.startswith("spark.") else "spark." + key.replace("_", ".")


def _quiet_logging() -> str:
    """Return the JVM option that points log4j2 at digifit's quiet configuration (written once, in the temp dir)."""
    digest = hashlib.sha256(_LOG4J2.encode()).hexdigest()[:12]
    path = Path(tempfile.gettempdir()) / f"digifit-spark-log4j2-{digest}.properties"
    if not path.exists():
        partial = path.with_name(f"{path.name}.{os.getpid()}")
        partial.write_text(_LOG4J2)
        os.replace(partial, path)
    return f"-Dlog4j2.configurationFile={path.as_uri()}"


def _conf_value(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def spark_session(master: str | None = None, *, app_name: str = "digifit", **conf: Any):
    """Start (or reuse) a Spark session set up for digifit.

    Parameters
    ----------
    master : str, optional
        ``local[N]``, ``local[*]``, ``spark://host:7077``, ``yarn``, ``k8s://…``. Default: the
        ``DIGIFIT_SPARK_MASTER`` environment variable, else ``local[2]``.
    app_name : str, default 'digifit'
        The application name shown by the cluster manager.
    **conf
        Spark properties, either by their full name (``**{"spark.executor.memory": "8g"}``) or with
        underscores for dots and the ``spark.`` prefix left out (``executor_memory="8g"``,
        ``sql_shuffle_partitions=64``). They override digifit's defaults.

    Returns
    -------
    pyspark.sql.SparkSession

    Notes
    -----
    Defaults: no web UI and no console progress bar, session time zone UTC, Arrow transfers on. In local mode
    also ``spark.sql.shuffle.partitions`` = the number of local threads (Spark's 200 would make every
    aggregation 200 tiny tasks) and the driver bound to 127.0.0.1. On a cluster the shuffle partitions are
    left to Spark (adaptive execution coalesces them). In local mode, unless ``spark.driver.extraJavaOptions``
    or ``PYSPARK_SUBMIT_ARGS`` is given, the driver JVM starts without Spark's log lines and then logs errors
    only; on a cluster logging is left to its configuration.

    Spark keeps one session per process: if one is already running it is returned as it is (its master and
    static properties such as memory cannot change any more; ``spark.sql.*`` properties given here are
    applied). Stop it, and the JVM, with :func:`stop_session`. Driver memory must be set before the JVM
    starts: pass ``driver_memory=`` on the first call, or use ``spark-defaults.conf`` / ``PYSPARK_SUBMIT_ARGS``.

    Examples
    --------
    >>> session = spark_session("local[2]", driver_memory="2g")  # doctest: +SKIP
    >>> session.conf.get("spark.sql.shuffle.partitions")  # doctest: +SKIP
    '2'
    """
    _require_pyspark()
    from pyspark.sql import SparkSession

    given = {_conf_key(k): _conf_value(v) for k, v in conf.items()}
    active = SparkSession.getActiveSession()
    if active is not None:
        # the running session keeps its master and defaults; only runtime (SQL) properties given here apply
        for key, value in given.items():
            if key.startswith("spark.sql."):
                active.conf.set(key, value)
        return active
    master = master or os.environ.get(MASTER_ENV) or DEFAULT_MASTER
    settings = dict(_DEFAULTS)
    threads = _local_threads(master)
    if threads is not None:
        settings.update(_LOCAL_DEFAULTS)
        settings["spark.sql.shuffle.partitions"] = str(threads)
    settings.update(given)
    quiet = "spark.driver.extraJavaOptions" not in settings and "PYSPARK_SUBMIT_ARGS" not in os.environ
    if threads is not None and quiet:
        settings["spark.driver.extraJavaOptions"] = _quiet_logging()
    if threads is not None:
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")  # local mode: stay on loopback (and say nothing)
    builder = SparkSession.builder.master(master).appName(app_name)
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # no Java, an unreachable master, a bad property: say which, in one line
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DesignError(
            f"Spark could not start with master {master!r}: {first} (Spark needs Java 17+ on PATH or JAVA_HOME; "
            f"a cluster master must be reachable; see docs/scale-out.md)."
        ) from None
    if threads is not None and quiet:
        session.sparkContext.setLogLevel("ERROR")
    return session


def stop_session(session: Any = None, *, timeout: float = 30) -> None:
    """Stop a Spark session and the JVM that pyspark started for it.

    ``session.stop()`` alone stops Spark but leaves pyspark's gateway JVM running until Python exits (it is
    kept for the next session). This stops the session (default: the active one), shuts the gateway down and
    waits for the JVM process to end, so a test suite or a notebook leaves nothing behind. A JVM that pyspark
    did not start (``PYSPARK_GATEWAY_PORT``) is left alone. The next :func:`spark_session` starts a new one.
    """
    try:
        from pyspark import SparkContext
        from pyspark.sql import SparkSession
    except ImportError:
        return
    session = session if session is not None else SparkSession.getActiveSession()
    if session is not None:
        session.stop()
    with SparkContext._lock:
        gateway = SparkContext._gateway
        if gateway is None:
            return
        proc = getattr(gateway, "proc", None)
        with contextlib.suppress(Exception):  # the JVM may already be gone
            gateway.shutdown()
        if proc is not None:
            if proc.stdin is not None:
                proc.stdin.close()  # the JVM exits when its stdin closes
            try:
                proc.wait(timeout=timeout)
            except Exception:
                proc.kill()
                proc.wait(timeout=timeout)
        SparkContext._gateway = None
        SparkContext._jvm = None


def _is_local(path: str) -> bool:
    return "://" not in path or path.startswith("file://")


def read_spark(path: str | os.PathLike, session: Any = None, *, format: str | None = None, **options: Any):
    """Read a Parquet or CSV dataset into an Ibis table bound to a Spark session.

    Parameters
    ----------
    path : str or os.PathLike
        A file, a folder of files (read as Parquet unless ``format='csv'``), or a glob; local or on shared
        storage (``hdfs://…``, ``s3a://…``, ``abfss://…``, ``gs://…``).
    session : pyspark.sql.SparkSession, optional
        Default: :func:`spark_session` (the running one, or a new one with digifit's defaults).
    format : {'parquet', 'csv'}, optional
        Default: from the suffix (``.parquet``/``.pq`` or a folder: Parquet; ``.csv``/``.tsv``/``.txt``: CSV).
    **options
        Reader options passed to Spark (for CSV the defaults are ``header=True, inferSchema=True``,
        ``escape='"'`` (a quote inside a quoted field is doubled, as R and DuckDB write it) and ``sep="\\t"``
        for ``.tsv``).

    Returns
    -------
    ibis.expr.types.Table
        Bound to Ibis's PySpark backend; pass it to :func:`digifit.stats.design`.

    Raises
    ------
    DesignError
        A local path that does not exist, an unknown format, or a file Spark cannot read.
    """
    _require_pyspark()
    import ibis
    from pyspark.errors import PySparkException

    text = os.fspath(path)
    if _is_local(text) and not any(ch in text for ch in "*?[") and not Path(text.removeprefix("file://")).exists():
        raise DesignError(f"data file {text!r} does not exist.")
    lower = text.lower().rstrip("/")
    if format is None:
        if lower.endswith(_PARQUET_SUFFIXES) or (_is_local(text) and Path(text.removeprefix("file://")).is_dir()):
            format = "parquet"
        elif lower.endswith(_CSV_SUFFIXES):
            format = "csv"
        elif "://" in text and "." not in lower.rsplit("/", 1)[-1]:
            format = "parquet"  # a folder on shared storage
        else:
            raise DesignError(
                f"data file {text!r}: unknown format; expected a .parquet or .csv file (or pass format=)."
            )
    if format not in ("parquet", "csv"):
        raise DesignError(f"format {format!r} is not known; expected 'parquet' or 'csv'.")
    session = session if session is not None else spark_session()
    con = ibis.pyspark.connect(session)
    name = f"digifit_{os.getpid()}_{next(_names)}"
    try:
        if format == "csv":
            # RFC 4180 quotes, as DuckDB and R; NA (R's write.csv) is missing, as the empty field
            opts = {"header": True, "inferSchema": True, "escape": '"', "nullValue": "NA"}
            if lower.endswith((".tsv", ".tsv.gz")):
                opts["sep"] = "\t"
            opts.update(options)
            frame = session.read.csv(text, **opts)
        else:
            frame = session.read.parquet(text, **options)
    except PySparkException as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DesignError(f"data file {text!r} could not be read by Spark: {first}") from None
    frame.createOrReplaceTempView(name)
    return con.table(name)


def _arrow_of(frame: Any):
    """Collect a (small) Spark DataFrame as a pyarrow Table, without pandas in between."""
    if hasattr(frame, "toArrow"):  # pyspark >= 4.0
        return frame.toArrow()
    import pyarrow as pa

    batches = frame._collect_as_arrow()  # pyspark 3.5: a list of record batches (empty list for no rows)
    if batches:
        return pa.Table.from_batches(batches)
    from pyspark.sql.pandas.types import to_arrow_schema

    return to_arrow_schema(frame.schema).empty_table()


class SparkSource(IbisSource):
    """A table bound to Ibis's PySpark backend; results are collected as Arrow, not through pandas.

    Ibis's own ``to_pyarrow`` on PySpark goes through ``toPandas()``, which turns a nullable 64-bit integer
    column into float64 (2**60 + 1 comes back as 2**60): a domain or category column with missing values
    would be merged wrongly. This source compiles the expression with Ibis and collects it with Spark's
    ``toArrow()``, then casts to the expression's schema.
    """

    def __init__(self, table: ir.Table):
        super().__init__(table)
        self.backend = table._find_backend()
        self.session = self.backend._session

    def execute(self, expr: ir.Expr) -> Any:
        from ibis.formats.pyarrow import PyArrowData

        table_expr = expr.as_table()
        self.backend._run_pre_execute_hooks(table_expr)  # registers memtables the expression uses
        frame = self.session.sql(self.backend.compile(table_expr))
        schema = table_expr.schema()
        result = _arrow_of(frame).rename_columns(list(schema.names))
        result = PyArrowData.convert_table(result, schema)
        if isinstance(expr, ir.Scalar):
            return result.column(0)[0].as_py() if result.num_rows else None
        return result

    def register(self, data: Any) -> ir.Table:
        """Make a small pyarrow table a Spark temporary view (Arrow in, no pandas) and return it as a table."""
        import pyarrow as pa

        table = data if isinstance(data, pa.Table) else pa.table(data)
        if not _arrow_in():
            return super().register(table)  # pyspark 3.5: Ibis's memtable (through pandas)
        name = f"digifit_{os.getpid()}_{next(_names)}"
        self.session.createDataFrame(table).createOrReplaceTempView(name)
        return self.backend.table(name)


def _arrow_in() -> bool:
    """Whether ``createDataFrame`` takes a pyarrow Table (pyspark 4.0, which also added ``toArrow``)."""
    from pyspark.sql import DataFrame

    return hasattr(DataFrame, "toArrow")


def spark_source(data: Any, session: Any = None) -> SparkSource:
    """Return a :class:`SparkSource` for a path, an in-memory frame or an Ibis table bound to Spark.

    Parameters
    ----------
    data : str, os.PathLike, pyarrow.Table, pandas.DataFrame, polars.DataFrame or ibis Table
        A path is read with :func:`read_spark`; a frame becomes a Spark temporary view.
    session : pyspark.sql.SparkSession, optional
        Default: :func:`spark_session`.
    """
    if isinstance(data, ir.Table):
        return SparkSource(data)
    if isinstance(data, str | os.PathLike):
        return SparkSource(read_spark(data, session))
    module = type(data).__module__.split(".")[0]
    if module in ("pandas", "polars", "pyarrow"):
        _require_pyspark()
        import ibis
        import pyarrow as pa

        if module == "polars":
            data = data.to_arrow()
        elif module == "pandas":
            data = pa.Table.from_pandas(data, preserve_index=False)
        session = session if session is not None else spark_session()
        name = f"digifit_{os.getpid()}_{next(_names)}"
        session.createDataFrame(data if _arrow_in() else data.to_pandas()).createOrReplaceTempView(name)
        return SparkSource(ibis.pyspark.connect(session).table(name))
    raise DesignError(
        f"the Spark engine cannot read data of type {type(data).__name__}; expected a Parquet/CSV path, a "
        "pandas or polars DataFrame, a pyarrow Table or an Ibis table."
    )
