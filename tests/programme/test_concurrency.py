"""No overbooking and a fair waitlist under concurrency (PostgreSQL, real threads, one connection each).

``session_register`` and ``registration_cancel`` lock the session row; without that lock these tests fail
(checked once by removing each ``select_for_update()``: 50 parallel registrations confirmed 15 for 10 places;
six parallel cancellations, with the window between counting and writing widened by 50 ms, all promoted the
same waiting business and left places empty: 6 and 8 of 10 confirmed in two runs).
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
from django.db import connection, connections

from digifit.notifications.models import OutboxMessage
from digifit.programme import services
from digifit.programme.errors import RegistrationRefused
from digifit.programme.models import Registration, Session

from .conftest import make_business, make_series

NOW = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
pytestmark = pytest.mark.django_db(transaction=True)


def _needs_postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need a server database; run with DATABASE_URL=postgres://… (make test does)")


def _parallel(target, args_list) -> list[str]:
    barrier = threading.Barrier(len(args_list))
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(*args) -> None:
        try:
            barrier.wait()
            outcome = target(*args)
        except RegistrationRefused as exc:
            outcome = f"refused: {exc}"
        except Exception as exc:
            outcome = f"error {type(exc).__name__}: {exc}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=args) for args in args_list]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return outcomes


def test_fifty_parallel_registrations_for_ten_places_confirm_exactly_ten():
    _needs_postgres()
    series = make_series(through=date(2026, 4, 30), active_capacity=10)
    session = Session.objects.get(series=series, original_date=date(2026, 3, 24))
    businesses = [make_business() for _ in range(50)]

    def register(business) -> str:
        s = Session.objects.get(pk=session.pk)
        return services.session_register(session=s, business=business, role="active", question="?", now=NOW).status

    outcomes = _parallel(register, [(b,) for b in businesses])
    n = outcomes.count("confirmed")
    assert n == 10, f"{n} confirmed for 10 places: {sorted(set(outcomes))}"
    assert sorted(outcomes) == ["confirmed"] * 10 + ["waitlisted"] * 40, outcomes
    regs = Registration.objects.filter(session=session)
    assert regs.filter(status="confirmed").count() == 10
    assert OutboxMessage.objects.filter(key__startswith="programme.confirmed:").count() == 10
    assert OutboxMessage.objects.filter(key__startswith="programme.waitlisted:").count() == 40


def test_parallel_cancellations_promote_each_waitlisted_exactly_once_in_order(monkeypatch):
    _needs_postgres()
    import time

    counted = services._taken

    def slow_count(session, role):  # widen the window between counting free places and writing
        n = counted(session, role)
        time.sleep(0.05)
        return n

    series = make_series(through=date(2026, 4, 30), active_capacity=10)
    session = Session.objects.get(series=series, original_date=date(2026, 3, 24))
    regs = [
        services.session_register(session=session, business=make_business(), role="active", question="?", now=NOW)
        for _ in range(25)
    ]
    confirmed, waiting = regs[:10], regs[10:]
    assert {r.status for r in confirmed} == {"confirmed"} and {r.status for r in waiting} == {"waitlisted"}
    monkeypatch.setattr(services, "_taken", slow_count)

    def cancel(reg) -> str:
        return services.registration_cancel(registration=Registration.objects.get(pk=reg.pk), now=NOW).status

    def state() -> tuple[set[int], set[int]]:
        regs = Registration.objects.filter(session=session)
        return (
            set(regs.filter(status="confirmed").values_list("pk", flat=True)),
            set(regs.filter(status="waitlisted").values_list("pk", flat=True)),
        )

    # six different businesses cancel at the same moment: the first six waiting move up, in order
    assert _parallel(cancel, [(r,) for r in confirmed[:6]]) == ["cancelled"] * 6
    now_confirmed, now_waiting = state()
    assert len(now_confirmed) == 10
    assert {r.pk for r in waiting[:6]} <= now_confirmed
    assert now_waiting == {r.pk for r in waiting[6:]}
    # two more cancellations, each sent twice at once (a double click): two more move up, not four
    assert _parallel(cancel, [(r,) for r in confirmed[6:8]] * 2) == ["cancelled"] * 4
    now_confirmed, now_waiting = state()
    assert len(now_confirmed) == 10 and {r.pk for r in waiting[:8]} <= now_confirmed
    assert now_waiting == {r.pk for r in waiting[8:]}
    for reg in waiting[:8]:
        assert OutboxMessage.objects.filter(key=f"programme.promoted:{reg.pk}").count() == 1
    assert OutboxMessage.objects.filter(key__startswith="programme.promoted:").count() == 8
