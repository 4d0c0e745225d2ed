"""Write the benchmark samples: seeded stratified cluster samples as Parquet in benchmarks/data/.

    python benchmarks/generate.py              # 1M and 10M rows
    python benchmarks/generate.py 1M --force   # regenerate one size
    python benchmarks/generate.py panel4 clusters10M   # the many-clusters files (see MANY_CLUSTERS)

Files are named ``sample_<size>.parquet`` and are skipped when present (``--force`` rewrites them).
A file of 10 million rows takes a few seconds and about 350 MB of memory.

The many-clusters files are derived from the samples with one DuckDB query each (deterministic: hashes, no
random state): ``panel4`` pools 4 waves of a panel of the 1M sample's businesses, each business its own
cluster (1 M clusters, 4 M rows; ``online`` changes for ~15 % of businesses from one wave to the next and the
weight by up to ±10 %); ``clusters10M`` is the 10M sample with clusters of 10 consecutive rows (1 M clusters
within the 20 strata).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / "data"
SIZES = {"1M": 1_000_000, "10M": 10_000_000}

try:
    from digifit.demo import stratified_cluster_sample
except ImportError:  # running from a checkout without `pip install -e .`
    sys.path.insert(0, str(ROOT / "src"))
    from digifit.demo import stratified_cluster_sample


def sample_path(size: str) -> Path:
    """Return where the sample of ``size`` ("1M", "10M") lives."""
    return DATA / f"sample_{size}.parquet"


def ensure(size: str, *, seed: int = 42, force: bool = False) -> Path:
    """Write the sample of ``size`` unless it is already there; return its path."""
    path = sample_path(size)
    if force or not path.exists():
        start = time.perf_counter()
        stratified_cluster_sample(SIZES[size], seed=seed, path=path)
        print(f"wrote {path.relative_to(ROOT)} ({time.perf_counter() - start:.1f} s)", file=sys.stderr)
    return path


MANY_CLUSTERS = {
    "panel4": (
        "1M",
        """
        SELECT stratum, business AS psu, country, sector, size, wave,
               CASE WHEN wave > 0 AND hash(business, wave) % 100 < 15 THEN 1 - online ELSE online END AS online,
               revenue_change,
               weight * (0.9 + (hash(business, wave, 1) % 2001) / 10000.0) AS weight,
               fpc
        FROM (SELECT *, CAST(file_row_number AS BIGINT) AS business
              FROM read_parquet(?, file_row_number = true)),
             (SELECT CAST(range AS INTEGER) AS wave FROM range(4))
        ORDER BY wave, business
        """,
    ),
    "clusters10M": (
        "10M",
        """
        SELECT stratum, CAST(file_row_number // 10 AS INTEGER) AS psu, country, sector, size, online,
               revenue_change, weight, fpc
        FROM read_parquet(?, file_row_number = true)
        ORDER BY file_row_number
        """,
    ),
}
"""Files with a million clusters: name -> (the sample they are derived from, the query that derives them)."""


def ensure_many_clusters(name: str, *, force: bool = False) -> Path:
    """Write the many-clusters file ``name`` (see :data:`MANY_CLUSTERS`) unless present; return its path."""
    import duckdb

    path = DATA / f"{name}.parquet"
    if force or not path.exists():
        start = time.perf_counter()
        size, query = MANY_CLUSTERS[name]
        source = ensure(size)
        tmp = path.with_name(path.name + ".tmp")
        con = duckdb.connect()
        con.execute("SET preserve_insertion_order = true")
        con.execute(
            f"COPY ({query.replace('?', repr(str(source)))}) TO '{tmp}' "
            "(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 1000000)"
        )
        tmp.replace(path)
        print(f"wrote {path.relative_to(ROOT)} ({time.perf_counter() - start:.1f} s)", file=sys.stderr)
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", metavar="SIZE", help="1M, 10M (default: both), panel4, clusters10M")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--force", action="store_true", help="rewrite files that exist")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.sizes) - set(SIZES) - set(MANY_CLUSTERS))
    if unknown:
        parser.error(f"unknown size {unknown[0]!r}; expected one of {sorted(SIZES) + sorted(MANY_CLUSTERS)}")
    for size in args.sizes or list(SIZES):
        if size in MANY_CLUSTERS:
            print(ensure_many_clusters(size, force=args.force))
        else:
            print(ensure(size, seed=args.seed, force=args.force))


if __name__ == "__main__":
    main()
