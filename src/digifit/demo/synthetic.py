"""Seeded synthetic survey data: a stratified two-stage cluster sample of businesses.

The generator is vectorised (numpy) and writes Parquet one row group at a time, so a file of
10 million rows is produced in a few hundred MB of memory. It is what the benchmarks and the demo
wave are built from; it is not a model of any real survey.

The design
----------
- 20 strata, nested in countries: strata 0–7 are ``DE``, 8–13 ``FR``, 14–19 ``UK`` (each country
  samples on its own, as national SME surveys do, so ``country`` is constant within a stratum).
- 50 sampled PSUs per stratum (1,000 in all). ``psu`` is unique across the whole file
  (``stratum * 100 + j``, ``j`` = 0…49), so designs work with and without ``nest=TRUE``.
- PSU sizes vary (gamma-distributed shares of ``n_rows``; every PSU has at least one row).
- ``fpc`` is the stratum's population count of PSUs (between 200 and 2,000), constant within a stratum.
- ``weight`` is a design weight that is **not constant within a PSU**: the stratum's expansion factor
  (population businesses / sampled businesses) times a PSU-level lognormal factor (sigma 0.3) times a
  business-level lognormal factor (sigma 0.2), the way weights look after a non-response adjustment
  within PSUs. Both factors have mean 1, and the weights do not depend on the outcomes.
- ``online`` (0/1) has probability ``base[country] * f[sector] * g[size] * u[psu]``, where ``f`` and
  ``g`` average to 1 over the sector and size distributions and ``u`` (uniform 0.8–1.2) makes answers
  cluster within PSUs. So the proportion online is about 1/3 in DE, 0.43 in FR and 0.5 in UK.
- ``revenue_change`` (per cent) is normal around a sector effect, +3 points for businesses online,
  and a PSU effect, with sd 8.

Rows are ordered by stratum and PSU. Row ``i`` is drawn from a random stream keyed by the seed and by
``i // CHUNK_ROWS``, so the same seed and ``n_rows`` give the same rows whether the result is written
to a file or returned as a table.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

__all__ = ["COUNTRIES", "N_PSU_PER_STRATUM", "N_STRATA", "SECTORS", "SIZES", "stratified_cluster_sample"]

N_STRATA = 20
N_PSU_PER_STRATUM = 50
N_PSU = N_STRATA * N_PSU_PER_STRATUM
CHUNK_ROWS = 1_000_000
"""Rows per random stream and per Parquet row group."""

COUNTRIES = ("DE", "FR", "UK")
STRATUM_COUNTRY = np.array([0] * 8 + [1] * 6 + [2] * 6, dtype=np.int8)
COUNTRY_BASE = np.array([1 / 3, 0.43, 0.5])

SECTORS = (
    "manufacturing",
    "construction",
    "retail",
    "hospitality",
    "transport",
    "ict",
    "professional",
    "health",
)
SECTOR_P = np.array([0.14, 0.13, 0.18, 0.10, 0.08, 0.07, 0.18, 0.12])
SECTOR_RAW = np.array([0.85, 0.70, 1.10, 0.95, 0.80, 1.35, 1.20, 0.90])
SECTOR_REVENUE = np.array([1.0, 2.0, -1.0, -2.5, 0.5, 4.0, 2.5, 1.5])

SIZES = ("micro", "small", "medium", "large")
SIZE_P = np.array([0.60, 0.25, 0.11, 0.04])
SIZE_RAW = np.array([0.90, 1.10, 1.25, 1.40])

_SCHEMA = pa.schema(
    [
        ("stratum", pa.int32()),
        ("psu", pa.int32()),
        ("country", pa.string()),
        ("sector", pa.string()),
        ("size", pa.string()),
        ("online", pa.int32()),
        ("revenue_change", pa.float64()),
        ("weight", pa.float64()),
        ("fpc", pa.int32()),
    ]
)


def stratified_cluster_sample(n_rows: int, *, seed: int = 42, path: str | Path | None = None) -> pa.Table | Path:
    """Generate a seeded stratified cluster sample of businesses.

    Parameters
    ----------
    n_rows : int
        Number of rows (businesses); at least 1,000, one per PSU.
    seed : int, default 42
        Seed of every random draw. The same seed and ``n_rows`` give the same rows.
    path : str or Path, optional
        Where to write the sample as Parquet (row groups of 1,000,000 rows). If omitted, the sample is
        returned as a table instead.

    Returns
    -------
    pyarrow.Table or Path
        The table, or the path it was written to.

    Raises
    ------
    ValueError
        If ``n_rows`` is smaller than the number of PSUs (1,000).

    Notes
    -----
    The design (strata, PSUs, weights, fpc, how the outcomes depend on country, sector and size) is
    described in the module docstring.

    Examples
    --------
    >>> t = stratified_cluster_sample(2_000, seed=1)
    >>> t.num_rows, t.column_names[:3]
    (2000, ['stratum', 'psu', 'country'])
    >>> len(set(t["stratum"].to_pylist())), len(set(t["psu"].to_pylist()))
    (20, 1000)
    """
    if isinstance(n_rows, bool) or not isinstance(n_rows, int | np.integer) or n_rows < N_PSU:
        raise ValueError(f"The 'n_rows' parameter must be an integer >= {N_PSU} (one row per PSU). Got {n_rows!r}.")
    n_rows = int(n_rows)
    psu = _psu_frame(n_rows, seed)
    chunks = (_chunk(psu, seed, start, min(start + CHUNK_ROWS, n_rows)) for start in range(0, n_rows, CHUNK_ROWS))
    if path is None:
        return pa.Table.from_batches(list(chunks), schema=_SCHEMA)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with pq.ParquetWriter(tmp, _SCHEMA, compression="zstd") as writer:
        for batch in chunks:
            writer.write_batch(batch, row_group_size=CHUNK_ROWS)
    tmp.replace(path)
    return path


def _psu_frame(n_rows: int, seed: int) -> dict[str, np.ndarray]:
    """Draw the PSU-level quantities: sizes, stratum, ids, effects, weights' stratum and PSU factors."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0,)))
    stratum = np.repeat(np.arange(N_STRATA, dtype=np.int32), N_PSU_PER_STRATUM)
    ids = stratum * 100 + np.tile(np.arange(N_PSU_PER_STRATUM, dtype=np.int32), N_STRATA)

    shares = rng.gamma(4.0, size=N_PSU)
    sizes = _allocate(n_rows - N_PSU, shares / shares.sum()) + 1

    fpc_h = rng.integers(200, 2001, size=N_STRATA).astype(np.int32)
    businesses_per_psu = rng.uniform(50, 400, size=N_STRATA)
    n_h = np.bincount(stratum, weights=sizes, minlength=N_STRATA)
    expansion_h = fpc_h * businesses_per_psu / n_h

    sigma_psu = 0.3
    psu_weight = np.exp(rng.normal(-(sigma_psu**2) / 2, sigma_psu, size=N_PSU))
    return {
        "size": sizes,
        "end": np.cumsum(sizes),
        "stratum": stratum,
        "psu": ids,
        "country": STRATUM_COUNTRY[stratum],
        "fpc": fpc_h[stratum],
        "weight": expansion_h[stratum] * psu_weight,
        "online_effect": rng.uniform(0.8, 1.2, size=N_PSU),
        "revenue_effect": rng.normal(0.0, 2.0, size=N_PSU),
    }


