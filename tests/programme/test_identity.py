"""Identity and ownership (issue 11): the takeover attempts, tried again.

A business's data belongs to the account that proved its e-mail address: sign-up and the claim of a Digital-Check
result confirm the address by a signed, expiring link before anything is linked; nothing is looked up by a typed
e-mail address; an anonymous check counts toward reach only after a verified owner claimed it.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from digifit.assessment import services as check_services
from digifit.assessment.models import Assessment
from digifit.notifications.models import OutboxMessage
from digifit.programme import links, selectors, services
from digifit.programme.models import Business

from .conftest import check_answers, confirmation_link, make_business

pytestmark = pytest.mark.django_db
PASSWORD = "Kaffeemaschine-Bergwerk-7"


def signup_data(email: str, **kw) -> dict:
    return {
        "company": kw.get("company", "Angreifer GmbH"),
        "sector": "retail",
        "size_class": "micro",
        "region": "BY",
        "contact_name": kw.get("contact_name", "Mallory Muster"),
        "email": email,
        "language": "de",
        "password": PASSWORD,
        "consent": "on",
    }


def _without_csrf(html: str) -> str:
    import re

    return re.sub(r'"X-CSRFToken": "[^"]+"|name="csrfmiddlewaretoken" value="[^"]+"', "", html)


def login(client, username: str, password: str = PASSWORD):
    return client.post("/accounts/login/", {"username": username, "password": password})


def verified_owner(email: str = "laden@example.org", company: str = "Laden Müller") -> Business:
    business = make_business(email=email, company=company, verified=True)
    user = business.user
    user.set_password(PASSWORD)
    user.save()
    return business


# ----------------------------------------------------------------------------------------- sign-up


def test_signup_with_a_verified_business_email_links_nothing_and_reveals_nothing(client):
    victim = verified_owner()
    mine = check_services.assessment_submit(answers=check_answers(email="laden@example.org"))
    services.check_claim(assessment=mine, business=victim)
    users, businesses = get_user_model().objects.count(), Business.objects.count()

    fresh = client.post("/programme/signup/", signup_data("neu@example.org"), follow=True)
    taken = client.post("/programme/signup/", signup_data("LADEN@Example.org"), follow=True)
    # the same answer: the same redirect, the same page (only the fresh address got an account, inactive)
    assert taken.redirect_chain == fresh.redirect_chain == [("/programme/signup/sent/", 302)]
    assert taken.status_code == fresh.status_code == 200
    assert _without_csrf(taken.text) == _without_csrf(fresh.text)
    assert "laden@example.org" not in taken.content.decode().lower()
    assert get_user_model().objects.count() == users + 1 and Business.objects.count() == businesses + 1
    assert not Business.objects.filter(company="Angreifer GmbH", email__iexact="laden@example.org").exists()
    # the owner is told that someone tried; the attacker has no login and nothing of the victim's
    notice = OutboxMessage.objects.get(key__startswith=f"programme.signup-attempt:{victim.pk}:")
    assert notice.to == "laden@example.org" and "Registrierungsversuch" in notice.subject
    assert login(client, "LADEN@Example.org").status_code == 200  # the login form again: refused
    assert "_auth_user_id" not in client.session
    assert Assessment.objects.get(pk=mine.pk).owner == victim.user
    # the takeover of issue 11: the check form shows no token of a check typed with that address
    assert mine.token not in client.get("/check/").content.decode()


def test_a_new_signup_is_inactive_until_its_link_is_opened(client):
    client.post("/programme/signup/", signup_data("anna@example.org", company="Buchladen Anna"))
    business = Business.objects.get(email="anna@example.org")
    assert business.email_verified_at is None and not business.user.is_active
    message = OutboxMessage.objects.get(to="anna@example.org")
    assert message.key.startswith(f"programme.verify:{business.pk}:") and message.language == "de"
    assert message.subject == "Bitte bestätigen Sie Ihre E-Mail-Adresse" and "72 Stunden" in message.body_text
    assert login(client, "anna@example.org").status_code == 200 and "_auth_user_id" not in client.session
    link = confirmation_link("anna@example.org")
    assert client.get(link).status_code == 200
    assert client.get(link).status_code == 200  # a second click changes nothing
    business.refresh_from_db()
    assert business.verified and business.user.is_active and business.user.username == "anna@example.org"
    assert login(client, "anna@example.org").status_code == 302


def test_of_two_signups_with_one_address_only_the_first_confirmed_gets_it(client):
    client.post("/programme/signup/", signup_data("shared@example.org", company="Erste"))
    first_link = confirmation_link("shared@example.org")
    client.post("/programme/signup/", signup_data("shared@example.org", company="Zweite"))
    second_link = confirmation_link("shared@example.org")
    assert first_link != second_link
    assert client.get(second_link).status_code == 200
    refused = client.get(first_link, headers={"accept-language": "en"})
    assert refused.status_code in (400, 409)  # the first sign-up is gone (or its address is taken)
    assert list(Business.objects.filter(email="shared@example.org").values_list("company", flat=True)) == ["Zweite"]
    assert Business.objects.get(company="Zweite").verified


def test_the_verified_address_is_unique_in_the_database():
    from django.db import IntegrityError, transaction

    first = make_business(email="eins@example.org", verified=True)
    second = make_business(email="EINS@example.org")  # unverified: allowed (a pending sign-up)
    with pytest.raises(services.ProgrammeError, match="another verified business"):
        make_business(email="Eins@Example.org", verified=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        Business.objects.filter(pk=second.pk).update(email_verified_at=first.email_verified_at)


def test_tampered_and_expired_confirmation_links_are_refused(client, settings):
    client.post("/programme/signup/", signup_data("bea@example.org", company="Bea"))
    link = confirmation_link("bea@example.org")
    token = link.rstrip("/").rsplit("/", 1)[1]
    tampered = client.get(f"/programme/signup/confirm/{token[:-3]}abc/")
    assert tampered.status_code == 400 and "Dieser Link ist ungültig" in tampered.content.decode()
    claim_kind = links.link_token(links.CLAIM, {"b": Business.objects.get(email="bea@example.org").pk})
    assert client.get(f"/programme/signup/confirm/{claim_kind}/").status_code == 400  # another kind of link
    settings.DIGIFIT_CONFIRMATION_MAX_AGE_HOURS = -1  # every link is older than that
    expired = client.get(link, headers={"accept-language": "en"})
    assert expired.status_code == 410 and "This link has expired" in expired.content.decode()
    fr = client.get(link, headers={"accept-language": "fr"})
    assert "Ce lien a expiré" in fr.content.decode()
    assert not Business.objects.get(email="bea@example.org").verified


# ----------------------------------------------------------------------------------------- claims


def test_an_unverified_account_cannot_claim(client):
    unverified = make_business(email="unbestaetigt@example.org")
    client.force_login(unverified.user)
    a = check_services.assessment_submit(answers=check_answers(email="unbestaetigt@example.org"))
    page = client.get(f"/programme/checks/{a.token}/claim/")
    assert "noch nicht bestätigt" in page.content.decode()
    refused = client.post(f"/programme/checks/{a.token}/claim/", {"action": "claim"})
    assert refused.status_code == 403 and "Nur ein Betriebskonto mit bestätigter E-Mail-Adresse" in refused.text
    assert Assessment.objects.get(pk=a.pk).owner is None
    with pytest.raises(services.ClaimRefused):
        services.check_claim(assessment=a, business=unverified)


def test_a_verified_business_claims_a_result_on_its_page(client):
    owner = verified_owner()
    a = check_services.assessment_submit(answers=check_answers())
    result = client.get(f"/check/r/{a.token}/").content.decode()
    assert f'href="/programme/checks/{a.token}/claim/"' in result
    client.force_login(owner.user)
    response = client.post(f"/programme/checks/{a.token}/claim/", {"action": "claim"})
    assert response.status_code == 302 and response["Location"] == f"/check/r/{a.token}/"
    a.refresh_from_db()
    assert a.owner == owner.user and a.claimed_at is not None
    assert f"/check/r/{a.token}/" in client.get("/programme/me/").content.decode()
    # another verified business cannot take it over
    other = verified_owner("andere@example.org", "Andere")
    client.force_login(other.user)
    assert client.post(f"/programme/checks/{a.token}/claim/", {"action": "claim"}).status_code == 403
    assert Assessment.objects.get(pk=a.pk).owner == owner.user


def test_a_claim_link_for_someone_elses_address_does_nothing_for_another_account(client):
    victim = verified_owner()
    attacker = verified_owner("mallory@example.org", "Angreifer GmbH")
    a = check_services.assessment_submit(answers=check_answers(email="laden@example.org"))
    sent = client.post(f"/programme/checks/{a.token}/claim/", {"email": "laden@example.org"})
    assert sent.status_code == 200 and 'id="claim-sent"' in sent.text
    link = confirmation_link("laden@example.org")
    message = OutboxMessage.objects.get(to="laden@example.org", key__startswith=f"programme.claim:{a.pk}:")
    assert a.token not in message.body_text  # the mail carries a claim link, not the private result link
    # not logged in: to the login first
    assert client.get(link)["Location"].startswith("/accounts/login/?next=")
    # the attacker (verified, another address) opens the victim's link: nothing is linked
    client.force_login(attacker.user)
    assert client.get(link).status_code == 403
    refused = client.post(link)
    assert refused.status_code == 403 and "an eine andere E-Mail-Adresse" in refused.text
    assert Assessment.objects.get(pk=a.pk).owner is None
    # the owner of the address opens it: shown, then linked on POST
    client.force_login(victim.user)
    assert 'type="submit"' in client.get(link).text
    assert client.post(link)["Location"] == "/programme/me/"
    assert Assessment.objects.get(pk=a.pk).owner == victim.user


def test_tampered_and_expired_claim_links_are_refused(client, settings):
    owner = verified_owner()
    a = check_services.assessment_submit(answers=check_answers())
    client.post(f"/programme/checks/{a.token}/claim/", {"email": "laden@example.org"})
    link = confirmation_link("laden@example.org")
    client.force_login(owner.user)
    token = link.rstrip("/").rsplit("/", 1)[1]
    forged = links.link_token(links.SIGNUP, {"a": a.pk, "e": "laden@example.org"})  # not a claim link
    for bad in (f"/programme/claim/{token[:-2]}zz/", f"/programme/claim/{forged}/"):
        response = client.post(bad, headers={"accept-language": "en"})
        assert response.status_code == 400 and "This link is not valid" in response.text
    settings.DIGIFIT_CONFIRMATION_MAX_AGE_HOURS = -1
    expired = client.post(link)
    assert expired.status_code == 410 and "Dieser Link ist abgelaufen" in expired.text
    assert Assessment.objects.get(pk=a.pk).owner is None


def test_claim_mails_are_limited_per_result_and_day(client):
    a = check_services.assessment_submit(answers=check_answers())
    for _ in range(2):
        client.post(f"/programme/checks/{a.token}/claim/", {"email": "eins@example.org"})
    for n in range(5):
        client.post(f"/programme/checks/{a.token}/claim/", {"email": f"weitere{n}@example.org"})
    assert OutboxMessage.objects.filter(key__startswith=f"programme.claim:{a.pk}:").count() == 3
    assert OutboxMessage.objects.filter(to="eins@example.org").count() == 1


# ----------------------------------------------------------------------------------------- reach


def test_a_typed_email_does_not_count_toward_reach_a_claim_does():
    business = verified_owner()
    a = check_services.assessment_submit(answers=check_answers(email="laden@example.org"))
    assert selectors.checks_by_business() == {}
    [row] = [b for b in selectors.fit_inputs() if b.id == str(business.pk)]
    assert row.check_completed_on is None
    services.check_claim(assessment=a, business=business)
    [row] = [b for b in selectors.fit_inputs() if b.id == str(business.pk)]
    assert row.check_completed_on == timezone.localtime(a.completed_at).date()
    assert selectors.checks_by_business() == {business.pk: a.completed_at}


def test_a_claimed_check_of_an_unverified_business_does_not_count():
    business = make_business(email="spaeter@example.org")
    a = check_services.assessment_submit(answers=check_answers())
    check_services.assessment_claim(assessment=a, owner=business.user)  # e.g. claimed before a re-verification
    assert selectors.checks_by_business() == {}


# ----------------------------------------------------------------------------------------- cancellation links


def test_a_cancellation_link_expires_when_its_session_starts(client, series):
    from datetime import timedelta

    from digifit.programme.models import Registration, Session

    session = Session.objects.filter(series=series).order_by("start").first()
    reg = Registration.objects.create(
        session=session, business=make_business(), role="follower", status="confirmed", sector="retail"
    )
    token = services.cancel_token(reg)
    assert session.start < timezone.now() - timedelta(days=1)  # the fixture's first session is long past
    page = client.get(f"/programme/cancel/{token}/", headers={"accept-language": "en"})
    assert page.status_code == 410 and "This cancellation link has expired" in page.text
    assert client.post(f"/programme/cancel/{token}/").status_code == 410
    assert Registration.objects.get(pk=reg.pk).status == "confirmed"
    bad = client.get(f"/programme/cancel/{token}x/")
    assert bad.status_code == 404 and "Dieser Abmeldelink ist ungültig" in bad.text
