"""Missing values are missing for every statistic and never a category; names keep their case (issue 17)."""

from __future__ import annotations

import ibis
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from digifit import stats


def _csv(tmp_path, text: str):
    path = tmp_path / "data.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_csv_markers_are_read_as_null(tmp_path):
    path = _csv(tmp_path, 'y,c,w\n1,a,1\nNA,b,1\n3,"NA",2\n,a,1\n-99,b,1\n5,.,1\n')
    d = stats.design(path, weights="w", na_values=["-99", "."])
    assert d.table.schema()["y"].is_numeric()
    mean = stats.mean(d, "y", na_rm=True)[0]
    assert mean.n == 3 and mean.estimate == pytest.approx((1 + 2 * 3 + 5) / 4)
    shares = stats.proportion(d, "c", na_rm=True)
    assert [e.level for e in shares] == ["a", "b"]
    with pytest.raises(stats.EstimationError, match="'c' has 2 missing value"):
        stats.proportion(d, "c")


def test_text_offered_as_numbers_names_the_rows(tmp_path):
    path = _csv(tmp_path, "y\n1\nn/a\n3\nn/a\n")
    d = stats.design(path)
    with pytest.raises(stats.EstimationError, match=r"2 value\(s\) are not numbers \('n/a'; rows 2, 4\)"):
        stats.mean(d, "y")
    fixed = stats.design(path, na_values="n/a")
    assert stats.mean(fixed, "y", na_rm=True)[0].estimate == 2.0


def test_frames_and_parquet_take_the_markers_too(tmp_path):
    table = pa.table({"c": ["a", "NA", "b", "", None], "y": [1.0, -99.0, 3.0, 4.0, None]})
    d = stats.design(table, na_values=[-99])
    assert [e.level for e in stats.proportion(d, "c", na_rm=True)] == ["a", "b"]
    assert stats.total(d, "y", na_rm=True)[0].estimate == 8.0
    pq.write_table(table, tmp_path / "d.parquet")
    p = stats.design(str(tmp_path / "d.parquet"))
    assert [e.level for e in stats.total(p, "c", na_rm=True)] == ["a", "b"]


def test_a_marker_left_as_text_by_another_engine_is_refused():
    d = stats.design(ibis.memtable(pa.table({"c": ["a", "NA", "b", "NA"]})))  # an Ibis table: read as it is
    with pytest.raises(stats.EstimationError, match=r"'NA', a missing-value marker, on 2 row\(s\) \(rows 2, 4\)"):
        stats.proportion(d, "c", na_rm=True)
    with pytest.raises(stats.EstimationError, match="missing-value marker"):
        stats.total(d, "c", na_rm=True)


def test_total_of_categories_per_level_and_domain():
    table = pa.table({"g": [1, 1, 2, 2, 2], "c": ["x", "y", "x", "x", "y"], "w": [1.0, 2.0, 3.0, 4.0, 5.0]})
    d = stats.design(table, weights="w")
    rows = stats.total(d, "c", by="g")
    assert [(e.domain["g"], e.level, e.estimate) for e in rows] == [
        (1, "x", 1.0), (1, "y", 2.0), (2, "x", 7.0), (2, "y", 5.0),
    ]  # fmt: skip
    assert [e.level for e in stats.total(d, "g", categorical=True)] == [1, 2]
    assert stats.total(d, "g")[0].level is None  # a number column is a number unless asked
    with pytest.raises(stats.EstimationError, match="type string"):
        stats.total(d, "c", categorical=False)


def test_names_differing_only_in_case_are_kept(tmp_path):
    path = _csv(tmp_path, "nh,Nh,y\n2,10,1\n2,10,3\n")
    d = stats.design(path, fpc="Nh")
    assert d.columns == ("nh", "Nh", "y")
    assert stats.total(d, "Nh")[0].estimate == 100.0  # weights 10/2, Nh = 10 on both rows
    assert stats.total(d, "nh")[0].estimate == 20.0
    frame = stats.design(pa.table({"a": [1.0, 2.0], "A": [10.0, 20.0]}))
    assert stats.mean(frame, "A")[0].estimate == 15.0
    with pytest.raises(stats.DesignError, match="'nh' and 'Nh', which differ only in case"):
        stats.design(path, fpc="NH")


def test_written_weights_keep_names_differing_only_in_case(tmp_path):
    from digifit.stats.export import write_weights

    path = _csv(tmp_path, "nh,Nh,w\n2,10,5.0\n2,10,5.0\n")
    out = tmp_path / "w.parquet"
    write_weights(stats.design(path, weights="w"), out, name="weight")
    written = pq.read_table(out)
    assert written.column_names == ["nh", "Nh", "w", "weight"]
    assert written.column("Nh").to_pylist() == [10, 10] and written.column("nh").to_pylist() == [2, 2]
