"""Issue 19: every Digital-Check score is computed, stored and compared exact; only the display rounds, and the
CLI, the API, the result page and the export show the same figure."""

from __future__ import annotations

import json
import math
import re
from fractions import Fraction

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from digifit.assessment import charts, display
from digifit.assessment.learning_path import load_path_rules, recommend
from digifit.assessment.scoring import RulesError, dii_level, load_rules, score, weakest_dimensions
from digifit.cli import main

from .conftest import answers

RULES = load_rules()
ITEMS = [name for names in RULES.dimensions.values() for name in names]


def issue_answers(**overrides) -> dict:
    """The issue's answer set: dimensions 200/3, 125/3, 50, 50, 200/3, 75 (shown 66.7 41.7 50.0 50.0 66.7 75.0)."""
    data = answers(scale={"human": 2, "data": 2, "green": 3})
    data.update(dma_strategy_plan="4", dma_strategy_budget="4", dma_strategy_customers="0")
    data.update(dma_ready_processes="2", dma_ready_sales="2", dma_ready_security="1")
    data.update(dma_auto_tasks="4", dma_auto_integration="4", dma_auto_ai="0")
    data.update(overrides)
    return data


def half_up(q: Fraction, decimals: int = 1) -> Fraction:
    """The documented rounding, computed on the exact fraction (independently of display.rounded)."""
    scale = 10**decimals
    sign = -1 if q < 0 else 1
    return sign * Fraction(math.floor(abs(q) * scale + Fraction(1, 2)), scale)


# ----------------------------------------------------------------------------------------- the rule


def test_the_issue_example_is_exact_and_shown_as_58_3():
    r = score(issue_answers(), RULES)
    exact = [Fraction(200, 3), Fraction(125, 3), 50, 50, Fraction(200, 3), 75]
    assert list(r.dimensions.values()) == [float(x) for x in exact]  # stored exact, not 66.7
    assert r.overall == float(Fraction(350, 6))  # the mean of the exact scores: 58.333…
    # averaging the rounded figures (the bug) would be 58.35 -> 58.4
    assert display.rounded(r.overall) == 58.3
    assert display.scores_rounded(r) == {
        "dimensions": dict(zip(RULES.dimensions, [66.7, 41.7, 50.0, 50.0, 66.7, 75.0])),
        "overall": 58.3,
    }
    assert [display.format_score(r.overall, lang) for lang in ("de", "en", "fr")] == ["58,3", "58.3", "58,3"]


def test_a_tie_rounds_half_away_from_zero():
    # 37.5 in one dimension (two of three items answered: 2 + 1), 0 elsewhere: overall exactly 6.25
    data = answers(scale=0, dma_strategy_plan="2", dma_strategy_budget="1", dma_strategy_customers=None)
    r = score(data, RULES)
    assert r.dimensions["strategy"] == 37.5 and r.overall == 6.25
    assert round(r.overall, 1) == 6.2  # Python's round() would halve to even
    assert display.rounded(r.overall) == 6.3 and display.format_score(r.overall, "de") == "6,3"
    assert display.format_score(-6.25, "en", sign=True) == "-6.3"
    assert display.format_score(-0.04, "en", sign=True) == "0.0"  # never "-0.0"
    assert display.format_score(12.5, "de", sign=True) == "+12,5"
    assert display.format_score(None, "de") == "–" and display.rounded(None) is None


def test_decimal_separators_are_djangos(settings):
    from django.utils import formats

    for code, _name in settings.LANGUAGES:
        assert display.DECIMAL_SEPARATORS[code] == formats.get_format("DECIMAL_SEPARATOR", code)
    assert display.format_score(58.25, "de-ch") == "58,3" and display.format_score(58.25, "xx") == "58.3"


_ANSWER = st.one_of(st.none(), st.integers(0, 4))


