"""The layers accounts → assessment → programme: the Digital-Check app never imports the programme."""

from __future__ import annotations

import ast
from pathlib import Path

import digifit.assessment

APP = Path(digifit.assessment.__file__).parent


def test_the_assessment_app_never_imports_the_programme():
    offenders = []
    for path in APP.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            if any(n == "digifit.programme" or n.startswith("digifit.programme.") for n in names):
                offenders.append(f"{path.relative_to(APP)}:{node.lineno}")
    assert offenders == []
