"""Small, hand-checkable designs for the statistics tests."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest


@pytest.fixture
def strat_table() -> pa.Table:
    """A stratified cluster sample: 3 strata, 4 PSUs each, 5 rows per PSU, with a domain and a category."""
    rng = np.random.default_rng(7)
    n = 60
    stratum = np.repeat([1, 2, 3], 20)
    psu = np.tile(np.repeat([1, 2, 3, 4], 5), 3)
    return pa.table(
        {
            "stratum": stratum,
            "psu": psu,
            "w": rng.uniform(1, 5, n),
            "y": rng.normal(10, 3, n),
            "x": rng.uniform(1, 2, n),
            "region": np.where(rng.uniform(size=n) < 0.5, "north", "south"),
            "online": (rng.uniform(size=n) < 0.4).astype(np.int64),
        }
    )