@settings(max_examples=400, deadline=None)
@given(st.lists(_ANSWER, min_size=len(ITEMS), max_size=len(ITEMS)))
def test_overall_is_the_mean_of_the_exact_dimension_scores(values):
    by_name = dict(zip(ITEMS, values))
    r = score(answers(**{name: None if v is None else str(v) for name, v in by_name.items()}), RULES)
    exact = {}
    for dim, names in RULES.dimensions.items():
        given_ = [by_name[n] for n in names if by_name[n] is not None]
        exact[dim] = Fraction(sum(given_), len(given_) * RULES.scale_max) * 100 if len(given_) >= 2 else None
        if exact[dim] is None:
            assert r.dimensions[dim] is None
        else:
            assert abs(r.dimensions[dim] - exact[dim]) < 1e-9
            assert display.rounded(r.dimensions[dim]) == float(half_up(exact[dim]))
    if any(v is None for v in exact.values()):
        assert r.overall is None
        return
    mean = sum(exact.values(), Fraction(0)) / len(exact)
    assert abs(r.overall - mean) < 1e-9
    assert abs(r.overall - math.fsum(r.dimensions.values()) / len(exact)) < 1e-9
    # the shown figure is the exact mean rounded once, not the mean of the shown dimension figures
    assert display.rounded(r.overall) == float(half_up(mean))


# ----------------------------------------------------------------------------------------- boundaries

EPS = 1e-9


@pytest.mark.parametrize(
    ("cut", "level", "below"), [(4, "low", "very_low"), (7, "high", "low"), (10, "very_high", "high")]
)
def test_dii_level_cut_offs(cut, level, below):
    assert dii_level(cut, RULES) == level
    assert dii_level(cut - EPS, RULES) == below


def test_dii_level_outside_the_levels_is_an_error():
    for value in (-EPS, 12 + EPS, 13):
        with pytest.raises(RulesError, match="outside every level"):
            dii_level(value, RULES)
    assert dii_level(0, RULES) == "very_low" and dii_level(12, RULES) == "very_high"


@pytest.mark.parametrize(("cut", "band", "below"), [(40.0, "mid", "low"), (70.0, "high", "mid")])
def test_maturity_band_cut_offs(cut, band, below):
    # the colour band of a dimension's bar (and of any 0–100 score, the overall too)
    assert charts.band(cut) == band and charts.band(cut - EPS) == below
    assert charts.band(0.0) == "low" and charts.band(100.0) == "high"


def test_a_real_dimension_on_a_band_cut_off_is_coloured_by_its_exact_value():
    # 70 is not reachable with three items; 75 is: it is "high"; 37.5 (two answered) is "low"
    r = score(
        answers(scale={"green": 3}, dma_strategy_plan="2", dma_strategy_budget="1", dma_strategy_customers=None), RULES
    )
    assert charts.band(r.dimensions["green"]) == "high" and charts.band(r.dimensions["strategy"]) == "low"
    svg = charts.dimension_chart([charts.Bar("g", r.dimensions["green"])], title="t", language="de")
    assert charts.HIGH in svg and ">75,0<" in svg


def _focus(dimensions: dict) -> list[str]:
    path = recommend({"dimensions": dimensions, "channels": {}, "profile": {}}, load_path_rules(), None)
    return [f.key for f in path.focus if f.kind == "dimension"]


def test_learning_path_threshold_compares_exact_values():
    rules = load_path_rules()
    assert rules.below == 75
    base = dict.fromkeys(RULES.dimensions, 90.0)
    assert _focus({**base, "data": 75.0}) == []  # exactly on the threshold: not below it, no focus
    assert _focus({**base, "data": 75.0 - EPS}) == ["data"]  # 1e-9 below: a focus, although shown "75,0"
    assert display.format_score(75.0 - EPS, "de") == "75,0"
    # weakest_dimensions uses the same (exact, strict) comparison
    r = score(answers(scale={"data": 3, "green": 4, "strategy": 4, "readiness": 4, "human": 4, "automation": 4}), RULES)
    assert r.dimensions["data"] == 75.0
    assert weakest_dimensions(r, below=75.0) == [] and weakest_dimensions(r, below=75.0 + EPS) == ["data"]


def test_weakest_dimensions_are_ordered_by_exact_scores():
    # 66.66… and 66.7 would tie when rounded: the exact scores decide
    base = dict.fromkeys(RULES.dimensions, 90.0)
    assert _focus({**base, "strategy": 66.7, "green": 200 / 3}) == ["green", "strategy"]


# ----------------------------------------------------------------------------------------- every channel


