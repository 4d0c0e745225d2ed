"""GDPR Art. 15/17/20 for a business: the export holds everything stored about it (its claimed Digital-Check
results included); the erasure leaves no trace of it anywhere in the database (a full dump is searched for its
e-mail address, its company name and its answers) and leaves other businesses' data and statistics intact."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from digifit.assessment import services as check_services
from digifit.assessment.models import Assessment
from digifit.notifications.models import OutboxMessage
from digifit.programme import selectors, services
from digifit.programme.models import Business, Registration, Session, Story

from .conftest import check_answers, confirmation_link, make_business, make_series

pytestmark = pytest.mark.django_db
EMAIL = "quitten.zzyzx-4711@example.org"
COMPANY = "Quittenhof Zzyzx-Manufaktur"
CONTACT = "Xaveria Quendelbaum"
QUESTION = "Wie verkaufe ich Quittengelee-XQ7 über Instagram?"
PASSWORD = "Kaffeemaschine-Bergwerk-7"


def dump() -> str:
    out = io.StringIO()
    call_command("dumpdata", stdout=out)  # every installed app
    return out.getvalue()


@pytest.fixture
def owner(client):
    """A business signed up and confirmed through the web, registered for a session with a question, with a
    claimed Digital-Check result, failed and successful logins, and an admin change about it."""
    series = make_series(start=timezone.localdate(), through=timezone.localdate() + timedelta(days=30))
    session = Session.objects.filter(series=series, start__gt=timezone.now() + timedelta(days=2)).first()
    form = {
        "company": COMPANY,
        "sector": "retail",
        "size_class": "micro",
        "region": "SN",
        "contact_name": CONTACT,
        "email": EMAIL,
        "phone": "+49 351 4711",
        "language": "de",
        "password": PASSWORD,
        "consent": "on",
    }
    client.post("/programme/signup/", form)
    client.get(confirmation_link(EMAIL))
    client.post("/accounts/login/", {"username": EMAIL, "password": "wrong-password"})  # an audit entry
    assert client.post("/accounts/login/", {"username": EMAIL, "password": PASSWORD}).status_code == 302
    client.post(f"/programme/sessions/{session.pk}/", {"role": "active", "question": QUESTION})
    business = Business.objects.get(email=EMAIL)
    assert Registration.objects.get(business=business).status == "confirmed"
    check = check_services.assessment_submit(answers=check_answers(level="2", email=EMAIL))
    client.post(f"/programme/checks/{check.token}/claim/", {"email": EMAIL})  # the claim link, by e-mail
    client.post(confirmation_link(EMAIL))
    assert Assessment.objects.get(pk=check.pk).owner == business.user

    from django.contrib.admin.models import CHANGE, LogEntry
    from django.contrib.contenttypes.models import ContentType

    LogEntry.objects.create(
        user=make_staff(),
        content_type=ContentType.objects.get_for_model(Business),
        object_id=str(business.pk),
        object_repr=COMPANY,
        action_flag=CHANGE,
        change_message=f"phone of {CONTACT} changed",
    )
    return business, check


def make_staff():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get_or_create(username="staff", defaults={"is_staff": True})[0]


def test_the_export_holds_everything_stored_about_the_business(client, owner):
    _business, check = owner
    response = client.get("/programme/me/export.json")
    data = json.loads(response.content)
    assert data["profile"]["email"] == EMAIL and data["profile"]["email_verified_at"]
    assert data["registrations"][0]["question"] == QUESTION
    [exported] = data["checks"]
    assert exported["answers"] == check.answers and exported["result"] == check.result
    assert exported["result_url"].endswith(f"/check/r/{check.token}/")
    keys = {m["subject"] for m in data["emails"]}
    assert "Bitte bestätigen Sie Ihre E-Mail-Adresse" in keys  # the confirmation e-mail
    assert "Digital-Check-Ergebnis Ihrem Betrieb zuordnen" in keys  # the claim link sent to it
    assert any(s.startswith("Anmeldung bestätigt") for s in keys)
    kinds = {a["kind"] for a in data["audit"]}
    assert {"accessfailurelog", "accesslog", "admin"} <= kinds
    # another business's export holds none of it
    other = make_business(email="andere@example.org", verified=True)
    assert EMAIL not in json.dumps(services.business_export(business=other))


def test_erasure_leaves_no_trace_in_the_database(client, owner):
    _business, check = owner
    other = make_business(email="bleibt@example.org", company="Bleibt GmbH", verified=True)
    kept = check_services.assessment_submit(answers=check_answers(level="2", email="bleibt@example.org"))
    services.check_claim(assessment=kept, business=other)
    story = services.story_publish(title="Bleibt", company="Bleibt GmbH", body="…", consent_given_at=timezone.now())
    before = dump()
    assert EMAIL in before and COMPANY in before and QUESTION in before and CONTACT in before

    response = client.post("/programme/me/delete/", {"confirm": "yes"})
    assert response.status_code == 302
    after = dump()
    for trace in (EMAIL, EMAIL.split("@")[0], COMPANY, CONTACT, QUESTION, check.token, "+49 351 4711"):
        assert trace not in after, trace
    assert not Assessment.objects.filter(pk=check.pk).exists()
    assert "_auth_user_id" not in client.session  # logged out
    # the others are untouched: their business, check, e-mails and the published story
    assert Assessment.objects.get(pk=kept.pk).owner == other.user
    assert selectors.checks_by_business() == {other.pk: kept.completed_at}
    assert Story.objects.filter(pk=story.pk).exists()
    assert "bleibt@example.org" in after


def test_erasure_keeps_e_mails_of_another_account_with_the_same_address(owner):
    """Deleting one account never deletes what was queued for another one carrying the same address."""
    business, _check = owner
    twin = services.business_register(  # unverified, same address, no login (e.g. created by the CLI)
        user=None,
        company="Zwilling",
        sector="retail",
        size_class="micro",
        region="BY",
        contact_name="Zwilling",
        email=EMAIL,
        consent=True,
    )
    series = make_series(slug="zwei", start=timezone.localdate(), through=timezone.localdate() + timedelta(days=30))
    session = Session.objects.filter(series=series, start__gt=timezone.now() + timedelta(days=2)).first()
    reg = services.session_register(session=session, business=twin, role="follower")
    services.business_delete(business=business)
    assert OutboxMessage.objects.filter(key=f"programme.confirmed:{reg.pk}").exists()
