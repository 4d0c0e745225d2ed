"""``digifit check score`` and ``digifit check export``."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from digifit.cli import main

from .conftest import answers


def run(*args, input=None):
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


@pytest.fixture
def answers_file(tmp_path):
    def write(data, name="answers.json"):
        path = tmp_path / name
        path.write_text(json.dumps(data), encoding="utf-8")
        return str(path)

    return write


def test_score_text_and_json(answers_file):
    path = answers_file(answers(dii=4))
    res = run("check", "score", path)
    assert res.exit_code == 0, res.output
    assert "DII 4/12: low, at least basic" in res.output
    res = run("check", "score", path, "--json")
    data = json.loads(res.output)
    assert data["dii_score"] == 4 and data["dii_level"] == "low" and data["overall"] == 50.0


def test_score_partial_answers_lists_missing(answers_file):
    res = run("check", "score", answers_file({"dii_erp": "yes", "country": "DE"}), "--json")
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["dii_score"] == 1 and not data["dii_complete"] and data["overall"] is None
    assert "sector" in data["missing"]


@pytest.mark.django_db
def test_score_equals_the_web_result(answers_file):
    from digifit.assessment import services

    data = answers(dii=10, scale={"green": 4, "data": 1})
    stored = services.assessment_submit(answers=data)
    res = run("check", "score", answers_file(data), "--json")
    out = json.loads(res.output)
    # the stored result exactly, plus the shown figures (derived, never stored)
    assert {k: v for k, v in out.items() if k not in ("rounded", "display")} == stored.result
    assert set(out) - set(stored.result) == {"rounded", "display"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"dii_erp": "maybe"}', "dii_erp: 'maybe' is not"),
        ('{"nosuchfield": 1}', "nosuchfield"),
        ("[1, 2]", "must be an object of answer names to values; got list"),
        ("{", "not valid JSON (line 1"),
    ],
)
def test_score_errors_are_one_line_exit_2(tmp_path, content, message):
    path = tmp_path / "a.json"
    path.write_text(content)
    res = CliRunner().invoke(main, ["check", "score", str(path)])
    assert res.exit_code == 2
    assert message in res.output
    assert len(res.output.strip().splitlines()) == 1 and "Traceback" not in res.output


def test_score_missing_file_and_bad_rules(tmp_path, answers_file):
    res = CliRunner().invoke(main, ["check", "score", str(tmp_path / "none.json")])
    assert res.exit_code == 2 and "cannot read the file" in res.output
    bad = tmp_path / "rules.toml"
    bad.write_text("version = 1\n")
    res = CliRunner().invoke(main, ["check", "score", answers_file(answers()), "--rules", str(bad)])
    assert res.exit_code == 2 and "key 'dii' is missing" in res.output


@pytest.mark.django_db
def test_export_only_consenting_results(tmp_path):
    from digifit.assessment import services

    services.assessment_submit(answers=answers(dii=11))
    services.assessment_submit(answers=answers(dii=1, consent_statistics="no"))
    out = tmp_path / "check.parquet"
    res = run("check", "export", "--out", str(out))
    assert res.exit_code == 0, res.output
    assert "1 consenting" in res.output
    assert pq.read_table(out).column("dii_score").to_pylist() == [11]
    res = CliRunner().invoke(main, ["check", "export", "--out", str(tmp_path / "no" / "x.parquet")])
    assert res.exit_code == 2 and "no such directory" in res.output
