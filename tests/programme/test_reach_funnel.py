"""The digitally-fit rule and the funnel on a small known population."""

from __future__ import annotations

from datetime import date

import pytest

from digifit.programme.reach import (
    DEFAULT_RULE,
    Attendance,
    Business,
    FitRule,
    fit_date,
    funnel,
    funnel_to_csv,
    is_digitally_fit,
    week_start,
    weekly_fit_counts,
)
from digifit.programme.recurrence import ProgrammeError

T, C = "training", "coaching"
# Registered in the weeks of 2 and 9 March 2026 (Mondays); the comment says when each became fit.
POPULATION = [
    Business("a", date(2026, 3, 2), "retail", "BY", (Attendance(date(2026, 3, 3), C),), date(2026, 3, 4)),  # 4 Mar
    Business("b", date(2026, 3, 2), "retail", "BE", (Attendance(date(2026, 3, 10), T),), date(2026, 3, 5)),  # 10 Mar
    Business("c", date(2026, 3, 3), "gastronomy", "BY", (Attendance(date(2026, 3, 17), C),)),  # no check: not fit
    Business("d", date(2026, 3, 9), "gastronomy", "BY", (), date(2026, 3, 10)),  # no session: not fit
    Business("e", date(2026, 3, 10), "travel", "BE"),  # registered only
    Business(
        "f",
        date(2026, 3, 10),
        "travel",
        "BE",
        (Attendance(date(2026, 3, 24), T), Attendance(date(2026, 3, 11), C)),
        date(2026, 3, 25),  # 25 Mar (sessions out of order on purpose)
    ),
]


def test_default_rule_is_one_session_and_the_check():
    assert FitRule(min_sessions=1, kinds=frozenset({T, C, "course"}), require_check=True) == DEFAULT_RULE
    assert [fit_date(b) for b in POPULATION] == [
        date(2026, 3, 4),
        date(2026, 3, 10),
        None,
        None,
        None,
        date(2026, 3, 25),
    ]
    assert is_digitally_fit(POPULATION[0]) and not is_digitally_fit(POPULATION[2])
    assert not is_digitally_fit(POPULATION[1], as_of=date(2026, 3, 9))


def test_configurable_rule():
    two_sessions = FitRule(min_sessions=2)
    assert [fit_date(b, two_sessions) for b in POPULATION] == [None] * 5 + [date(2026, 3, 25)]
    trainings_only = FitRule(kinds=frozenset({T}))
    assert fit_date(POPULATION[0], trainings_only) is None
    assert fit_date(POPULATION[5], trainings_only) == date(2026, 3, 25)
    no_check = FitRule(require_check=False)
    assert fit_date(POPULATION[2], no_check) == date(2026, 3, 17)
    check_only = FitRule(min_sessions=0)
    assert fit_date(POPULATION[3], check_only) == date(2026, 3, 10)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"min_sessions": -1}, "min_sessions"),
        ({"kinds": frozenset({"webinar"})}, "kinds"),
        ({"min_sessions": 0, "require_check": False}, "at least one condition"),
    ],
)
def test_rule_errors(kw, match):
    with pytest.raises(ProgrammeError, match=match):
        FitRule(**kw)


def test_funnel_overall_and_by_sector_and_region():
    assert [r.to_dict() for r in funnel(POPULATION)] == [{"registered": 6, "attended": 4, "fit": 3}]
    assert [r.to_dict() for r in funnel(POPULATION, by="sector")] == [
        {"sector": "gastronomy", "registered": 2, "attended": 1, "fit": 0},
        {"sector": "retail", "registered": 2, "attended": 2, "fit": 2},
        {"sector": "travel", "registered": 2, "attended": 1, "fit": 1},
    ]
    by_both = {tuple(r.group): (r.registered, r.attended, r.fit) for r in funnel(POPULATION, by=["region", "sector"])}
    assert by_both[(("region", "BY"), ("sector", "gastronomy"))] == (2, 1, 0)
    assert by_both[(("region", "BE"), ("sector", "travel"))] == (2, 1, 1)
    assert sum(v[2] for v in by_both.values()) == 3


def test_funnel_as_of_ignores_later_events():
    (row,) = funnel(POPULATION, as_of=date(2026, 3, 9))
    assert (row.registered, row.attended, row.fit) == (4, 1, 1)


def test_funnel_by_week_counts_flows_and_lists_quiet_weeks():
    rows = [r.to_dict() for r in funnel(POPULATION, by="week")]
    assert rows == [
        {"week": "2026-03-02", "registered": 3, "attended": 1, "fit": 1},
        {"week": "2026-03-09", "registered": 3, "attended": 2, "fit": 1},
        {"week": "2026-03-16", "registered": 0, "attended": 1, "fit": 0},
        {"week": "2026-03-23", "registered": 0, "attended": 0, "fit": 1},
    ]
    totals = [sum(r[k] for r in rows) for k in ("registered", "attended", "fit")]
    assert totals == [6, 4, 3]  # flows add up to the stocks
    by_sector_week = funnel(POPULATION, by=["sector", "week"])
    assert len(by_sector_week) == 3 * 4  # every sector gets every week
    assert sum(r.fit for r in by_sector_week) == 3


def test_funnel_errors_and_empty():
    with pytest.raises(ProgrammeError, match="funnel by: got 'country'"):
        funnel(POPULATION, by="country")
    with pytest.raises(ProgrammeError, match="at most once"):
        funnel(POPULATION, by=["week", "week"])
    assert [r.to_dict() for r in funnel([])] == [{"registered": 0, "attended": 0, "fit": 0}]
    assert funnel([], by="week") == []


def test_weekly_fit_counts_is_the_forecast_history():
    assert week_start(date(2026, 3, 8)) == date(2026, 3, 2)
    assert weekly_fit_counts(POPULATION) == [
        (date(2026, 3, 2), 1),
        (date(2026, 3, 9), 1),
        (date(2026, 3, 16), 0),
        (date(2026, 3, 23), 1),
    ]
    padded = weekly_fit_counts(POPULATION, start=date(2026, 2, 25), end=date(2026, 4, 1))
    assert padded[0] == (date(2026, 2, 23), 0) and padded[-1] == (date(2026, 3, 30), 0)
    assert weekly_fit_counts([]) == []


def test_funnel_csv_export():
    text = funnel_to_csv(funnel(POPULATION, by=["sector", "week"]))
    lines = text.splitlines()
    assert lines[0] == "sector,week,registered,attended,fit"
    assert "retail,2026-03-02,2,1,1" in lines and len(lines) == 1 + 12
    assert funnel_to_csv(funnel(POPULATION)) == "registered,attended,fit\n6,4,3\n"
