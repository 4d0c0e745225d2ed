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
