"""The synthetic stratified cluster sample: deterministic, typed, the promised design."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from digifit.demo import stratified_cluster_sample
from digifit.demo.synthetic import COUNTRIES, SECTORS, SIZES

EXPECTED_TYPES = {
    "stratum": pa.int32(),
    "psu": pa.int32(),
    "country": pa.string(),
    "sector": pa.string(),
    "size": pa.string(),
    "online": pa.int32(),
    "revenue_change": pa.float64(),
    "weight": pa.float64(),
    "fpc": pa.int32(),
}


@pytest.fixture(scope="module")
def sample() -> pa.Table:
    return stratified_cluster_sample(20_000, seed=7)


def test_same_seed_same_rows_different_seed_different_rows(sample):
    assert stratified_cluster_sample(20_000, seed=7).equals(sample)
    assert not stratified_cluster_sample(20_000, seed=8).equals(sample)


def test_file_holds_the_same_rows_as_the_table(tmp_path, sample):
    path = stratified_cluster_sample(20_000, seed=7, path=tmp_path / "wave.parquet")
    assert path == tmp_path / "wave.parquet"
    assert pq.read_table(path).equals(sample)


def test_columns_and_types(sample):
    assert {f.name: f.type for f in sample.schema} == EXPECTED_TYPES
    assert sample.num_rows == 20_000
    assert all(sample[c].null_count == 0 for c in sample.column_names)


def test_strata_psus_and_fpc(sample):
    strata = sample["stratum"].to_numpy()
    psus = sample["psu"].to_numpy()
    assert np.unique(strata).tolist() == list(range(20))
    pairs = np.unique(np.stack([strata, psus]), axis=1)
    assert pairs.shape[1] == 1000
    assert np.all(np.bincount(pairs[0]) == 50)
    assert len(np.unique(psus)) == 1000  # unique across strata too
    fpc = sample["fpc"].to_numpy()
    per_stratum = np.unique(np.stack([strata, fpc]), axis=1)
    assert per_stratum.shape[1] == 20 and np.all(per_stratum[1] >= 50)


def test_categories_weights_and_outcome(sample):
    assert set(sample["country"].to_pylist()) == set(COUNTRIES)
    assert set(sample["sector"].to_pylist()) == set(SECTORS)
    assert set(sample["size"].to_pylist()) == set(SIZES)
    assert set(sample["online"].to_pylist()) == {0, 1}
    assert pc.min(sample["weight"]).as_py() > 0
    country = sample["country"].to_numpy(zero_copy_only=False)
    online, weight = sample["online"].to_numpy(), sample["weight"].to_numpy()
    share = {c: np.sum((weight * online)[country == c]) / np.sum(weight[country == c]) for c in COUNTRIES}
    assert share["DE"] < share["FR"] < share["UK"]
    assert share == pytest.approx({"DE": 1 / 3, "FR": 0.43, "UK": 0.5}, abs=0.05)


@pytest.mark.parametrize("n_rows", [999, 0, -5, 1.5e6, True])
def test_too_few_or_non_integer_rows_is_an_error(n_rows):
    with pytest.raises(ValueError, match="'n_rows' parameter"):
        stratified_cluster_sample(n_rows)


def test_large_samples_are_written_in_row_groups(tmp_path, monkeypatch):
    monkeypatch.setattr("digifit.demo.synthetic.CHUNK_ROWS", 3_000)
    path = stratified_cluster_sample(10_000, seed=3, path=tmp_path / "big.parquet")
    meta = pq.ParquetFile(path).metadata
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [3_000, 3_000, 3_000, 1_000]
    assert pq.read_table(path).equals(stratified_cluster_sample(10_000, seed=3))
