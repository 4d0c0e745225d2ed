"""The headline report: its numbers are digifit.stats' on the same data; the difference; the thresholds."""

from __future__ import annotations

import dataclasses
import math

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from demo_inputs import DEMO

from digifit import stats
from digifit.demo.waves import MARGINS_DIR, TARGETS, waves_table
from digifit.reports.headline import ReportError, difference, headline_report, reliability
from digifit.stats import Estimate


def _raked_design(table: pa.Table):
    """The report's design, built here independently from the documented recipe."""
    biz = pc.coalesce(table["panel_id"], table["instance_id"])
    t = table.append_column("biz", biz).append_column("d25", pc.cast(table["digital25"], pa.float64()))
    d = stats.design(t, weights="design_weight", strata="country", ids="biz")
    margins = {
        ("country", "size"): MARGINS_DIR / "enterprises_country_size.csv",
        "sector": MARGINS_DIR / "enterprises_sector.csv",
    }
    return stats.rake(d, margins, max_iter=100, epsilon=1e-7), stats.design(t, strata="country", ids="biz")


def test_report_numbers_are_the_stats_core_numbers(demo_snapshot, demo_report):
    raked, unweighted = _raked_design(pq.read_table(demo_snapshot))
    expected = {e.domain["country"]: e for e in stats.mean(raked, "d25", by="country", ci_method="logit")}
    for line in demo_report.headline:
        if line.key == "all":
            continue
        e = expected[line.key]
        got = line.estimate
        for attr in ("estimate", "se", "ci_low", "ci_high", "deff", "cv"):
            assert getattr(got, attr) == pytest.approx(getattr(e, attr), rel=1e-9), (line.key, attr)
        assert (got.n, got.df) == (e.n, e.df)
    by_sector = {e.domain["sector"]: e for e in stats.mean(raked, "d25", by="sector", ci_method="logit")}
    for line in demo_report.by_sector:
        assert line.estimate.estimate == pytest.approx(by_sector[line.key].estimate, rel=1e-9)
        assert line.estimate.se == pytest.approx(by_sector[line.key].se, rel=1e-9)
    unw = {e.domain["country"]: e for e in stats.mean(unweighted, "d25", by="country", ci_method="logit")}
    for line in demo_report.weighted_vs_unweighted:
        if line.key != "all":
            assert line.unweighted.estimate == pytest.approx(unw[line.key].estimate, rel=1e-12)
    totals = {s.country: s.weighted_total.estimate for s in demo_report.sample}
    assert totals["DE"] == pytest.approx(s := sum(s.population for s in demo_report.sample if s.country == "DE"))
    assert s == 2_600_000


def test_demo_reproduces_the_published_headline_and_weighting_matters(demo_report):
    for country in ("DE", "FR", "UK"):
        line = demo_report.line("weighted_vs_unweighted", country)
        w, u = line.estimate, line.unweighted
        assert w.ci_low <= TARGETS[country] <= w.ci_high, (country, w.estimate)
        assert u.estimate > w.estimate + 0.04, (country, u.estimate, w.estimate)  # visibly higher unweighted
        assert u.estimate > w.ci_high


def _with_indicators(table: pa.Table) -> pa.Table:
    rev = table["revenue_change"]
    loss25 = pc.if_else(pc.equal(rev, "dk"), pa.scalar(None, pa.float64()),
                        pc.cast(pc.is_in(rev, pa.array(["dec50", "dec25_50"])), pa.float64()))  # fmt: skip
    online = pc.subtract(1.0, pc.cast(table["presence_before__none"], pa.float64()))
    biz = pc.coalesce(table["panel_id"], table["instance_id"])
    return table.append_column("loss25", loss25).append_column("online_before", online).append_column("biz", biz)


def test_difference_equals_the_regression_slope_and_its_sandwich_se():
    t = _with_indicators(waves_table(n=3000, seed=5))

    d = stats.design(t, weights="design_weight", strata="country", ids="biz")
    on, off, diff = difference(d, "loss25", "online_before")
    fit = stats.glm(d, "loss25 ~ online_before", na_rm=True)
    slope = fit["online_before"]
    assert diff.estimate == pytest.approx(on.estimate - off.estimate, abs=1e-12)
    assert diff.estimate == pytest.approx(slope.estimate, rel=1e-9)
    assert diff.se == pytest.approx(slope.se, rel=1e-6)
    assert diff.ci_low < diff.estimate < diff.ci_high


def test_difference_on_the_raked_design_is_reported(demo_report):
    comp = next(c for c in demo_report.online if c.indicator == "loss25")
    assert comp.difference.estimate.estimate == pytest.approx(
        comp.online.estimate.estimate - comp.offline.estimate.estimate, abs=1e-12
    )
    assert comp.difference.estimate.ci_high < 0  # online before the crisis: fewer heavy losses
    assert comp.difference.estimate.n == comp.online.estimate.n + comp.offline.estimate.n


def _estimate(n: int, cv: float) -> Estimate:
    return Estimate("mean", "y", None, {}, 0.5, 0.5 * cv, 0.1, 0.9, 10, n, 1.0, cv)


