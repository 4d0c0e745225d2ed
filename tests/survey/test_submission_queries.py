"""How many SQL statements one submission costs (a count, not a timing), and that the cheap paths stay safe:
a revoked token stops at once, a role taken away stops at once, a resend is found by the insert itself."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from digifit.survey.models import Submission

from .conftest import answers, new_id

#: token + user + permissions (1); version + its open wave + "has webhooks" (1); BEGIN, INSERT, COMMIT (in a
#: test: SAVEPOINT, INSERT, RELEASE)
MAX_QUERIES_PER_SUBMISSION = 5


def _submit(api, data, iid, **extra):
    return api.post("/api/submissions", {"form_id": "fob_test", "instance_id": iid, "data": data, **extra})


def _statements(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries]


def test_a_submission_costs_at_most_a_few_statements(manager, wave):
    assert _submit(manager, answers(), new_id()).status_code == 201  # warm: the form's rules are parsed once
    with CaptureQueriesContext(connection) as captured:
        resp = _submit(manager, answers(), new_id())
    assert resp.status_code == 201, resp.content
    statements = _statements(captured)
    print("\n".join(statements))
    assert len(statements) <= MAX_QUERIES_PER_SUBMISSION, statements


def test_a_revoked_token_or_a_role_taken_away_stops_the_next_submission(make_user, client, wave):
    from django.contrib.auth.models import Group

    from digifit.accounts.models import Token
    from digifit.accounts.services import token_revoke

    from .conftest import ApiClient

    user, raw = make_user("collector", "survey_manager")
    api = ApiClient(client, raw)
    assert _submit(api, answers(), new_id()).status_code == 201
    user.groups.remove(Group.objects.get(name="survey_manager"))
    assert _submit(api, answers(), new_id()).status_code == 403
    user.groups.add(Group.objects.get(name="survey_manager"))
    assert _submit(api, answers(), new_id()).status_code == 201
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert _submit(api, answers(), new_id()).status_code == 401
    user.is_active = True
    user.save(update_fields=["is_active"])
    token_revoke(token=Token.objects.get(user=user))
    assert _submit(api, answers(), new_id()).status_code == 401
    assert Submission.objects.count() == 2


def test_a_direct_permission_counts_and_the_token_user_is_the_stored_author(make_user, client, wave):
    from django.contrib.auth.models import Permission

    from .conftest import ApiClient

    user, raw = make_user("direct")
    api = ApiClient(client, raw)
    assert _submit(api, answers(), new_id()).status_code == 403
    user.user_permissions.add(Permission.objects.get(codename="collect_submissions"))
    iid = new_id()
    assert _submit(api, answers(), iid).status_code == 201
    assert Submission.objects.get(instance_id=iid).created_by == user
    assert api.get("/api/submissions").status_code == 403  # collecting is not reading


def test_a_resend_is_found_by_the_insert_and_answered_as_stored_after_the_wave_closed(manager, wave):
    iid = new_id()
    first = _submit(manager, answers(), iid)
    assert first.status_code == 201
    with CaptureQueriesContext(connection) as captured:
        again = _submit(manager, answers(), iid)
    assert again.status_code == 200 and again.json() == first.json()
    assert not any("survey_webhookdelivery" in sql for sql in _statements(captured))  # nothing new is queued
    assert _submit(manager, answers(employees=13), iid).status_code == 409
    manager.patch(f"/api/waves/{wave['id']}", {"status": "closed"})
    assert _submit(manager, answers(), iid).status_code == 200
    assert _submit(manager, answers(employees=13), iid).status_code == 409
    assert _submit(manager, answers(), new_id()).status_code == 403
    assert Submission.objects.count() == 1
