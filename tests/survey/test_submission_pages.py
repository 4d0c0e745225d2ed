"""The submissions table and a submission's page as staff read them: labels in the page's language (never the
codes alone), filters by review state and version, and the review state set by survey managers."""

from __future__ import annotations

import pytest

from digifit.survey import services
from digifit.survey.models import Submission, Wave

from .conftest import answers, login_as, new_id, xlsform_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def wave():
    v1 = services.questionnaire_version_add(content=xlsform_bytes(version="1")).version
    v2 = services.questionnaire_version_add(content=xlsform_bytes(version="2", extra_field=True)).version
    wave = services.wave_create(questionnaire=v1.questionnaire, name="2026-11", status=Wave.Status.OPEN)
    for version, country, panel in ((v1, "DE", "P-DE"), (v2, "FR", "P-FR")):
        services.submission_submit(
            questionnaire_version=version,
            instance_id=new_id(),
            data=answers(country=country),
            wave=wave,
            panel_id=panel,
        )
    return wave


@pytest.mark.parametrize(
    ("language", "country", "channels", "question"),
    [
        ("de", "Deutschland", "Webseite, Onlineshop", "Beschäftigte"),
        ("en", "Germany", "Website, Online shop", "Employees"),
    ],
)
def test_answers_show_labels_in_the_pages_language_with_the_code_beside(
    client, wave, language, country, channels, question
):
    login_as(client, "analyst")
    sub = Submission.objects.get(panel_id="P-DE")
    html = client.get(f"/submissions/{sub.instance_id}/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert f"<td>{country} <small>(<code>DE</code>)</small></td>" in html
    assert f"<td>{channels} <small>(<code>website shop</code>)</small></td>" in html
    assert f"<td>{question}</td>" in html
    assert "CRM" in html  # the repeat's entries


def test_filters_by_version_and_review_state(client, wave):
    login_as(client, "analyst")
    url = f"/waves/{wave.pk}/submissions/"
    de = str(Submission.objects.get(panel_id="P-DE").instance_id)
    fr = str(Submission.objects.get(panel_id="P-FR").instance_id)
    everything = client.get(url).content.decode()
    assert de in everything and fr in everything
    only_v2 = client.get(url + "?version=2").content.decode()
    assert fr in only_v2 and de not in only_v2
    Submission.objects.filter(panel_id="P-DE").update(review_state="has_issues")
    flagged = client.get(url + "?review=has_issues", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert de in flagged and fr not in flagged and "hat Mängel" in flagged
    # unknown filter values show everything rather than an error or an empty page
    assert fr in client.get(url + "?review=nope&version=99").content.decode()
    nothing = client.get(url + "?review=rejected", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "No submission matches this filter." in nothing


def test_a_manager_sets_the_review_state_and_an_analyst_cannot(client, wave):
    sub = Submission.objects.get(panel_id="P-DE")
    answers_before = sub.data
    url = f"/submissions/{sub.instance_id}/"
    login_as(client, "analyst")
    page = client.get(url).content.decode()
    assert 'name="review_state"' not in page
    assert client.post(url, {"review_state": "approved"}).status_code == 403
    sub.refresh_from_db()
    assert sub.review_state == "received"
    manager = login_as(client, "survey_manager")
    response = client.post(url, {"review_state": "has_issues", "review_note": "Land prüfen"}, follow=True)
    assert response.status_code == 200 and "Land prüfen" in response.content.decode()
    sub.refresh_from_db()
    assert (sub.review_state, sub.review_note, sub.reviewed_by) == ("has_issues", "Land prüfen", manager)
    assert sub.data == answers_before  # a review never touches the answers
    bad = client.post(url, {"review_state": "deleted"}, HTTP_ACCEPT_LANGUAGE="en")
    assert bad.status_code == 200 and "Select a valid choice" in bad.content.decode()
    sub.refresh_from_db()
    assert sub.review_state == "has_issues"


# ---------------------------------------------------------------------------------------------- corrections


@pytest.fixture
def manager(client):
    login_as(client, "survey_manager")
    return client


def _sub():
    return Submission.objects.get(panel_id="P-DE")


def test_a_manager_corrects_one_answer_with_a_reason_and_the_audit_trail_reads_as_labels(manager, wave):
    sub = _sub()
    url = f"/submissions/{sub.instance_id}/"
    page = manager.get(url, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert '?correct=country#correct"' in page and "?correct=big" not in page  # a calculation is not corrected
    form = manager.get(url + "?correct=country", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert '<option value="FR">Frankreich</option>' in form or "Frankreich</option>" in form  # labels, not codes
    done = manager.post(
        url, {"action": "correct", "field": "country", "value": "FR", "reason": "Anruf"}, HTTP_ACCEPT_LANGUAGE="de"
    )
    assert done.status_code == 302
    sub.refresh_from_db()
    assert sub.data["country"] == "FR" and sub.data["tag"] == "c-FR"  # the calculation follows
    assert sub.data["employees"] == 12 and len(sub.data["tools"]) == 2  # the rest untouched
    [edit] = sub.edits.all()
    assert edit.reason == "Anruf" and edit.before["country"] == "DE"
    trail = manager.get(url, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Land: <del>Deutschland</del> → <ins>Frankreich</ins>" in trail
    assert "'country': 'DE'" not in trail  # no raw JSON


def test_a_german_decimal_comma_is_a_correction_and_the_same_answer_changes_nothing(manager, wave):
    sub = _sub()
    url = f"/submissions/{sub.instance_id}/"
    post = {"action": "correct", "field": "shop_share", "value": "0,5", "reason": "Tippfehler"}
    assert manager.post(url, post, HTTP_ACCEPT_LANGUAGE="de").status_code == 302
    sub.refresh_from_db()
    assert sub.data["shop_share"] == 0.5
    again = manager.post(url, post, HTTP_ACCEPT_LANGUAGE="de", follow=True).content.decode()
    assert "Nichts geändert" in again
    assert sub.edits.count() == 1


def test_a_correction_that_breaks_a_rule_is_refused_in_german_and_nothing_changes(manager, wave):
    sub = _sub()
    url = f"/submissions/{sub.instance_id}/"
    before = dict(sub.data)
    negative = manager.post(
        url, {"action": "correct", "field": "employees", "value": "-3", "reason": "x"}, HTTP_ACCEPT_LANGUAGE="de"
    )
    assert negative.status_code == 422
    assert "Beschäftigte" in negative.content.decode() and "Nicht negativ" in negative.content.decode()
    no_reason = manager.post(url, {"action": "correct", "field": "employees", "value": "3"}, HTTP_ACCEPT_LANGUAGE="de")
    assert no_reason.status_code == 422 and "Dieses Feld ist zwingend erforderlich." in no_reason.content.decode()
    not_a_number = manager.post(
        url, {"action": "correct", "field": "employees", "value": "zwölf", "reason": "x"}, HTTP_ACCEPT_LANGUAGE="de"
    )
    assert not_a_number.status_code == 422 and "ganze Zahl" in not_a_number.content.decode()
    required = manager.post(
        url, {"action": "correct", "field": "country", "value": "", "reason": "x"}, HTTP_ACCEPT_LANGUAGE="de"
    )
    assert required.status_code == 422 and "Land" in required.content.decode()
    assert manager.post(url, {"action": "correct", "field": "big", "value": "1", "reason": "x"}).status_code == 400
    assert manager.post(url, {"action": "correct", "field": "nope", "value": "1", "reason": "x"}).status_code == 400
    sub.refresh_from_db()
    assert sub.data == before and not sub.edits.exists()


def test_analysts_see_the_trail_but_cannot_correct(client, wave):
    login_as(client, "analyst")
    sub = _sub()
    url = f"/submissions/{sub.instance_id}/"
    assert "?correct=" not in client.get(url).content.decode()
    refused = client.post(url, {"action": "correct", "field": "country", "value": "FR", "reason": "x"})
    assert refused.status_code == 403
    sub.refresh_from_db()
    assert sub.data["country"] == "DE"


def test_the_table_shows_key_answers_as_labels_and_filters_by_one_answer(client, wave):
    login_as(client, "analyst")
    url = f"/waves/{wave.pk}/submissions/"
    de = str(Submission.objects.get(panel_id="P-DE").instance_id)
    fr = str(Submission.objects.get(panel_id="P-FR").instance_id)
    html = client.get(url, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "<th>Land</th>" in html and "<td>Deutschland</td>" in html and "<td>Frankreich</td>" in html
    assert "<td>Deutsch</td>" in html  # the language by its name, not "de"
    assert '<optgroup label="Land">' in html and 'value="country:FR"' in html
    only_fr = client.get(url, {"answer": "country:FR"}, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert fr[:8] in only_fr and de[:8] not in only_fr
    assert 'value="country:FR" selected' in only_fr and "answer=country%3AFR" in only_fr  # kept for paging
    # a filter that names no single-choice answer is ignored, never an error (nor an arbitrary JSON lookup)
    for bogus in ("country:XX", "employees:12", "country__contains:D", ":"):
        page = client.get(url, {"answer": bogus})
        assert page.status_code == 200 and de[:8] in page.content.decode()
    nothing = client.get(url, {"answer": "country:DE", "version": "2"}, HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert "Keine Antwort passt zu diesem Filter." in nothing
