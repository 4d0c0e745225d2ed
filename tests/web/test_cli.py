"""The web commands are registered on ``digifit`` and pass through to Django."""

from __future__ import annotations

from click.testing import CliRunner

from digifit.cli import main


def test_web_commands_are_registered():
    for name in ("serve", "manage", "questionnaire", "waves", "snapshot"):
        assert name in main.commands
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0 and "--port" in result.output


def test_manage_passes_through_to_django(db):
    result = CliRunner().invoke(main, ["manage", "check"])
    assert result.exit_code == 0, result.output
    assert "System check identified no issues" in result.output


def test_the_command_list_says_what_each_command_says():
    """``digifit --help`` lists the registry's short help without importing the commands: it must be theirs."""
    from digifit.cli import COMMANDS

    assert sorted(COMMANDS) == sorted(main.commands)
    for name, where in COMMANDS.items():
        assert main.commands[name].get_short_help_str(limit=10_000) == where.short, name


_HEAVY = ("pandas", "ibis", "scipy", "django", "pyarrow", "duckdb", "numpy", "digifit.forms", "digifit.stats")
_OTHER_COMPILERS = "ibis.backends.sql.compilers.athena"  # one of the 19 SQL compilers DuckDB does not need


def _loaded_after(code: str, tmp_path) -> dict[str, bool]:
    """Run ``code`` in a fresh interpreter and say which heavy packages it left in ``sys.modules``."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    names = [*_HEAVY, _OTHER_COMPILERS]
    report = (
        "import atexit, json, sys\n\n\ndef report():\n"
        f"    print(json.dumps({{m: m in sys.modules for m in {names!r}}}))\n\n\natexit.register(report)\n"
    )
    src = str(Path(__file__).resolve().parents[2] / "src")
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    script = tmp_path / "probe.py"
    script.write_text(report + code + "\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_starting_the_command_line_imports_nothing_heavy(tmp_path):
    """``import digifit.cli`` and ``digifit --help`` load no engine, no web framework, no statistics."""
    for code in (
        "import digifit.cli",
        "import sys; sys.argv = ['digifit', '--help']\nfrom digifit.cli import main\ntry:\n    main()\n"
        "except SystemExit:\n    pass",
    ):
        loaded = _loaded_after(code, tmp_path)
        assert not any(loaded.values()), (code, loaded)


def test_estimate_leaves_pandas_and_scipy_out(tmp_path):
    """A whole ``digifit estimate`` (data read, estimate printed) imports neither pandas nor scipy nor Django."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    data = tmp_path / "d.parquet"
    pq.write_table(pa.table({"y": [1.0, 2.0, 3.0, 4.0], "g": ["a", "a", "b", "b"], "w": [1.0, 2.0, 1.0, 2.0]}), data)
    code = (
        f"import sys; sys.argv = ['digifit', 'estimate', {str(data)!r}, '--weights', 'w', '--mean', 'y', "
        "'--by', 'g', '--json']\nfrom digifit.cli import main\ntry:\n    main()\nexcept SystemExit as e:\n"
        "    assert not e.code, e.code"
    )
    loaded = _loaded_after(code, tmp_path)
    assert loaded["digifit.stats"] and loaded["duckdb"]  # the probe did estimate
    assert not (loaded["pandas"] or loaded["scipy"] or loaded["django"] or loaded[_OTHER_COMPILERS]), loaded
