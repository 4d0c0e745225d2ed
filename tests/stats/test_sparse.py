"""The sparse-cell policy of raking (digifit.stats.sparse): empty margin levels collapse into a neighbour, noted."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from digifit import stats
from digifit.stats import CalibrationError, Collapse
from digifit.stats.sparse import collapse_empty

SIZES = ("micro", "small", "medium", "large")
CS = {(c, z): n for c, base in (("DE", 4000), ("FR", 3000)) for z, n in zip(SIZES, (base, base // 4, base // 10, 50))}
SECTOR = {"retail": 5000, "ict": sum(CS.values()) - 5000}


@pytest.fixture
def sample() -> pa.Table:
    rng = np.random.default_rng(5)
    n = 800
    country = np.where(np.arange(n) < 450, "DE", "FR")
    size = np.array(SIZES)[rng.integers(0, 4, n)]
    return pa.table(
        {
            "country": country,
            "size": size,
            "sector": np.array(["retail", "ict"])[rng.integers(0, 2, n)],
            "y": rng.uniform(size=n),
        }
    )


def without(table: pa.Table, country: str, size: str) -> pa.Table:
    return table.filter(pc.invert(pc.and_(pc.equal(table["country"], country), pc.equal(table["size"], size))))


def margins(cs=CS):
    return {("country", "size"): cs, "sector": SECTOR}


def test_full_data_is_raked_exactly_as_before(sample):
    d = stats.design(sample)
    strict = stats.rake(d, margins(), empty_levels="fail", max_iter=50, epsilon=1e-9)
    lenient = stats.rake(d, margins(), ordered=("size",), max_iter=50, epsilon=1e-9)
    assert lenient.calibration.collapsed == ()
    assert stats.mean(lenient, "y")[0].estimate == stats.mean(strict, "y")[0].estimate


def test_empty_ordered_level_goes_into_the_next_level(sample):
    data = without(sample, "DE", "small")
    d = stats.design(data)
    with pytest.raises(CalibrationError, match=r"\('DE', 'small'\).*no sample rows"):
        stats.rake(d, margins(), empty_levels="fail")
    raked = stats.rake(d, margins(), ordered=("size",), max_iter=50, epsilon=1e-9)
    (note,) = raked.calibration.collapsed
    assert note == Collapse(("country", "size"), (("DE", "small"),), ("DE", "medium"), "size")
    # the same as raking to the margin with the two levels merged by hand
    merged = {k: v for k, v in CS.items() if k != ("DE", "small")}
    merged[("DE", "medium")] += CS[("DE", "small")]
    by_hand = stats.rake(d, margins(merged), empty_levels="fail", max_iter=50, epsilon=1e-9)
    got, want = stats.mean(raked, "y")[0], stats.mean(by_hand, "y")[0]
    assert got.estimate == pytest.approx(want.estimate, rel=1e-12) and got.se == pytest.approx(want.se, rel=1e-9)
    total = stats.total(raked, "y")[0].estimate
    assert total == pytest.approx(stats.total(by_hand, "y")[0].estimate, rel=1e-12)


def test_last_ordered_level_goes_into_the_previous_one(sample):
    raked = stats.rake(stats.design(without(sample, "FR", "large")), margins(), ordered=("size",), max_iter=50)
    assert [(n.levels, n.into) for n in raked.calibration.collapsed] == [((("FR", "large"),), ("FR", "medium"))]


def test_unordered_margin_goes_into_the_largest_level(sample):
    raked = stats.rake(stats.design(without(sample, "DE", "small")), margins(), max_iter=50)
    (note,) = raked.calibration.collapsed
    assert note.into == ("DE", "micro") and note.column == "size"  # micro is DE's largest size class


def test_margin_without_any_responding_level_is_dropped():
    cs, levels = {("a",): 10.0, ("b",): 20.0}, {("x",)}
    assert collapse_empty(("g",), cs, levels) == (None, (Collapse(("g",), (("a",), ("b",)), None),))
    out, notes = collapse_empty(("g",), cs, {("b",)})
    assert out == {("b",): 30.0} and notes == (Collapse(("g",), (("a",),), ("b",), "g"),)


def test_a_level_outside_the_population_is_still_an_error(sample):
    with pytest.raises(CalibrationError, match="in the sample but not in the population"):
        stats.rake(stats.design(sample), {"sector": {"retail": 10.0}})


def test_unknown_policy(sample):
    with pytest.raises(CalibrationError, match="empty_levels 'maybe'"):
        stats.rake(stats.design(sample), margins(), empty_levels="maybe")


def test_cli_notes_the_collapse_and_strict_margins_fail(sample, tmp_path):
    import pyarrow.parquet as pq
    from click.testing import CliRunner

    from digifit.cli import main

    data = tmp_path / "wave.parquet"
    pq.write_table(without(sample, "DE", "small"), data)
    (tmp_path / "cs.csv").write_text("country,size,Freq\n" + "".join(f"{c},{z},{v}\n" for (c, z), v in CS.items()))
    args = ["estimate", str(data), "--mean", "y", "--rake", f"country,size={tmp_path / 'cs.csv'}", "--ordered", "size"]
    ok = CliRunner().invoke(main, args)
    assert ok.exit_code == 0, ok.output
    assert "DE/small (no responses) collapsed into DE/medium" in ok.stderr
    strict = CliRunner().invoke(main, [*args, "--strict-margins"])
    assert strict.exit_code != 0 and "no sample rows" in strict.output
