"""The coach's agenda: only confirmed registrations are attendees, attendance only from the session's start
(refused before with a message in the UI language), "all present", and the agenda in the navigation."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from digifit.programme import roles, services
from digifit.programme.errors import AttendanceRefused
from digifit.programme.models import Registration, Session

from .conftest import make_business, make_series

pytestmark = pytest.mark.django_db


@pytest.fixture
def coach(client):
    user = get_user_model().objects.create_user(username="coach", password="pw-Secret-123")
    roles.user_role_assign(user=user, role=roles.COACH)
    client.force_login(user)
    return client


def _session(*, past: bool) -> Session:
    """A session of a one-active-place series: a week ago (started and over) or in a week (not started)."""
    today = timezone.localdate()
    series = make_series(
        start=today - timedelta(days=21), through=today + timedelta(days=21), active_capacity=1, follower_capacity=1
    )
    now = timezone.now()
    qs = Session.objects.filter(series=series)
    return (qs.filter(start__lt=now).order_by("-start") if past else qs.filter(start__gt=now).order_by("start"))[0]


def _fill(session: Session) -> dict[str, Registration]:
    """Two confirmed (one active, one follower), one waitlisted, one cancelled registration."""
    before = session.start - timedelta(days=3)
    cancelled = services.session_register(session=session, business=make_business(), role="follower", now=before)
    services.registration_cancel(registration=cancelled, now=before, notify=False)
    regs = {
        "active": services.session_register(
            session=session, business=make_business(), role="active", question="Wie Shop?", now=before
        ),
        "follower": services.session_register(session=session, business=make_business(), role="follower", now=before),
        "waiting": services.session_register(
            session=session, business=make_business(), role="active", question="Auch Shop?", now=before
        ),
        "cancelled": cancelled,
    }
    for r in regs.values():
        r.refresh_from_db()
    statuses = [regs[k].status for k in ("active", "follower", "waiting", "cancelled")]
    assert statuses == ["confirmed", "confirmed", "waitlisted", "cancelled"]
    return regs


def test_only_confirmed_registrations_are_attendees(coach):
    session = _session(past=False)
    regs = _fill(session)
    html = coach.get(f"/programme/coach/sessions/{session.pk}/", headers={"Accept-Language": "de"}).content.decode()
    attendance = html[html.index('id="attendance"') : html.index("</section>", html.index('id="attendance"'))]
    assert f'id="reg-{regs["active"].pk}"' in attendance and f'id="reg-{regs["follower"].pk}"' in attendance
    assert f'id="reg-{regs["waiting"].pk}"' not in attendance and f'id="reg-{regs["cancelled"].pk}"' not in attendance
    assert regs["cancelled"].business.company not in html  # cancelled: nowhere on the agenda
    waitlist = html[html.index('id="waitlist"') :]
    assert regs["waiting"].business.company in waitlist[: waitlist.index("</ol>")]
    assert 'data-nav="agenda"' in html


def test_attendance_is_refused_before_the_session_starts_in_the_ui_language(coach):
    session = _session(past=False)
    reg = _fill(session)["active"]
    html = coach.get(f"/programme/coach/sessions/{session.pk}/", headers={"Accept-Language": "de"}).content.decode()
    assert f'action="/programme/coach/registrations/{reg.pk}/attendance"' not in html  # no buttons yet
    assert 'id="all-present"' not in html
    url = f"/programme/coach/registrations/{reg.pk}/attendance"
    refused = coach.post(url, {"attended": "yes"}, headers={"HX-Request": "true", "Accept-Language": "de"})
    assert refused.status_code == 409
    assert "Anwesenheit kann ab Beginn der Sitzung" in refused.content.decode()
    page = coach.post(url, {"attended": "yes"}, headers={"Accept-Language": "en"})
    assert page.status_code == 409 and "Attendance can be marked from the start" in page.content.decode()
    all_present = coach.post(f"/programme/coach/sessions/{session.pk}/all-present", headers={"Accept-Language": "fr"})
    assert all_present.status_code == 409 and "présence" in all_present.content.decode()
    reg.refresh_from_db()
    assert reg.attended is None
    assert Registration.objects.filter(session=session, attended__isnull=False).count() == 0


def test_attendance_from_the_start_and_all_present_leaves_absent_ones_absent(coach):
    session = _session(past=True)
    regs = _fill(session)
    html = coach.get(f"/programme/coach/sessions/{session.pk}/").content.decode()
    assert 'id="all-present"' in html
    absent = coach.post(
        f"/programme/coach/registrations/{regs['follower'].pk}/attendance",
        {"attended": "no", "note": "krank"},
        headers={"HX-Request": "true"},
    )
    assert absent.status_code == 200 and f'id="reg-{regs["follower"].pk}"' in absent.content.decode()
    resp = coach.post(f"/programme/coach/sessions/{session.pk}/all-present", headers={"Accept-Language": "de"})
    assert resp.status_code == 302
    marked = {k: Registration.objects.get(pk=r.pk).attended for k, r in regs.items()}
    assert marked == {"active": True, "follower": False, "waiting": None, "cancelled": None}
    page = coach.get(resp["Location"], headers={"Accept-Language": "de"}).content.decode()
    assert "1 Person als anwesend markiert." in page
    # a waitlisted or cancelled registration is never an attendee
    for key in ("waiting", "cancelled"):
        refused = coach.post(f"/programme/coach/registrations/{regs[key].pk}/attendance", {"attended": "yes"})
        assert refused.status_code == 409
        assert Registration.objects.get(pk=regs[key].pk).attended is None


def test_the_service_refuses_before_the_start_at_any_second(db):
    session = _session(past=False)
    reg = _fill(session)["active"]
    with pytest.raises(AttendanceRefused):
        services.attendance_mark(registration=reg, attended=True, now=session.start - timedelta(seconds=1))
    services.attendance_mark(registration=reg, attended=True, now=session.start)
    reg.refresh_from_db()
    assert reg.attended is True
