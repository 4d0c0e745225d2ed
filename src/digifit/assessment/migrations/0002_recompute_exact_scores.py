"""Stored results get their exact scores back (issue 19: scores were stored rounded to one decimal).

No column changes: ``Assessment.overall`` and the ``dimensions``/``overall`` of ``Assessment.result`` stay floats;
they now hold the exact values (66.66666666666667, not 66.7). This migration rescores the stored answers of every
result scored with the rules version in use, and replaces only its dimension scores and overall — when they agree
with what was stored up to that rounding (a dimension within 0.05, the overall within 0.1, the most that
averaging rounded dimensions could move it; else the rules file changed without a new version, and the row is left
as it is). Results of other rules versions keep their rounded scores; they are never compared with the current
ones anyway. Reversing leaves the exact values (they round to what was stored).
"""

from __future__ import annotations

from django.db import migrations


def _agrees(stored, exact, tolerance: float) -> bool:
    if stored is None or exact is None:
        return stored is None and exact is None
    return abs(float(stored) - float(exact)) <= tolerance + 1e-9


def recompute(apps, schema_editor):
    Assessment = apps.get_model("assessment", "Assessment")
    if not Assessment.objects.exists():
        return
    from digifit.assessment.content import instrument_paths
    from digifit.assessment.scoring import AnswersError, RulesError, load_rules, score

    try:
        rules = load_rules(instrument_paths().rules)
    except RulesError:
        return
    for a in Assessment.objects.filter(rules_version=rules.version).iterator():
        try:
            fresh = score(a.answers or {}, rules)
        except AnswersError:
            continue
        stored = a.result or {}
        old_dims = stored.get("dimensions") or {}
        if set(old_dims) != set(fresh.dimensions) or not all(
            _agrees(old_dims[d], v, 0.05) for d, v in fresh.dimensions.items()
        ):
            continue
        # an overall averaged from rounded dimensions (the bug) is off by up to 0.05 before its own rounding
        if not _agrees(stored.get("overall"), fresh.overall, 0.1):
            continue
        a.result = {**stored, "dimensions": dict(fresh.dimensions), "overall": fresh.overall}
        a.overall = fresh.overall
        a.save(update_fields=["result", "overall"])


class Migration(migrations.Migration):
    dependencies = [("assessment", "0001_initial")]

    operations = [migrations.RunPython(recompute, migrations.RunPython.noop)]
