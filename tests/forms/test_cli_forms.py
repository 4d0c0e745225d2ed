"""``digifit forms eval``: through click's CliRunner, and once as a real process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from digifit.cli import main


def run(*args: str):
    return CliRunner().invoke(main, ["forms", "eval", *args])


@pytest.mark.parametrize(
    ("args", "output"),
    [
        (["1 + 2"], "3"),
        (["7 div 2"], "3.5"),
        (["1 div 0"], "Infinity"),
        (["${age} >= 18", "--values", '{"age": 17}'], "false"),
        (["concat(${a}, '!')", "--values", '{"a": "hi"}'], "hi!"),
        (["count-selected(${c})", "--values", '{"c": "web shop"}'], "2"),
        (["today()", "--today", "2024-03-15"], "2024-03-15"),
        (["${d} < today()", "--values", '{"d": "2024-03-01"}', "--today", "2024-03-15"], "true"),
        (["${missing}"], ""),
        (["regex(., '^[0-9]{5}$')", "--context", "plz", "--values", '{"plz": "10115"}'], "true"),
        (["${hh}", "--values", '{"hh": [{"n": 1}]}'], '[{"n": 1}]'),
        (["sum(${n})", "--values", '{"hh": [{"n": 1}, {"n": 2.5}]}'], "3.5"),
    ],
)
def test_eval_prints_the_value(args, output):
    result = run(*args)
    assert result.exit_code == 0, result.output
    assert result.stdout == output + "\n"


@pytest.mark.parametrize(
    ("args", "payload"),
    [
        (["1 + 2"], {"value": 3, "type": "number"}),
        (["0.5 * 3"], {"value": 1.5, "type": "number"}),
        (["0 div 0"], {"value": "NaN", "type": "number"}),
        (["--", "-1 div 0"], {"value": "-Infinity", "type": "number"}),
        (["-7 mod 3"], {"value": -1, "type": "number"}),  # a leading '-' is an expression, not an option
        (["-${x}", "--values", '{"x": 3}'], {"value": -3, "type": "number"}),
        (["--values", '{"x": "-2"}', "-${x} * 2"], {"value": 4, "type": "number"}),
        (["'x'"], {"value": "x", "type": "string"}),
        (["selected(${c}, 'shop')", "--values", '{"c": "web shop"}'], {"value": True, "type": "boolean"}),
        (["date('2024-02-29')"], {"value": "2024-02-29", "type": "date"}),
        (
            ["${hh}", "--values", '{"hh": [{"d": "2024-01-02", "n": 2}]}'],
            {"value": [{"d": "2024-01-02", "n": 2}], "type": "nodeset"},
        ),
    ],
)
def test_eval_json(args, payload):
    result = run("--json", *args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == payload


def test_an_expression_may_start_with_a_minus_before_or_after_the_options():
    assert run("-7 mod 3").stdout == "-1\n"
    assert run("-1", "--json").stdout == '{"value": -1, "type": "number"}\n'
    assert run("--json", "--", "-1 div 0").stdout == '{"value": "-Infinity", "type": "number"}\n'
    assert run("--today=2024-03-15", "-(today() - date('2024-03-14'))").stdout == "-1\n"


def test_option_shaped_arguments_stay_options():
    assert run("-h").stdout.startswith("Usage:")
    unknown = run("--valuez", "{}", "1")
    assert unknown.exit_code == 2
    assert "No such option '--valuez'" in unknown.stderr


def test_values_from_a_file(tmp_path: Path):
    answers = tmp_path / "answers.json"
    answers.write_text('{"revenue": 1200, "employees": 4}', encoding="utf-8")
    result = run("${revenue} div ${employees}", "--values", f"@{answers}")
    assert result.exit_code == 0, result.output
    assert result.stdout == "300\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["1 +"], "Error: the expression ends where an operand was expected at column 4 in '1 +'"),
        (["nope(1)"], "Error: unknown function nope() at column 1 in 'nope(1)'"),
        (["round(1, 2, 3)"], "Error: round() takes 1 or 2 arguments, got 3"),
        (["1", "--values", "{bad"], "Error: --values is not valid JSON: Expecting property name"),
        (
            ["1", "--values", "[1, 2]"],
            "Error: --values must be a JSON object of answers by field name, got list",
        ),
        (["1", "--values", "@/nonexistent/answers.json"], "Error: cannot read --values file"),
        ([". > 1"], "Error: '.' refers to the current field, but no context field was given at column 1"),
        (["date('soon')"], "Error: date(): 'soon' is not a date"),
    ],
)
def test_user_errors_are_one_line_and_exit_2(args, message):
    result = run(*args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(message)
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr


def test_help_documents_the_options():
    result = CliRunner().invoke(main, ["forms", "eval", "--help"])
    assert result.exit_code == 0
    for option in ("--values", "--context", "--today", "--json"):
        assert option in result.output


def test_real_process():
    digifit = Path(sys.executable).with_name("digifit")
    if not digifit.exists():
        pytest.skip("the digifit entry point is not installed in this environment")
    ok = subprocess.run(
        [str(digifit), "forms", "eval", "${age} >= 18 and selected(${c}, 'shop')", "--values",
         '{"age": 20, "c": "web shop"}', "--json"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout) == {"value": True, "type": "boolean"}

    bad = subprocess.run(
        [str(digifit), "forms", "eval", "${age} >= "], capture_output=True, text=True, timeout=60, check=False
    )
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert bad.stderr.strip().splitlines() == [
        "Error: the expression ends where an operand was expected at column 11 in '${age} >= '"
    ]
