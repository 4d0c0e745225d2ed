"""Scoring: every DII level edge, basic level, dimension scores, missing answers, bad values, versions."""

from __future__ import annotations

import dataclasses

import pytest

from digifit.assessment import scoring
from digifit.assessment.content import load_form as load_check
from digifit.assessment.scoring import AnswersError, RulesError, RulesVersionMismatch, load_rules, progress, score

from .conftest import answers


@pytest.mark.parametrize(
    ("dii", "level", "basic"),
    [
        (0, "very_low", False),
        (3, "very_low", False),
        (4, "low", True),
        (6, "low", True),
        (7, "high", True),
        (9, "high", True),
        (10, "very_high", True),
        (12, "very_high", True),
    ],
)
def test_dii_level_edges(rules, dii, level, basic):
    r = score(answers(dii=dii), rules)
    assert (r.dii_score, r.dii_level, r.dii_basic, r.dii_complete) == (dii, level, basic, True)


def test_dimension_scores_and_overall(rules):
    r = score(answers(scale={"strategy": 0, "readiness": 4, "human": 1, "data": 3, "automation": 2, "green": 2}), rules)
    assert r.dimensions == {
        "strategy": 0.0,
        "readiness": 100.0,
        "human": 25.0,
        "data": 75.0,
        "automation": 50.0,
        "green": 50.0,
    }
    assert r.overall == 50.0
    assert r.digital25 == 1 and r.digital_share == "p25_49"
    assert r.channels == {"website": 1, "online_shop": 1, "social_media": 1, "messaging": 1, "online_ads": 0}


def test_mixed_items_in_a_dimension(rules):
    data = answers(dma_strategy_plan="1", dma_strategy_budget="2", dma_strategy_customers="4")
    assert score(data, rules).dimensions["strategy"] == 7 / 12 * 100  # exact (58.33…), never a rounded 58.3


def test_missing_dii_items_count_as_no_and_are_listed(rules):
    data = answers(dii=5, dii_internet_staff=None, dii_erp=None)
    r = score(data, rules)
    assert r.dii_score == 4 and r.dii_level == "low"
    assert not r.dii_complete
    assert r.dii_missing == ("dii_internet_staff", "dii_erp")


def test_missing_maturity_items(rules):
    # one of three answered: below min_answered (2) -> the dimension and the overall score are missing
    data = answers(dma_green_energy=None, dma_green_paperless=None)
    r = score(data, rules)
    assert r.dimensions["green"] is None and r.overall is None
    # two of three answered: the mean of the answered ones
    r = score(answers(scale=4, dma_data_use=None), rules)
    assert r.dimensions["data"] == 100.0 and r.overall == 100.0
    assert "dma_data_use" in r.missing


def test_empty_answers_score_zero_and_list_everything(rules):
    r = score({}, rules)
    assert r.dii_score == 0 and r.dii_level == "very_low" and not r.dii_complete
    assert r.overall is None and r.digital25 is None and r.channels["website"] is None
    assert set(r.missing) >= set(rules.dii_items) | {"digital_share", "country"}


def test_bad_values_are_named(rules):
    with pytest.raises(AnswersError, match=r"dii_erp: got 'maybe'.*dma_data_use: got '7'"):
        score(answers(dii_erp="maybe", dma_data_use="7"), rules)
    with pytest.raises(AnswersError, match="digital_share: got 'half'"):
        score(answers(digital_share="half"), rules)


def test_rules_fit_the_bundled_form(rules):
    assert scoring.rules_check_form(rules, load_check()) == []


def test_result_round_trips_through_json(rules):
    r = score(answers(dii=8, dii_ai=None), rules)
    assert scoring.CheckResult.from_dict(r.to_dict()) == r


def test_progress_same_version(rules):
    before = score(answers(dii=3, scale=1), rules)
    after = score(answers(dii=5, scale=2), rules)
    p = progress(before, after)
    assert p.dii_score == 2 and p.dii_level_changed
    assert p.dimensions["data"] == 25.0 and p.overall == 25.0


def test_progress_refuses_different_rules_versions(rules):
    before = dataclasses.replace(score(answers(), rules), rules_version="2025.9")
    with pytest.raises(RulesVersionMismatch, match=r"'2025\.9'.*not compared"):
        progress(before, score(answers(), rules))


def test_weakest_dimensions(rules):
    r = score(answers(scale={"strategy": 3, "readiness": 1, "human": 1, "data": 0, "automation": 4, "green": 2}), rules)
    assert scoring.weakest_dimensions(r, 2) == ["data", "readiness"]  # tie readiness/human: rules order


def test_rules_file_errors(tmp_path):
    bad = tmp_path / "rules.toml"
    from digifit.assessment.content import BUNDLED_DIR

    RULES_PATH = BUNDLED_DIR / "rules.toml"

    text = RULES_PATH.read_text(encoding="utf-8")
    bad.write_text(text.replace('{ code = "low",       min = 4,  max = 6 }', '{ code = "low", min = 5, max = 6 }'))
    with pytest.raises(RulesError, match=r"level 'low' covers 5\.\.6; expected it to start at 4"):
        load_rules(bad)
    with pytest.raises(RulesError, match="does not exist"):
        load_rules(tmp_path / "nope.toml")
    bad.write_text("version = ")
    with pytest.raises(RulesError, match="not a valid TOML"):
        load_rules(bad)


def test_the_pure_core_never_imports_django():
    import subprocess
    import sys

    code = (
        "import sys, digifit.assessment.scoring, digifit.assessment.benchmark, digifit.assessment.learning_path, "
        "digifit.assessment.charts; from digifit.assessment.scoring import load_rules, score; score({}, load_rules()); "
        "assert 'django' not in sys.modules, 'django imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_profile_codes_are_the_surveys():
    from digifit.demo.questionnaire import load_questionnaire

    check, survey = load_check(), load_questionnaire()
    for list_name in ("country", "sector", "size", "share"):
        assert [c.name for c in check.choices[list_name]] == [c.name for c in survey.choices[list_name]]