@pytest.fixture
def example_file(tmp_path):
    path = tmp_path / "answers.json"
    path.write_text(json.dumps(issue_answers()), encoding="utf-8")
    return str(path)


def _cli(*args):
    res = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res.output


def _page_overall(html: str) -> str:
    return re.search(r'id="overall">.*?class="big">(.*?) <small>', html, re.S).group(1)


@pytest.mark.django_db
def test_cli_api_page_and_export_show_the_same_figure(client, example_file, tmp_path):
    from digifit.assessment import services

    stored = services.assessment_submit(answers=issue_answers(), language="de")
    assert stored.overall == float(Fraction(350, 6)) and stored.result["overall"] == stored.overall

    # CLI: JSON carries the exact value and the shown one; the text output shows it in --language
    out = json.loads(_cli("check", "score", example_file, "--json"))
    assert out["overall"] == stored.overall
    assert out["rounded"]["overall"] == 58.3 and out["display"] == {
        "language": "en",
        "dimensions": dict(zip(RULES.dimensions, ["66.7", "41.7", "50.0", "50.0", "66.7", "75.0"])),
        "overall": "58.3",
    }
    assert re.search(r"overall\s+58,3$", _cli("check", "score", example_file, "--language", "de"), re.M)
    assert re.search(r"overall\s+58\.3$", _cli("check", "score", example_file), re.M)

    # API: by the private token only
    resp = client.get(f"/api/checks/{stored.token}")
    assert resp.status_code == 200 and resp["Cache-Control"] == "private, no-store"
    body = resp.json()
    assert body["result"] == stored.result and body["result"]["overall"] == stored.overall
    assert body["rounded"]["overall"] == 58.3 and body["rounded"]["dimensions"]["readiness"] == 41.7
    assert body["display"]["language"] == "de" and body["display"]["overall"] == "58,3"
    assert client.get(f"/api/checks/{stored.token}?language=en").json()["display"]["overall"] == "58.3"

    # the result page, German and English
    de = client.get(f"/check/r/{stored.token}/").content.decode()
    en = client.get(f"/check/r/{stored.token}/", headers={"accept-language": "en"}).content.decode()
    assert _page_overall(de) == "58,3" and _page_overall(en) == "58.3"
    assert ">41,7<" in de and ">41.7<" in en  # the chart's figure of a dimension

    # the export: exact columns to compute with, rounded ones as the business read them
    target = tmp_path / "check.parquet"
    services.results_export(target=target)
    row = pq.read_table(target).to_pylist()[0]
    assert row["overall"] == stored.overall and row["overall_rounded"] == 58.3
    assert row["dimension__readiness"] == 125 / 3 and row["dimension_rounded__readiness"] == 41.7


@pytest.mark.django_db
def test_api_check_is_found_by_its_token_only(client):
    from digifit.assessment import services

    stored = services.assessment_submit(answers=issue_answers(email="owner@example.org"), language="fr")
    body = client.get(f"/api/checks/{stored.token}").json()
    assert body["display"]["language"] == "fr" and body["display"]["overall"] == "58,3"
    text = json.dumps(body)
    assert "owner@example.org" not in text and stored.token not in text and "answers" not in body
    for token in ("x" * 32, stored.token[:-1], "short", "owner@example.org"):
        resp = client.get(f"/api/checks/{token}")
        assert resp.status_code == 404 and resp.json()["detail"] == "no Digital-Check result has this token"
    assert client.get(f"/api/checks/{stored.token}?language=es").status_code == 422


@pytest.mark.django_db
def test_api_check_is_in_the_openapi_schema_with_its_404(client):
    schema = client.get("/api/openapi.json").json()
    op = schema["paths"]["/api/checks/{token}"]["get"]
    assert {"200", "404"} <= set(op["responses"]) and op.get("security") in (None, [])


@pytest.mark.django_db
def test_progress_on_the_page_is_the_exact_change_shown_once(client):
    from digifit.assessment import services

    first = services.assessment_submit(answers=answers(scale=1))  # 25
    second = services.assessment_submit(answers=issue_answers(), previous=first)  # 58.33…
    html = client.get(f"/check/r/{second.token}/").content.decode()
    assert "+33,3 " in html  # 58.333… - 25 = 33.333…, rounded once
    assert ">+16,7<" in html  # readiness: 41.66… - 25
