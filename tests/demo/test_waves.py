"""The synthetic waves: deterministic, in the snapshot's column names, with a panel, valid as submissions."""

from __future__ import annotations

import pyarrow.compute as pc
import pytest

from digifit.demo import waves
from digifit.demo.questionnaire import load_questionnaire
from digifit.forms import validate_answers

META = ["instance_id", "version", "wave", "panel_id", "language", "submitted_at"]


@pytest.fixture(scope="module")
def small():
    return waves.waves_table(n=1500, seed=7)


def test_same_seed_same_table(small):
    assert waves.waves_table(n=1500, seed=7).equals(small)
    assert not waves.waves_table(n=1500, seed=8).equals(small)


def test_columns_follow_the_snapshot_layout(small):
    q = load_questionnaire()
    expected = list(META)
    for f in q.walk():
        if f.section or f.type == "note" or f.name in META or any(q.field(p).repeat for p in f.path):
            continue
        expected.append(f.name)
        if f.type == "select_multiple":
            expected += [f"{f.name}__{c.name}" for c in q.choices[f.list_name]]
    expected += ["tool_detail__count", "design_weight"]
    assert small.column_names == expected


def test_size_countries_waves_and_panel(small):
    assert small.num_rows == 1500
    assert set(small.column("country").to_pylist()) == set(waves.COUNTRIES)
    assert sorted(set(small.column("wave").to_pylist())) == ["2026-1", "2026-2", "2026-3", "2026-4"]
    assert len(small.column("instance_id").unique()) == 1500
    rows = small.filter(pc.is_valid(small["panel_id"])).to_pylist()
    by_panel: dict[str, list[dict]] = {}
    for r in rows:
        by_panel.setdefault(r["panel_id"], []).append(r)
    repeated = [rs for rs in by_panel.values() if len(rs) > 1]
    assert len(repeated) > 50
    for rs in repeated:
        assert len({r["wave"] for r in rs}) == len(rs)  # once per wave
        assert len({(r["country"], r["sector"], r["size"], r["founded"]) for r in rs}) == 1


def test_choice_columns_agree_with_the_raw_answer(small):
    for r in small.slice(0, 200).to_pylist():
        chosen = set(r["presence_before"].split())
        for c in waves.PRESENCE:
            assert r[f"presence_before__{c}"] == (c in chosen)
        assert r["digital25"] == (r["digital_share"] in ("p25_49", "p50_74", "p75plus"))
        assert (r["closed_months"] is None) == (r["closed"] == "no")


def test_submissions_are_valid_answers(small):
    q = load_questionnaire()
    subs = list(waves.submissions(small.slice(0, 60)))
    assert len(subs) == 60
    for s in subs:
        assert validate_answers(q, s["data"], language="en") == [], s["data"]
        assert s["instance_id"].startswith("uuid:")
    assert any(s["data"].get("tool_detail") for s in subs)
    assert any(s["panel_id"] for s in subs)


def test_bad_arguments():
    with pytest.raises(ValueError, match="n must be at least"):
        waves.waves_table(n=5)
    with pytest.raises(ValueError, match="n_waves"):
        waves.waves_table(n=100, n_waves=0)
