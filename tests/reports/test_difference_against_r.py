"""The report's raked estimates and its online-vs-not difference equal R's survey.

R gets the same rows (the demo waves, pooled over four waves, businesses as clusters), the same margins and the
same raking. The difference's reference is the slope of ``svyglm(y ~ online_before)`` on the raked design, whose
sandwich variance R linearises with the raking (``svyby(covmat = TRUE)`` + ``svycontrast`` would be the direct
route, but R's svyby stops on the rows where the indicator is missing).
Skipped only without ``Rscript`` (``make test`` installs r-base-core and r-cran-survey).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from demo_inputs import DEMO

from digifit.demo.waves import MARGINS_DIR, waves_table
from digifit.reports.headline import headline_report

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    if shutil.which("Rscript") is None:
        pytest.skip("Rscript is not installed (make test installs r-base-core and r-cran-survey)")
    out = tmp_path_factory.mktemp("r_difference")
    t = waves_table(n=4000, seed=5)
    pq.write_table(t, out / "waves.parquet")
    rev = t["revenue_change"]
    dk = pc.equal(rev, "dk")
    none = pa.scalar(None, pa.float64())
    r_table = pa.table(
        {
            "biz": pc.coalesce(t["panel_id"], t["instance_id"]),
            "country": t["country"],
            "size": t["size"],
            "sector": t["sector"],
            "design_weight": t["design_weight"],
            "digital25": pc.cast(t["digital25"], pa.float64()),
            "online_before": pc.subtract(1, t["presence_before__none"]),
            "loss25": pc.if_else(dk, none, pc.cast(pc.is_in(rev, pa.array(["dec50", "dec25_50"])), pa.float64())),
            "loss": pc.if_else(
                dk, none, pc.cast(pc.is_in(rev, pa.array(["dec50", "dec25_50", "dec1_24"])), pa.float64())
            ),
        }
    )
    pacsv.write_csv(r_table, out / "waves.csv")
    for src, dst in (("enterprises_country_size.csv", "country_size.csv"), ("enterprises_sector.csv", "sector.csv")):
        with (MARGINS_DIR / src).open() as fh:
            (out / dst).write_text(fh.read())
    subprocess.run(["Rscript", str(HERE / "difference_reference.R"), str(out)], check=True, capture_output=True)
    return headline_report(out / "waves.parquet", **DEMO), json.loads((out / "r.json").read_text())


def test_headline_equals_r(case):
    rep, r = case
    got = {ln.key: ln.estimate for ln in rep.headline}
    for country, est, se in zip(r["headline"]["country"], r["headline"]["estimate"], r["headline"]["se"], strict=True):
        assert got[country].estimate == pytest.approx(est, rel=1e-9)
        assert got[country].se == pytest.approx(se, rel=1e-6)


@pytest.mark.parametrize("indicator", ["loss25", "loss"])
def test_difference_equals_svycontrast(case, indicator):
    rep, r = case
    comp = next(c for c in rep.online if c.indicator == indicator)
    ref = r[indicator]
    off, on = ref["groups"]  # svyby orders the groups 0, 1
    assert comp.online.estimate.estimate == pytest.approx(on, rel=1e-9)
    assert comp.offline.estimate.estimate == pytest.approx(off, rel=1e-9)
    assert comp.difference.estimate.estimate == pytest.approx(ref["diff"][0], rel=1e-9)
    assert comp.difference.estimate.se == pytest.approx(ref["diff_se"][0], rel=1e-6)
    # treating the two groups as independent samples would give another standard error
    assert abs(ref["naive_se"][0] - comp.difference.estimate.se) > 1e-3 * comp.difference.estimate.se
