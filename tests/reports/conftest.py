"""Fixtures of the report tests: the demo waves as a Parquet snapshot and their headline report."""

from __future__ import annotations

import pytest
from demo_inputs import DEMO

from digifit.demo.waves import waves_write
from digifit.reports.headline import headline_report


@pytest.fixture(scope="session")
def demo_snapshot(tmp_path_factory):
    """The default demo waves (20,000 responses, seed 2029)."""
    return waves_write(tmp_path_factory.mktemp("waves") / "waves.parquet")


@pytest.fixture(scope="session")
def demo_report(demo_snapshot):
    return headline_report(demo_snapshot, **DEMO)


@pytest.fixture(scope="session")
def small_snapshot(tmp_path_factory):
    """A smaller wave set (5,000 responses): cells near the thresholds, fast."""
    return waves_write(tmp_path_factory.mktemp("small") / "small.parquet", n=5000, seed=11)
