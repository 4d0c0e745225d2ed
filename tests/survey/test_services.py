"""Services used without HTTP: drafts page by page, completing a draft, wave rules."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from digifit.survey import services
from digifit.survey.errors import Conflict, NotAllowed, SubmissionRejected
from digifit.survey.models import Invitation, Submission

from .conftest import answers, new_id, xlsform_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def version():
    return services.questionnaire_version_add(content=xlsform_bytes(), filename="f.xlsx").version


def test_draft_is_saved_page_by_page_then_completed(version):
    wave = services.wave_create(questionnaire=version.questionnaire, name="w", status="open")
    inv = services.invitation_create(wave=wave, panel_id="P1", language="fr")
    iid = new_id()
    draft = services.submission_draft_save(
        questionnaire_version=version, instance_id=iid, data={"country": "FR"}, invitation=inv
    )
    assert draft.status == "draft" and draft.language == "fr" and draft.wave == wave
    assert Invitation.objects.get(pk=inv.pk).status == "started"
    services.submission_draft_save(
        questionnaire_version=version, instance_id=iid, data={"country": "FR", "employees": 3}, invitation=inv
    )
    assert Submission.objects.get(instance_id=iid).data == {"country": "FR", "employees": 3}
    with pytest.raises(SubmissionRejected, match="employees"):
        services.submission_draft_save(
            questionnaire_version=version, instance_id=iid, data={"employees": "many"}, invitation=inv
        )
    done = services.submission_submit(questionnaire_version=version, instance_id=iid, data=answers(), invitation=inv)
    assert done.submission.status == "complete" and done.submission.submitted_at is not None
    assert Submission.objects.count() == 1
    assert Invitation.objects.get(pk=inv.pk).status == "completed"
    with pytest.raises(Conflict, match="already submitted"):
        services.submission_draft_save(questionnaire_version=version, instance_id=iid, data={}, invitation=inv)


def test_wave_dates_decide_whether_it_takes_submissions(version):
    now = timezone.now()
    later = services.wave_create(
        questionnaire=version.questionnaire, name="later", status="open", opens_at=now + dt.timedelta(days=1)
    )
    assert not services.wave_accepts(later)
    with pytest.raises(NotAllowed, match="does not take submissions"):
        services.submission_submit(questionnaire_version=version, instance_id=new_id(), data=answers(), wave=later)
    past = services.wave_create(
        questionnaire=version.questionnaire,
        name="past",
        status="open",
        opens_at=now - dt.timedelta(days=30),
        closes_at=now - dt.timedelta(days=1),
    )
    assert not services.wave_accepts(past)
    assert Submission.objects.count() == 0


def test_wave_of_another_questionnaire_is_refused(version):
    other = xlsform_bytes(form_id="fob_other")
    other_version = services.questionnaire_version_add(content=other, filename="o.xlsx").version
    wave = services.wave_create(questionnaire=other_version.questionnaire, name="w", status="open")
    with pytest.raises(SubmissionRejected, match="another questionnaire"):
        services.submission_submit(questionnaire_version=version, instance_id=new_id(), data=answers(), wave=wave)
