"""Migration 0002: results stored with rounded scores get their exact scores back from their answers."""

from __future__ import annotations

from fractions import Fraction

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from .conftest import answers
from .test_exact_scores import issue_answers

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("assessment", "0001_initial")]
AFTER = [("assessment", "0002_recompute_exact_scores")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture(autouse=True)
def _back_to_the_latest():
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())  # later migrations (other branches) too


def _store(Assessment, token, data, *, dimensions, overall, rules_version="2026.1"):
    result = {"rules_version": rules_version, "dimensions": dimensions, "overall": overall}
    return Assessment.objects.create(
        token=token,
        form_id="digital_check",
        form_version="1",
        rules_version=rules_version,
        answers=data,
        result=result,
        dii_score=5,
        dii_level="low",
        overall=overall,
        completed_at=timezone.now(),
    )


def test_rounded_results_are_rescored_exact():
    apps = _migrate(BEFORE)
    Assessment = apps.get_model("assessment", "Assessment")
    dims = ["strategy", "readiness", "human", "data", "automation", "green"]
    rounded = dict(zip(dims, [66.7, 41.7, 50.0, 50.0, 66.7, 75.0]))
    # the issue's result as it was stored before: rounded dimensions, overall from them (58.35 -> 58.4)
    buggy = _store(Assessment, "a" * 32, issue_answers(), dimensions=rounded, overall=58.4)
    # another rules version: left as it is
    other = _store(Assessment, "b" * 32, issue_answers(), dimensions=rounded, overall=58.4, rules_version="2025.1")
    # stored scores that do not fit the answers (rules changed without a new version): left as they are
    odd = _store(Assessment, "c" * 32, answers(scale=1), dimensions=rounded, overall=58.4)

    apps = _migrate(AFTER)
    Assessment = apps.get_model("assessment", "Assessment")
    fixed = Assessment.objects.get(pk=buggy.pk)
    assert fixed.overall == float(Fraction(350, 6)) and fixed.result["overall"] == fixed.overall
    assert fixed.result["dimensions"]["readiness"] == 125 / 3 and fixed.result["rules_version"] == "2026.1"
    for pk in (other.pk, odd.pk):
        kept = Assessment.objects.get(pk=pk)
        assert kept.overall == 58.4 and kept.result["dimensions"] == rounded
