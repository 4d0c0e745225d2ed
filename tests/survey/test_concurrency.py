"""Many clients posting the same instanceID at once: exactly one row, no error for identical answers."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from digifit.survey import selectors, services
from digifit.survey.errors import Conflict
from digifit.survey.models import Submission

from .conftest import answers, new_id, xlsform_bytes

THREADS = 8


@pytest.mark.django_db(transaction=True)
def test_concurrent_posts_of_one_instance_store_it_once():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need a server database; run with DATABASE_URL=postgres://… (make test does)")
    version = services.questionnaire_version_add(content=xlsform_bytes(), filename="f.xlsx").version
    wave = services.wave_create(questionnaire=version.questionnaire, name="w", status="open")
    same, other = new_id(), new_id()
    barrier = threading.Barrier(THREADS * 2)
    outcomes: list[tuple[str, str]] = []
    lock = threading.Lock()

    def post(instance_id: str, employees: int) -> None:
        try:
            barrier.wait()
            v = selectors.version_get(form_id="fob_test")
            result = services.submission_submit(
                questionnaire_version=v, instance_id=instance_id, data=answers(employees=employees), wave=wave
            )
            outcome = "created" if result.created else "same"
        except Conflict:
            outcome = "conflict"
        except Exception as exc:  # anything else is a failure of the test
            outcome = f"error {type(exc).__name__}: {exc}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append((instance_id, outcome))

    threads = [threading.Thread(target=post, args=(same, 12)) for _ in range(THREADS)]
    threads += [threading.Thread(target=post, args=(other, 10 + i)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    same_outcomes = sorted(o for i, o in outcomes if i == same)
    other_outcomes = sorted(o for i, o in outcomes if i == other)
    assert same_outcomes == ["created"] + ["same"] * (THREADS - 1)
    assert other_outcomes == ["conflict"] * (THREADS - 1) + ["created"]
    assert Submission.objects.filter(instance_id=same).count() == 1
    assert Submission.objects.filter(instance_id=other).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_answers_to_one_invitation_store_one():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need a server database; run with DATABASE_URL=postgres://… (make test does)")
    from digifit.survey.errors import NotAllowed
    from digifit.survey.models import Invitation

    version = services.questionnaire_version_add(content=xlsform_bytes(), filename="f.xlsx").version
    wave = services.wave_create(questionnaire=version.questionnaire, name="w", status="open")
    invitation = services.invitation_create(wave=wave, panel_id="P1")
    barrier = threading.Barrier(THREADS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def post() -> None:
        try:
            barrier.wait()
            inv = Invitation.objects.select_related("wave").get(pk=invitation.pk)
            services.submission_submit(
                questionnaire_version=version, instance_id=new_id(), data=answers(), invitation=inv
            )
            outcome = "created"
        except NotAllowed:
            outcome = "refused"
        except Exception as exc:
            outcome = f"error {type(exc).__name__}: {exc}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=post) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["created"] + ["refused"] * (THREADS - 1)
    assert Submission.objects.filter(invitation=invitation).count() == 1