@pytest.mark.parametrize(
    ("n", "cv", "status"),
    [
        (29, 0.1, "suppressed"),
        (30, 0.1, "ok"),
        (29, 0.9, "suppressed"),
        (30, 0.30, "ok"),
        (30, math.nextafter(0.30, 1.0), "flagged"),
        (30, math.nan, "ok"),
    ],
)
def test_reliability_thresholds(n, cv, status):
    assert reliability(_estimate(n, cv)) == status


def test_thresholds_in_the_report_are_exact(small_snapshot):
    base = headline_report(small_snapshot, **DEMO)
    line = min(base.by_size, key=lambda ln: ln.estimate.n)
    # n is exact; a CV recomputed in another run may differ in the last bits (DuckDB sums in parallel), so the
    # report-level check brackets it by 1e-9 — the exact boundary is test_reliability_thresholds'
    n, cv = line.estimate.n, line.estimate.cv
    at = headline_report(small_snapshot, min_n=n, max_cv=cv * (1 + 1e-9), **DEMO)
    assert at.line("by_size", line.key).status == "ok"
    above = headline_report(small_snapshot, min_n=n + 1, max_cv=cv * (1 - 1e-9), **DEMO)
    assert above.line("by_size", line.key).status == "suppressed"
    flagged = headline_report(small_snapshot, min_n=n, max_cv=cv * (1 - 1e-9), **DEMO)
    assert flagged.line("by_size", line.key).status == "flagged"


def test_rows_outside_the_margins_are_left_out(tmp_path):
    t = waves_table(n=5000, seed=11)
    country = t["country"].to_pylist()
    country[:7] = ["other"] * 7
    t = t.set_column(t.column_names.index("country"), "country", pa.array(country))
    path = tmp_path / "w.parquet"
    pq.write_table(t, path)
    rep = headline_report(path, **DEMO)
    assert (rep.n_rows, rep.excluded) == (4993, 7)


def test_errors(tmp_path):
    with pytest.raises(ReportError, match="does not exist"):
        headline_report(tmp_path / "nope.parquet", **DEMO)
    pq.write_table(pa.table({"x": [1]}), tmp_path / "x.parquet")
    with pytest.raises(ReportError, match="lacks column"):
        headline_report(tmp_path / "x.parquet", **DEMO)
    with pytest.raises(ReportError, match=r"enterprises_country_size\.csv is missing"):
        headline_report(tmp_path / "x.parquet", margins_dir=tmp_path)
    with pytest.raises(ReportError, match="min_n"):
        headline_report(tmp_path / "x.parquet", min_n=0, **DEMO)


def test_report_is_a_value(demo_report):
    assert dataclasses.is_dataclass(demo_report)
    assert demo_report.waves == ("2026-1", "2026-2", "2026-3", "2026-4")
    assert demo_report.n_rows == 20_000 and demo_report.excluded == 0


def test_a_web_snapshot_without_design_weight_and_with_empty_panel_ids(tmp_path):
    t = waves_table(n=5000, seed=11)
    t = t.drop_columns(["design_weight"])
    panel = pc.fill_null(t["panel_id"], "")  # the web snapshot writes "" for "no panel id"
    t = t.set_column(t.column_names.index("panel_id"), "panel_id", panel)
    path = tmp_path / "web.parquet"
    pq.write_table(t, path)
    rep = headline_report(path, **DEMO)
    assert "weights=enterprises/responses per country" in rep.design_note and "clusters=business" in rep.design_note
    # raking from equal weights reaches the same population as from the country expansion factors
    assert sum(s.weighted_total.estimate for s in rep.sample) == pytest.approx(18_600_000)
    # the demo's design weight is that same expansion factor: the same report
    with_weight = tmp_path / "demo.parquet"
    pq.write_table(waves_table(n=5000, seed=11), with_weight)
    same = headline_report(with_weight, **DEMO)
    for a, b in zip(rep.headline + rep.by_sector, same.headline + same.by_sector, strict=True):
        assert a.estimate.estimate == pytest.approx(b.estimate.estimate, rel=1e-9)
        assert a.estimate.se == pytest.approx(b.estimate.se, rel=1e-6)
    panel = [p for p in t["panel_id"].to_pylist() if p]
    singles = t.num_rows - len(panel)
    assert sum(s.businesses for s in rep.sample) == singles + len(set(panel))  # "" is no panel id


def test_a_germany_only_wave_rakes_to_germany(tmp_path):
    t = waves_table(n=5000, seed=11)
    t = t.filter(pc.equal(t["country"], "DE"))
    path = tmp_path / "de.parquet"
    pq.write_table(t, path)
    rep = headline_report(path, **DEMO)
    assert [s.country for s in rep.sample] == ["DE"]
    assert rep.sample[0].weighted_total.estimate == pytest.approx(2_600_000)
    assert rep.sector_scaled and "scaled" in rep.design_note
    assert sum(rep.margins["sector"].values()) == pytest.approx(2_600_000)
    assert [ln.key for ln in rep.headline] == ["DE", "all"]


def test_progress_is_reported_in_order(small_snapshot):
    seen = []
    headline_report(small_snapshot, progress=lambda step, fraction: seen.append((step, fraction)), **DEMO)
    assert [s for s, _ in seen] == ["weighting", "headline", "by_sector", "weighting_comparison", "online", "sample",
                                    "done"]  # fmt: skip
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
