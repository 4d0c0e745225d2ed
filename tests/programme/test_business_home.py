"""A business's home page ("Mein Programm"): upcoming sessions with the waitlist place and a calendar download,
earlier and cancelled ones apart, its Digital-Check results over time, dates in the page's language."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from digifit.programme import selectors, services
from digifit.programme.models import Registration

from .conftest import make_business, make_series

pytestmark = pytest.mark.django_db


@pytest.fixture
def session():
    today = timezone.localdate()
    series = make_series(start=today, through=today + timedelta(days=30), active_capacity=1, follower_capacity=1)
    return selectors.session_next(series=series)


def test_the_waitlist_place_follows_the_queue(client, session):
    first, second, third = make_business(), make_business(), make_business()
    for b in (first, second, third):
        services.session_register(session=session, business=b, role="follower")
    regs = {r.business_id: r for r in Registration.objects.filter(session=session)}
    assert [selectors.waitlist_position(regs[b.pk]) for b in (first, second, third)] == [None, 1, 2]
    client.force_login(third.user)
    page = client.get("/programme/me/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Warteliste, Platz 2" in page
    assert f"/programme/sessions/{session.pk}/session.ics" not in page  # no calendar entry without a place
    services.registration_cancel(registration=regs[first.pk])  # a place frees up: the second moves up
    page = client.get("/programme/me/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Warteliste, Platz 1" in page
    client.force_login(first.user)
    mine = client.get("/programme/me/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "1 frühere oder abgesagte Anmeldung" in mine and "abgesagt" in mine


def test_a_confirmed_place_has_its_calendar_file_and_a_localised_date(client, session):
    business = make_business()
    services.session_register(session=session, business=business, role="follower")
    client.force_login(business.user)
    de = client.get("/programme/me/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert f'href="/programme/sessions/{session.pk}/session.ics" download' in de
    local = timezone.localtime(session.start)
    months_de = [
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ]
    assert f"{local.day}. {months_de[local.month - 1]} {local.year}" in de
    en = client.get("/programme/me/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    months_en = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    assert f"{months_en[local.month - 1]}" in en and f"{local.day}. " not in en.split("my-sessions")[1][:600]
    assert client.get(f"/programme/sessions/{session.pk}/session.ics").status_code == 200


def test_check_results_over_time(client):
    from assessment.conftest import answers as check_answers

    from digifit.assessment import services as check_services
    from digifit.assessment.models import Assessment

    business = make_business(verified=True)
    first = check_services.assessment_submit(answers=check_answers())
    second = check_services.assessment_submit(answers=check_answers())
    Assessment.objects.filter(pk=first.pk).update(owner=business.user, claimed_at=timezone.now(), overall=40.0)
    Assessment.objects.filter(pk=second.pk).update(
        owner=business.user,
        claimed_at=timezone.now(),
        overall=52.5,
        completed_at=first.completed_at + timedelta(days=30),
    )
    client.force_login(business.user)
    page = client.get("/programme/me/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "digitale Reife 52,5 von 100 (+12,5 seit dem Ergebnis davor)" in page
    assert "digitale Reife 40,0 von 100</li>" in page  # the first has nothing to compare with
    assert page.index("Reife 52,5") < page.index("Reife 40,0")  # the latest first


@pytest.mark.parametrize(
    ("language", "weekday", "month"),
    [("de", "Dienstag, ", ". Dezember"), ("en", "Tuesday, ", " December"), ("fr", "mardi ", " décembre")],
)
def test_session_dates_read_as_the_pages_language_writes_them(client, language, weekday, month):
    from datetime import date

    series = make_series(slug="dez", start=date(2026, 12, 1), through=date(2026, 12, 31))
    session = series.sessions.order_by("start")[1]  # Tuesday 8 December 2026
    html = client.get(f"/programme/sessions/{session.pk}/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert f"{weekday}8{month} 2026" in html
    assert "8. December" not in html and "Tuesday, 8." not in html  # the German pattern with English names