def _allocate(total: int, shares: np.ndarray) -> np.ndarray:
    """Split ``total`` into integers proportional to ``shares`` (largest remainders)."""
    exact = shares * total
    out = np.floor(exact).astype(np.int64)
    short = total - int(out.sum())
    if short:
        out[np.argsort(out - exact, kind="stable")[:short]] += 1
    return out


def _chunk(psu: dict[str, np.ndarray], seed: int, start: int, stop: int) -> pa.RecordBatch:
    """Draw rows ``start`` to ``stop - 1`` from their own random stream."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(1, start // CHUNK_ROWS)))
    n = stop - start
    k = np.searchsorted(psu["end"], np.arange(start, stop), side="right")

    sector = rng.choice(len(SECTORS), size=n, p=SECTOR_P).astype(np.int8)
    size = rng.choice(len(SIZES), size=n, p=SIZE_P).astype(np.int8)
    country = psu["country"][k]
    p = (
        COUNTRY_BASE[country]
        * (SECTOR_RAW / (SECTOR_P @ SECTOR_RAW))[sector]
        * (SIZE_RAW / (SIZE_P @ SIZE_RAW))[size]
        * psu["online_effect"][k]
    )
    online = (rng.random(n) < np.minimum(p, 0.97)).astype(np.int32)
    revenue = SECTOR_REVENUE[sector] + 3.0 * online + psu["revenue_effect"][k] + rng.normal(0.0, 8.0, size=n)
    sigma_row = 0.2
    weight = psu["weight"][k] * np.exp(rng.normal(-(sigma_row**2) / 2, sigma_row, size=n))

    return pa.RecordBatch.from_arrays(
        [
            pa.array(psu["stratum"][k]),
            pa.array(psu["psu"][k]),
            _labels(COUNTRIES, country),
            _labels(SECTORS, sector),
            _labels(SIZES, size),
            pa.array(online),
            pa.array(np.round(revenue, 2)),
            pa.array(weight),
            pa.array(psu["fpc"][k]),
        ],
        schema=_SCHEMA,
    )


def _labels(names: tuple[str, ...], codes: np.ndarray) -> pa.Array:
    """Turn integer codes into a plain string array without a Python loop."""
    return pa.DictionaryArray.from_arrays(pa.array(codes), pa.array(names)).cast(pa.string())
