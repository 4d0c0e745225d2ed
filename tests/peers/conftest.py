"""Run R's `survey` once per session and hand its reference values to the peer tests.

``make_reference.R`` writes the ``api`` data sets as CSV and ``reference.json`` into a temporary directory.
The cases must be known at collection time (one test id per case), so the script runs when the first test
that asks for ``r_case`` is collected; the ``r_reference`` fixture returns the same object.

The tests are skipped only when ``Rscript`` is not on PATH (``make test`` installs r-base-core and
r-cran-survey, so in CI they always run). Any other failure of the R script is an error, not a skip.
"""

from __future__ import annotations

import atexit
import functools
import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(__file__).with_name("make_reference.R")
NO_R = "Rscript not found on PATH: install R and its survey package (make sysdeps) to compare with R"


@dataclass(frozen=True)
class Reference:
    """What make_reference.R produced: the directory with the CSVs and the parsed reference.json."""

    directory: Path
    meta: dict[str, Any]
    designs: dict[str, dict[str, Any]]
    cases: list[dict[str, Any]]

    def case(self, case_id: str) -> dict[str, Any]:
        for case in self.cases:
            if case["id"] == case_id:
                return case
        raise KeyError(f"reference.json has no case {case_id!r}")


@functools.cache
def load_reference() -> Reference | None:
    """Run make_reference.R into a fresh temporary directory (once per process); None without Rscript."""
    rscript = shutil.which("Rscript")
    if rscript is None:
        return None
    directory = Path(tempfile.mkdtemp(prefix="digifit-r-survey-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    proc = subprocess.run(
        [rscript, "--vanilla", str(SCRIPT), str(directory)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"{SCRIPT.name} failed with exit code {proc.returncode}; is r-cran-survey installed?\n"
            f"--- stderr ---\n{proc.stderr[-4000:]}"
        )
    raw = json.loads((directory / "reference.json").read_text(encoding="utf-8"))
    return Reference(directory=directory, meta=raw["meta"], designs=raw["designs"], cases=raw["cases"])


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrize ``r_case`` with every case of reference.json, one test id per case."""
    if "r_case" not in metafunc.fixturenames:
        return
    ref = load_reference()
    if ref is None:
        skipped = pytest.param(None, marks=pytest.mark.skip(reason=NO_R))
        metafunc.parametrize("r_case", [skipped], ids=["no-R"])
        return
    metafunc.parametrize("r_case", ref.cases, ids=[c["id"] for c in ref.cases])


@pytest.fixture(scope="session")
def r_reference() -> Reference:
    """The parsed reference.json and the directory holding the exported CSVs."""
    ref = load_reference()
    if ref is None:
        pytest.skip(NO_R)
    return ref
