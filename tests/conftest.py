"""Shared fixtures of the Django tests (survey, accounts, web). No statistics fixtures here.

The Django tests run on the database of ``DATABASE_URL`` (PostgreSQL in ``make test``'s second run) or on
SQLite. If ``DATABASE_URL`` is set but the server cannot be reached, the run stops with a clear error: a
PostgreSQL run never turns silently into a SQLite run or a skip.
"""

from __future__ import annotations

import os

# The command line keeps pandas out of its processes by telling pyarrow there is none (digifit.cli.lean). In the
# test processes CLI commands run in-process next to tests that may hand pandas objects to pyarrow, so pandas is
# imported first and that switch is a no-op here; the subprocess tests in tests/web/test_cli.py check the CLI's.
import pandas  # noqa: F401  (the test extra installs it)
import pytest


def pytest_configure(config: pytest.Config) -> None:
    url = os.environ.get("DATABASE_URL")
    if not url or not url.startswith(("postgres://", "postgresql://")):
        return
    import psycopg

    try:
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=5):
            pass
    except psycopg.OperationalError as exc:
        raise pytest.UsageError(
            f"DATABASE_URL points at a PostgreSQL server that cannot be reached: {exc}".strip()
        ) from exc
