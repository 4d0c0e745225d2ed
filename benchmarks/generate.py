"""Write the benchmark samples: seeded stratified cluster samples as Parquet in benchmarks/data/.

    python benchmarks/generate.py              # 1M and 10M rows
    python benchmarks/generate.py 1M --force   # regenerate one size

Files are named ``sample_<size>.parquet`` and are skipped when present (``--force`` rewrites them).
A file of 10 million rows takes a few seconds and about 350 MB of memory.
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", metavar="SIZE", help="1M, 10M (default: both)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--force", action="store_true", help="rewrite files that exist")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.sizes) - set(SIZES))
    if unknown:
        parser.error(f"unknown size {unknown[0]!r}; expected one of {sorted(SIZES)}")
    for size in args.sizes or list(SIZES):
        print(ensure(size, seed=args.seed, force=args.force))


if __name__ == "__main__":
    main()
