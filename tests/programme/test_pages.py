"""The programme's pages: catalogue filters (HTMX), series page and feeds read by independent parsers,
registration and cancellation through the web, roles (coach agenda, organiser reach, a business sees only its own
data), GDPR export/delete, reach figures on a known history and the CSV export."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import recurring_ical_events
from django.contrib.auth import get_user_model
from django.utils import timezone
from ical.calendar_stream import IcsCalendarStream

from digifit.programme import roles, selectors, services
from digifit.programme.models import Business, Registration, Session

from .conftest import confirmation_link, make_business, make_series

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
def catalogue(db):
    services.training_upsert(
        slug="insta-handel",
        title="Instagram für den Handel",
        title_en="Instagram for retail",
        sectors="retail",
        topic="instagram",
        level="beginner",
        format="live",
    )
    services.training_upsert(
        slug="strategie",
        title="Digitale Strategie",
        sectors="all",
        topic="strategy",
        format="self_paced",
        language="en",
    )
    services.training_upsert(slug="reise-fb", title="Facebook für Reisebüros", sectors="travel", topic="facebook")
    t = services.training_upsert(
        slug="whatsapp-gastro", title="WhatsApp in der Gastronomie", sectors="gastronomy", topic="whatsapp"
    )
    services.story_publish(
        title="Vom Laden zum Onlineshop",
        company="Kaffeerösterei Berg",
        body="…",
        consent_given_at=timezone.now(),
        trainings=[t],
    )


def _user(role: str | None = None, name: str = "coach"):
    user = get_user_model().objects.create_user(username=name, password="pw-Secret-123")
    if role:
        roles.user_role_assign(user=user, role=role)
    return user


@pytest.mark.django_db
def test_catalogue_filters_and_htmx_partial(client, catalogue):
    page = client.get("/programme/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'hx-get="/programme/"' in html and "Vom Laden zum Onlineshop" in html
    part = client.get("/programme/", {"sector": "retail"}, headers={"HX-Request": "true"})
    rows = part.content.decode()
    assert "<html" not in rows
    assert 'data-training="insta-handel"' in rows and 'data-training="strategie"' in rows  # "all" sectors too
    assert 'data-training="reise-fb"' not in rows
    part = client.get("/programme/", {"topic": "whatsapp"}, headers={"HX-Request": "true"}).content.decode()
    assert 'data-training="whatsapp-gastro"' in part and "★ Vom Laden zum Onlineshop" in part
    part = client.get("/programme/", {"language": "en"}, headers={"HX-Request": "true"}).content.decode()
    assert part.count("data-training=") == 1
    english = client.get("/programme/", headers={"Accept-Language": "en"}, HTTP_ACCEPT_LANGUAGE="en")
    assert "Instagram for retail" in english.content.decode()


@pytest.mark.django_db
def test_series_page_links_its_feed_and_the_feed_expands_right(client):
    series = make_series(start=date(2026, 1, 6), through=date(2026, 12, 29), until=date(2026, 12, 29))
    services.series_exception_set(series=series, original_date=date(2026, 4, 7), kind="skip", reason="Ostern")
    page = client.get("/programme/series/dienstag/").content.decode()
    assert '<link rel="alternate" type="text/calendar"' in page and 'href="/programme/series/dienstag/feed.ics"' in page
    response = client.get("/programme/series/dienstag/feed.ics")
    assert response["Content-Type"].startswith("text/calendar")
    data = response.content
    query = recurring_ical_events.of(icalendar.Calendar.from_ical(data))
    for day, utc_hour in [
        (date(2026, 3, 24), 9),
        (date(2026, 3, 31), 8),
        (date(2026, 10, 20), 8),
        (date(2026, 10, 27), 9),
    ]:
        (event,) = query.at(day)
        assert event["DTSTART"].dt.astimezone(UTC).hour == utc_hour
        assert event["DTSTART"].dt.astimezone(BERLIN).time() == time(10)
    assert query.at(date(2026, 4, 7)) == []
    cal = IcsCalendarStream.calendar_from_ics(data.decode())
    starts = [
        e.dtstart.astimezone(UTC)
        for e in cal.timeline.overlapping(datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    ]
    db_starts = sorted(s.start for s in Session.objects.filter(series=series, cancelled=False))
    assert starts == db_starts
    assert b"SOURCE;VALUE=URI:http://testserver/programme/series/dienstag/feed.ics" in data.replace(b"\r\n ", b"")


@pytest.mark.django_db
def test_register_through_the_web_and_cancel_by_link(client):
    series = make_series(start=timezone.localdate(), through=timezone.localdate() + timedelta(days=30))
    session = Session.objects.filter(series=series, start__gt=timezone.now() + timedelta(days=1)).first()
    page = client.get(f"/programme/sessions/{session.pk}/")
    assert "/programme/signup/?next=" in page.content.decode()
    response = client.post(
        "/programme/signup/",
        {
            "company": "Laden Müller",
            "sector": "retail",
            "size_class": "micro",
            "region": "BY",
            "contact_name": "Anna Müller",
            "email": "anna@example.org",
            "language": "de",
            "password": "ein-langes-Passwort-42",
            "consent": "on",
            "next": f"/programme/sessions/{session.pk}/",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/programme/signup/sent/"
    business = Business.objects.get(email="anna@example.org")
    assert business.consent_version == services.CONSENT_VERSION and business.consent_given_at
    assert not business.verified and not business.user.is_active  # nothing works before the address is confirmed
    confirmed = client.get(confirmation_link("anna@example.org"))
    assert confirmed.status_code == 200 and "E-Mail-Adresse bestätigt" in confirmed.content.decode()
    assert f"next=%2Fprogramme%2Fsessions%2F{session.pk}%2F" in confirmed.content.decode()
    business.refresh_from_db()
    assert business.verified and business.user.is_active and business.user.username == "anna@example.org"
    response = client.post(
        f"/accounts/login/?next=/programme/sessions/{session.pk}/",
        {"username": "anna@example.org", "password": "ein-langes-Passwort-42"},
    )
    assert response.status_code == 302 and response["Location"] == f"/programme/sessions/{session.pk}/"
    response = client.post(f"/programme/sessions/{session.pk}/", {"role": "active", "question": ""})
    assert "question" in response.content.decode()
    client.post(f"/programme/sessions/{session.pk}/", {"role": "active", "question": "Wie verkaufe ich online?"})
    reg = Registration.objects.get(business=business)
    assert reg.status == "confirmed" and reg.sector == "retail"
    # personal feed: the confirmed session, read by two parsers
    feed = client.get(f"/programme/feed/{business.feed_token}.ics").content
    [event] = icalendar.Calendar.from_ical(feed).walk("VEVENT")
    assert event.decoded("dtstart").astimezone(UTC) == session.start
    assert len(list(IcsCalendarStream.calendar_from_ics(feed.decode()).timeline)) == 1
    assert client.get("/programme/feed/wrong-token.ics").status_code == 404
    token = services.cancel_token(reg)
    assert "Possible until" in client.get(f"/programme/cancel/{token}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    client.post(f"/programme/cancel/{token}/")
    assert Registration.objects.get(pk=reg.pk).status == "cancelled"
    assert client.get(f"/programme/cancel/{token}x/").status_code == 404


@pytest.mark.django_db
def test_roles_coach_agenda_and_only_own_data(client):
    series = make_series(start=timezone.localdate(), through=timezone.localdate() + timedelta(days=30))
    session = selectors.session_next(series=series)
    a = make_business(sector="retail")
    b = make_business(sector="travel")
    services.session_register(session=session, business=a, role="active", question="Frage Handel")
    services.session_register(session=session, business=b, role="active", question="Frage Reise")
    services.session_register(session=session, business=make_business(), role="follower")
    # a business: its own page only, no agenda, no reach
    client.force_login(a.user)
    mine = client.get("/programme/me/").content.decode()
    assert a.company in mine and b.company not in mine
    assert client.get("/programme/coach/").status_code == 403
    assert client.get("/programme/reach/").status_code == 403
    export = json.loads(client.get("/programme/me/export.json").content)
    assert export["profile"]["company"] == a.company and len(export["registrations"]) == 1
    assert "Frage Reise" not in json.dumps(export)
    # a coach: the agenda grouped by sector, attendance by HTMX
    client.force_login(_user(roles.COACH))
    agenda = client.get("/programme/coach/").content.decode()
    assert agenda.index("Frage Reise") < agenda.index("Frage Handel")  # travel, gastronomy, retail order
    assert "Reise" in agenda and "Handel" in agenda
    reg = Registration.objects.get(business=a)
    row = client.post(
        f"/programme/coach/registrations/{reg.pk}/attendance",
        {"attended": "yes", "note": "gut"},
        headers={"HX-Request": "true"},
    )
    assert row.status_code == 409  # the session has not started: attendance only from its start (test_coach.py)
    reg.refresh_from_db()
    assert reg.attended is None and reg.coach_note == ""
    assert client.get("/programme/reach/").status_code == 403
    client.force_login(_user(roles.ORGANISER, "orga"))
    assert client.get("/programme/reach/").status_code == 200


@pytest.mark.django_db
def test_gdpr_delete_through_the_web(client):
    business = make_business()
    client.force_login(business.user)
    client.post("/programme/me/delete/", {})
    assert Business.objects.filter(pk=business.pk).exists()
    client.post("/programme/me/delete/", {"confirm": "yes"})
    assert not Business.objects.filter(pk=business.pk).exists()


@pytest.mark.django_db
def test_reach_figures_on_a_known_history(client, settings, monkeypatch):
    """12 businesses: 8 attended, 5 of those completed the check → 5 fit; by sector and region; CSV."""
    settings.DIGIFIT_REACH_TARGET, settings.DIGIFIT_REACH_DEADLINE = 100, "2026-12-31"
    series = make_series(start=date(2026, 1, 6), through=date(2026, 3, 31))
    sessions = list(Session.objects.filter(series=series).order_by("start"))
    businesses = [
        make_business(sector=["retail", "travel", "gastronomy"][i % 3], region=["BY", "BE"][i % 2]) for i in range(12)
    ]
    for i, b in enumerate(businesses):
        Business.objects.filter(pk=b.pk).update(created_at=datetime(2026, 1, 5, 9, tzinfo=UTC) + timedelta(weeks=i % 6))
        if i < 8:
            session = sessions[i % 6 + 1]
            reg = services.session_register(
                session=session, business=b, role="follower", now=session.start - timedelta(days=3)
            )
            services.attendance_mark(registration=reg, attended=True)
    checks = {businesses[i].pk: date(2026, 2, 20) for i in (0, 1, 2, 3, 4, 9)}  # 9 never attended
    monkeypatch.setattr(selectors, "completed_checks", lambda: (checks, "test"))
    s = selectors.reach_summary(as_of=date(2026, 3, 31))
    assert (s.total.registered, s.total.attended, s.total.fit) == (12, 8, 5)
    by_sector = {r.group[0][1]: (r.registered, r.attended, r.fit) for r in s.by["sector"]}
    assert by_sector == {"gastronomy": (4, 2, 1), "retail": (4, 3, 2), "travel": (4, 3, 2)}
    by_region = {r.group[0][1]: (r.registered, r.attended, r.fit) for r in s.by["region"]}
    assert by_region == {"BE": (6, 4, 2), "BY": (6, 4, 3)}
    assert s.forecast is not None and s.forecast.target == 100 and s.forecast.reached == 5
    client.force_login(_user(roles.ORGANISER, "orga"))
    page = client.get("/programme/reach/").content.decode()
    assert 'id="fit-count">5<' in page and 'id="forecast"' in page
    rows = list(csv.DictReader(io.StringIO(client.get("/programme/reach.csv", {"by": "sector"}).content.decode())))
    assert rows == [
        {"sector": "gastronomy", "sector_label": "Gastronomie", "registered": "4", "attended": "2", "fit": "1"},
        {"sector": "retail", "sector_label": "Handel", "registered": "4", "attended": "3", "fit": "2"},
        {"sector": "travel", "sector_label": "Reise", "registered": "4", "attended": "3", "fit": "2"},
    ]
    assert client.get("/programme/reach.csv", {"by": "colour"}).status_code == 400


@pytest.mark.django_db
def test_admin_series_save_generates_sessions(admin_client):
    response = admin_client.post(
        "/manage/programme/series/add/",
        {
            "slug": "mittwoch",
            "title": "Mittwochs-Sprechstunde",
            "weekday": "WE",
            "start_time": "10:00",
            "duration_minutes": "60",
            "tz": "Europe/Berlin",
            "start_date": "2026-01-01",
            "until": "2026-03-31",
            "active_capacity": "5",
            "follower_capacity": "100",
            "language": "de",
            "sectors": "retail",
            "sequence": "0",
            "exceptions-TOTAL_FORMS": "1",
            "exceptions-INITIAL_FORMS": "0",
            "exceptions-0-original_date": "2026-02-18",
            "exceptions-0-kind": "skip",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    sessions = Session.objects.filter(series__slug="mittwoch")
    assert sessions.filter(cancelled=False).count() == 11  # 12 Wednesdays, one skipped
    assert not sessions.filter(original_date=date(2026, 2, 18), cancelled=False).exists()
    assert all(s.start.astimezone(BERLIN).weekday() == 2 for s in sessions)
