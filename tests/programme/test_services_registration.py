"""Registration, waitlist, cancellation, reminders and e-mails (services, on the test database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import icalendar
import pytest

from digifit.notifications.models import OutboxMessage
from digifit.programme import selectors, services
from digifit.programme.errors import CancellationLinkExpired, CancellationRefused, RegistrationRefused
from digifit.programme.models import Registration, Session

from .conftest import make_business

NOW = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)  # a Friday; the next session is Tuesday 24 March


def _session(series, day=date(2026, 3, 24)) -> Session:
    return Session.objects.get(series=series, original_date=day)


@pytest.mark.django_db
def test_sessions_follow_the_recurrence_across_dst(series):
    starts = {s.original_date: s.start for s in Session.objects.filter(series=series)}
    assert starts[date(2026, 3, 24)] == datetime(2026, 3, 24, 9, 0, tzinfo=UTC)  # 10:00 CET
    assert starts[date(2026, 3, 31)] == datetime(2026, 3, 31, 8, 0, tzinfo=UTC)  # 10:00 CEST
    assert starts[date(2026, 10, 20)] == datetime(2026, 10, 20, 8, 0, tzinfo=UTC)
    assert starts[date(2026, 10, 27)] == datetime(2026, 10, 27, 9, 0, tzinfo=UTC)
    assert all(s.start.weekday() == 1 for s in Session.objects.all())
    assert Session.objects.count() == 52


@pytest.mark.django_db
def test_skip_and_move_update_sessions(series):
    from zoneinfo import ZoneInfo

    services.series_exception_set(series=series, original_date=date(2026, 4, 7), kind="skip", reason="Ostern")
    new = datetime(2026, 5, 6, 14, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    services.series_exception_set(series=series, original_date=date(2026, 5, 5), kind="move", new_start=new)
    assert _session(series, date(2026, 4, 7)).cancelled
    moved = _session(series, date(2026, 5, 5))
    assert moved.moved and moved.start == new and moved.end == new + timedelta(hours=1)
    assert date(2026, 4, 7) not in [s.original_date for s in selectors.session_list(series=series, now=NOW)]


@pytest.mark.django_db
def test_register_confirms_until_full_then_waitlists(series):
    session = _session(series)
    regs = [
        services.session_register(
            session=session, business=make_business(), role="active", question=f"Frage {i}", now=NOW
        )
        for i in range(7)
    ]
    assert [r.status for r in regs] == ["confirmed"] * 5 + ["waitlisted"] * 2
    follower = services.session_register(session=session, business=make_business(), role="follower", now=NOW)
    assert follower.status == "confirmed"
    with pytest.raises(RegistrationRefused, match="already registered"):
        services.session_register(session=session, business=regs[0].business, role="follower", now=NOW)
    with pytest.raises(RegistrationRefused, match="question"):
        services.session_register(session=session, business=make_business(), role="active", now=NOW)
    keys = set(OutboxMessage.objects.values_list("key", flat=True))
    assert f"programme.confirmed:{regs[0].pk}" in keys and f"programme.waitlisted:{regs[5].pk}" in keys
    # reminders at 24 h and 1 h for confirmed ones only
    assert OutboxMessage.objects.filter(key__startswith=f"programme.reminder:{regs[0].pk}:").count() == 2
    assert not OutboxMessage.objects.filter(key__startswith=f"programme.reminder:{regs[5].pk}:").exists()


@pytest.mark.django_db
def test_confirmation_carries_a_correct_calendar_entry(series):
    reg = services.session_register(
        session=_session(series, date(2026, 3, 31)), business=make_business(), role="active", question="Q", now=NOW
    )
    message = OutboxMessage.objects.get(key=f"programme.confirmed:{reg.pk}")
    assert message.language == "de" and "bestätigt" in message.subject
    import base64

    _name, content, mimetype = message.attachments[0]
    cal = icalendar.Calendar.from_ical(base64.b64decode(content))
    [event] = [c for c in cal.walk("VEVENT")]
    assert event.decoded("dtstart").astimezone(UTC) == datetime(2026, 3, 31, 8, 0, tzinfo=UTC)
    assert str(event["uid"]) == "dienstag-20260331@digifit"
    assert cal["method"] == "REQUEST" and mimetype.startswith("text/calendar")
    assert [c.name for c in cal.subcomponents].count("VTIMEZONE") == 1


@pytest.mark.django_db
def test_reminders_in_the_registrants_language(series):
    reg = services.session_register(
        session=_session(series), business=make_business(language="fr"), role="follower", now=NOW
    )
    reminders = OutboxMessage.objects.filter(key__startswith=f"programme.reminder:{reg.pk}:").order_by("send_at")
    assert [m.send_at for m in reminders] == [
        datetime(2026, 3, 23, 9, 0, tzinfo=UTC),
        datetime(2026, 3, 24, 8, 0, tzinfo=UTC),
    ]
    assert all(m.subject.startswith("Rappel") and m.language == "fr" for m in reminders)


@pytest.mark.django_db
def test_cancel_promotes_the_first_waitlisted_once_and_withdraws_reminders(series):
    session = _session(series)
    session = services.session_capacity_set(session=session, active=1, follower=10, now=NOW)
    first = services.session_register(session=session, business=make_business(), role="active", question="a", now=NOW)
    second = services.session_register(session=session, business=make_business(), role="active", question="b", now=NOW)
    third = services.session_register(session=session, business=make_business(), role="active", question="c", now=NOW)
    assert (second.status, third.status) == ("waitlisted", "waitlisted")
    services.registration_cancel(registration=first, now=NOW)
    services.registration_cancel(registration=first, now=NOW)  # a second click changes nothing
    statuses = dict(Registration.objects.values_list("pk", "status"))
    assert statuses == {first.pk: "cancelled", second.pk: "confirmed", third.pk: "waitlisted"}
    assert OutboxMessage.objects.filter(key=f"programme.promoted:{second.pk}").count() == 1
    assert set(
        OutboxMessage.objects.filter(key__startswith=f"programme.reminder:{first.pk}:").values_list("state", flat=True)
    ) == {"cancelled"}


@pytest.mark.django_db
def test_cancel_by_signed_link_until_the_deadline(series):
    reg = services.session_register(session=_session(series), business=make_business(), role="follower", now=NOW)
    token = services.cancel_token(reg)
    assert services.registration_from_token(token, now=NOW).pk == reg.pk
    with pytest.raises(CancellationRefused, match="not valid"):
        services.registration_from_token(token[:-2] + "xx", now=NOW)
    # the link expires with the session: from its start on it is refused
    with pytest.raises(CancellationLinkExpired, match="expired"):
        services.registration_from_token(token, now=reg.session.start)
    late = datetime(2026, 3, 24, 8, 30, tzinfo=UTC)  # 09:30 Berlin, deadline 08:00
    with pytest.raises(CancellationRefused, match="deadline"):
        services.registration_cancel(registration=reg, now=late)
    services.registration_cancel(registration=reg, now=NOW)
    assert Registration.objects.get(pk=reg.pk).status == "cancelled"


@pytest.mark.django_db
def test_no_registration_for_a_started_or_cancelled_session(series):
    session = _session(series)
    with pytest.raises(RegistrationRefused, match="already started"):
        services.session_register(session=session, business=make_business(), role="follower", now=session.start)
    services.series_exception_set(series=series, original_date=date(2026, 3, 24), kind="skip")
    with pytest.raises(RegistrationRefused, match="cancelled"):
        services.session_register(session=session, business=make_business(), role="follower", now=NOW)


@pytest.mark.django_db
def test_recording_is_mailed_once_to_confirmed_registrants(series):
    session = _session(series)
    a = services.session_register(session=session, business=make_business(), role="follower", now=NOW)
    services.session_register(session=session, business=make_business(), role="active", question="x", now=NOW)
    services.registration_cancel(registration=a, now=NOW)
    assert services.recording_publish(session=session, url="https://video.example.org/1") == 1
    assert services.recording_publish(session=session, url="https://video.example.org/1") == 0


@pytest.mark.django_db
def test_gdpr_export_and_delete(series):
    business = make_business()
    session = services.session_capacity_set(session=_session(series), active=1, follower=5, now=NOW)
    mine = services.session_register(session=session, business=business, role="active", question="Shop?", now=NOW)
    other = services.session_register(session=session, business=make_business(), role="active", question="x", now=NOW)
    data = services.business_export(business=business)
    assert data["consent"]["version"] == services.CONSENT_VERSION and data["consent"]["purpose"]
    assert data["registrations"][0]["question"] == "Shop?"
    import json

    json.dumps(data)
    user = business.user
    services.business_delete(business=business, now=NOW)
    assert not Registration.objects.filter(pk=mine.pk).exists()
    assert Registration.objects.get(pk=other.pk).status == "confirmed"  # moved up
    assert not OutboxMessage.objects.filter(to=business.email).exists()
    from django.contrib.auth import get_user_model

    assert not get_user_model().objects.filter(pk=user.pk).exists()


@pytest.mark.django_db
def test_learning_path_selectors(series):
    services.training_upsert(slug="insta", title="Instagram für den Handel", sectors="retail", topic="instagram")
    services.training_upsert(slug="all", title="Digitale Strategie", sectors="all", topic="strategy")
    services.training_upsert(slug="reise", title="Reise", sectors="travel", topic="facebook", language="en")
    assert [t.slug for t in selectors.training_list(sector="retail")] == ["all", "insta"]
    assert [t.slug for t in selectors.training_list(topics=["facebook"], language="en")] == ["reise"]
    upcoming = selectors.session_upcoming_list(sector="retail", limit=3, now=NOW)
    assert [s.original_date for s in upcoming] == [date(2026, 3, 24), date(2026, 3, 31), date(2026, 4, 7)]


@pytest.mark.django_db
def test_cancellation_mail_removes_the_calendar_entry(series):
    import base64

    reg = services.session_register(session=_session(series), business=make_business(), role="follower", now=NOW)
    services.registration_cancel(registration=reg, now=NOW)
    message = OutboxMessage.objects.get(key=f"programme.cancelled:{reg.pk}")
    _name, content, mimetype = message.attachments[0]
    cal = icalendar.Calendar.from_ical(base64.b64decode(content))
    [event] = cal.walk("VEVENT")
    assert (str(cal["method"]), str(event["status"])) == ("CANCEL", "CANCELLED")
    assert str(event["uid"]) == "dienstag-20260324@digifit" and int(event["sequence"]) == 1
    assert "method=CANCEL" in mimetype


@pytest.mark.django_db
def test_moving_a_session_requeues_its_reminders():
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    from .conftest import make_series

    today = timezone.localdate()
    series = make_series(slug="bald", start=today + timedelta(days=14), through=today + timedelta(days=60))
    session = Session.objects.filter(series=series).order_by("start").first()
    reg = services.session_register(session=session, business=make_business(), role="follower")
    new = datetime.combine(session.original_date + timedelta(days=1), datetime.min.time(), ZoneInfo("Europe/Berlin"))
    new = new.replace(hour=15)
    services.series_exception_set(series=series, original_date=session.original_date, kind="move", new_start=new)
    reminders = OutboxMessage.objects.filter(key__startswith=f"programme.reminder:{reg.pk}:")
    assert sorted(reminders.filter(state="pending").values_list("send_at", flat=True)) == [
        new - timedelta(hours=24),
        new - timedelta(hours=1),
    ]
    assert reminders.filter(state="cancelled").count() == 2
