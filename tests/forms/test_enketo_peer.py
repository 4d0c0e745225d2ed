"""digifit's expressions against Enketo's evaluator (npm ``openrosa-xpath-evaluator``), ODK's web client.

The table ``odk_expressions.json`` holds the expressions and the answers they read; ``enketo_peer.js``
evaluates all of them in one Node process (under jsdom), and every case must give digifit's and Enketo's
result alike, or be a listed, deliberate difference whose both results the table states. ``make test``
installs Node and the package (``npm ci``), so their absence is a failure, not a skip.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from digifit.forms.expressions import ExpressionError, evaluate, to_string

HERE = Path(__file__).parent
TABLE = json.loads((HERE / "odk_expressions.json").read_text(encoding="utf-8"))
CASES = TABLE["cases"]
TODAY = dt.date.fromisoformat(TABLE["today"])
DOCS = (HERE.parents[1] / "docs" / "forms-expressions.md").read_text(encoding="utf-8")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _answers(case: dict) -> dict:
    """The case's answers, the instance's with its own laid over; YYYY-MM-DD strings are date answers."""

    def typed(value):
        if isinstance(value, str) and _ISO_DATE.fullmatch(value):
            return dt.date.fromisoformat(value)
        if isinstance(value, list):
            return [typed(v) for v in value]
        if isinstance(value, dict):
            return {k: typed(v) for k, v in value.items()}
        return value

    return typed({**TABLE["instance"], **case.get("values", {})})


def _digifit(case: dict) -> str:
    try:
        return to_string(evaluate(case["expr"], _answers(case), context=case.get("context"), today=TODAY))
    except ExpressionError:
        return "error"


@pytest.fixture(scope="module")
def enketo() -> list[str]:
    """Enketo's string() of every case's result ('error' when it refuses), from one Node process."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: `make assets` installs it with npm")
    payload = {
        "today": TABLE["today"],
        "cases": [
            {"expr": c["expr"], "values": {**TABLE["instance"], **c.get("values", {})}}
            | ({"context": c["context"]} if "context" in c else {})
            for c in CASES
        ],
    }
    run = subprocess.run(
        [node, str(HERE / "enketo_peer.js")],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "TZ": "UTC"},
    )
    if run.returncode != 0:
        pytest.fail(f"the Enketo peer script failed (is `npm ci` done?):\n{run.stderr[-2000:]}")
    results = json.loads(run.stdout)
    assert len(results) == len(CASES)
    return ["error" if "error" in r else r["value"] for r in results]


def test_the_table_is_large_and_every_difference_is_explained():
    assert len(CASES) >= 300
    topics = {c["differs"] for c in CASES if "differs" in c}
    assert topics <= set(TABLE["differences"]), topics - set(TABLE["differences"])
    assert set(TABLE["differences"]) <= topics, "a listed difference no case shows"
    for topic in TABLE["differences"]:
        assert f"`{topic}`" in DOCS, f"docs/forms-expressions.md does not explain the difference {topic!r}"
    assert len({(c["expr"], c.get("context"), json.dumps(c.get("values"))) for c in CASES}) == len(CASES)


@pytest.mark.parametrize("index", range(len(CASES)), ids=[c["expr"] for c in CASES])
def test_agrees_with_enketo_or_differs_as_listed(enketo, index):
    case = CASES[index]
    ours, theirs = _digifit(case), enketo[index]
    if "differs" in case:
        assert (ours, theirs) == (case["digifit"], case["enketo"]), f"listed difference {case['differs']!r} changed"
        assert ours != theirs
    else:
        assert ours == theirs, f"digifit gives {ours!r}, Enketo {theirs!r}"


def test_agreement_count(enketo):
    agree = sum(_digifit(c) == e for c, e in zip(CASES, enketo, strict=True))
    listed = sum("differs" in c for c in CASES)
    assert agree == len(CASES) - listed, f"{agree} of {len(CASES)} agree; {listed} differ on purpose"
