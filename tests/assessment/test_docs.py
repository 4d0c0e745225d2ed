"""docs/digital-check.md documents every option of ``digifit check`` and every key of the two rules files."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from digifit.assessment.content import BUNDLED_DIR
from digifit.cli.check import check

LEARNING_PATH_RULES_PATH = BUNDLED_DIR / "learning_path.toml"
RULES_PATH = BUNDLED_DIR / "rules.toml"

DOC = (Path(__file__).resolve().parents[2] / "docs" / "digital-check.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(check.commands))
def test_every_check_command_and_option_is_documented(name):
    command = check.commands[name]
    assert f"digifit check {name}" in DOC
    for param in command.params:
        for opt in param.opts:
            if opt.startswith("--"):
                assert f"`{opt}" in DOC or f"{opt} " in DOC, f"{name} {opt} is not in docs/digital-check.md"


def test_learning_path_keys_are_documented():
    data = tomllib.loads(LEARNING_PATH_RULES_PATH.read_text(encoding="utf-8"))
    for key in data:
        if key != "version":
            assert f"`{key}" in DOC or f"[{key}]" in DOC, key


def test_scoring_rules_version_is_the_documented_one():
    version = tomllib.loads(RULES_PATH.read_text(encoding="utf-8"))["version"]
    assert f'version = "{version}"' in DOC
