"""Design validation: every bad input is a DesignError that says where, what and what was expected."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from digifit import stats
from digifit.stats import DesignError, LonelyPSUError


def test_degf_is_psus_minus_strata(strat_table):
    d = stats.design(strat_table, weights="w", strata="stratum", ids="psu")
    assert d.degf == 12 - 3
    assert stats.design(strat_table, weights="w").degf == 59


def test_ids_are_nested_within_strata(strat_table):
    # psu numbers 1..4 repeat in every stratum: nested, they are 12 distinct PSUs, not 4
    d = stats.design(strat_table, strata="stratum", ids="psu")
    assert len(np.unique(d.structure.parents[0])) == 12


def test_unknown_column_is_named_with_a_hint(strat_table):
    with pytest.raises(DesignError, match=r"weights column 'W' is not in the data \(did you mean 'w'\?\)"):
        stats.design(strat_table, weights="W")
    with pytest.raises(DesignError, match="ids column 'cluster' is not in the data"):
        stats.design(strat_table, ids=["cluster"])


def test_non_numeric_weights(strat_table):
    with pytest.raises(DesignError, match="weights column 'region' has type string; expected numbers"):
        stats.design(strat_table, weights="region")


def test_negative_weights_name_rows_and_value(strat_table):
    w = strat_table.column("w").to_numpy().copy()
    w[[4, 9]] = -3.0
    t = strat_table.set_column(2, "w", pa.array(w))
    with pytest.raises(DesignError, match=r"weights column 'w' has 2 negative value\(s\) \(rows 5, 10; first -3.0\)"):
        stats.design(t, weights="w")


def test_missing_weights(strat_table):
    w = pa.array([None if i == 2 else v for i, v in enumerate(strat_table.column("w").to_pylist())])
    t = strat_table.set_column(2, "w", w)
    with pytest.raises(DesignError, match=r"weights column 'w' has 1 missing value\(s\) \(rows 3\)"):
        stats.design(t, weights="w")


def test_missing_strata_and_ids(strat_table):
    s = pa.array([None if i in (0, 7) else v for i, v in enumerate(strat_table.column("stratum").to_pylist())])
    with pytest.raises(DesignError, match=r"strata column 'stratum' has 2 missing value\(s\) \(rows 1, 8\)"):
        stats.design(strat_table.set_column(0, "stratum", s), strata="stratum")
    p = pa.array([None if i == 11 else v for i, v in enumerate(strat_table.column("psu").to_pylist())])
    with pytest.raises(DesignError, match=r"ids column 'psu' has 1 missing value\(s\) \(rows 12\)"):
        stats.design(strat_table.set_column(1, "psu", p), strata="stratum", ids="psu")


def test_lonely_psu_fail_names_the_stratum(strat_table):
    t = strat_table.filter(pc.or_(pc.not_equal(strat_table["stratum"], 2), pc.equal(strat_table["psu"], 1)))
    with pytest.raises(LonelyPSUError, match=r"Stratum \(2\) has only one PSU at stage 1"):
        stats.design(t, strata="stratum", ids="psu")
    for policy in ("remove", "certainty", "adjust", "average"):
        assert stats.design(t, strata="stratum", ids="psu", lonely_psu=policy).lonely_psu == policy


def test_lonely_psu_is_fine_when_the_stratum_is_taken_whole(strat_table):
    t = strat_table.filter(pc.or_(pc.not_equal(strat_table["stratum"], 2), pc.equal(strat_table["psu"], 1)))
    # population of one PSU in stratum 2: sampled with certainty, no variance, not lonely
    fpc = pc.if_else(pc.equal(t["stratum"], 2), 1, 10)
    d = stats.design(t.append_column("N", fpc), strata="stratum", ids="psu", fpc="N")
    assert d.lonely_psu == "fail"


def test_unknown_lonely_policy(strat_table):
    with pytest.raises(DesignError, match="lonely_psu 'drop' is not known; expected one of fail, remove"):
        stats.design(strat_table, lonely_psu="drop")


def test_fpc_mixing_sizes_and_fractions(strat_table):
    fpc = pc.if_else(pc.equal(strat_table["stratum"], 1), 0.5, 100)
    with pytest.raises(DesignError, match="mix population sizes"):
        stats.design(strat_table.append_column("f", fpc), strata="stratum", ids="psu", fpc="f")


def test_fpc_varying_within_stratum(strat_table):
    fpc = pa.array([100 + (i % 2) for i in range(strat_table.num_rows)])
    with pytest.raises(DesignError, match=r"fpc column 'f' varies within stratum=1 .*expected one value per stratum"):
        stats.design(strat_table.append_column("f", fpc), strata="stratum", ids="psu", fpc="f")


def test_fpc_smaller_than_sample(strat_table):
    fpc = pa.array([3] * strat_table.num_rows)
    with pytest.raises(DesignError, match=r"more than 100% sampling in stratum=1: population size 3 but 4 sampled"):
        stats.design(strat_table.append_column("f", fpc), strata="stratum", ids="psu", fpc="f")


def test_more_fpc_than_stages(strat_table):
    with pytest.raises(DesignError, match="fpc has 2 columns but ids only 1"):
        stats.design(strat_table, ids="psu", fpc=["w", "w"])


def test_unreadable_inputs(tmp_path):
    with pytest.raises(DesignError, match="does not exist"):
        stats.design(tmp_path / "missing.parquet")
    (tmp_path / "data.json").write_text("{}")
    with pytest.raises(DesignError, match=r"unknown format '.json'; expected a .parquet or .csv file"):
        stats.design(tmp_path / "data.json")
    with pytest.raises(DesignError, match="cannot read data of type dict"):
        stats.design({"y": [1, 2]})


def test_empty_data():
    with pytest.raises(DesignError, match="the data have no rows"):
        stats.design(pa.table({"y": pa.array([], pa.float64())}))


def test_weights_implied_by_fpc(strat_table):
    n = strat_table.num_rows
    t = strat_table.append_column("N1", pa.array([40] * n)).append_column("N2", pa.array([50] * n))
    d = stats.design(t, strata="stratum", ids=["psu", "x"], fpc=["N1", "N2"])
    # stage 1: 4 of 40 PSUs; stage 2: 5 of 50 rows per PSU (x is unique per row) -> weight 10 * 10
    assert np.allclose(d.structure.implied_weight, 100.0)
    est = stats.total(d, "online")[0]
    assert est.estimate == pytest.approx(100.0 * pc.sum(t["online"]).as_py())
