"""Every API endpoint and every OpenRosa endpoint is documented in docs/api.md (datasette style)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def test_every_api_path_and_method_appears_in_docs(client, db):
    text = DOC.read_text(encoding="utf-8")
    schema = client.get("/api/openapi.json").json()
    missing = []
    for path, operations in schema["paths"].items():
        pattern = re.escape(path).replace(r"\{", "{").replace(r"\}", "}")
        pattern = re.sub(r"\{[^}]+\}", r"[^/?\\s\"]+", pattern) + r"(?![\w/])"
        if not re.search(pattern, text):
            missing.append(path)
        for method in operations:
            if method.upper() not in ("GET", "POST") and f"-X {method.upper()}" not in text:
                missing.append(f"{method.upper()} {path}")
    assert missing == []


@pytest.mark.parametrize("path", ["/openrosa/formList", "/openrosa/forms/", "/openrosa/submission"])
def test_openrosa_endpoints_are_documented(path):
    assert path in DOC.read_text(encoding="utf-8")
