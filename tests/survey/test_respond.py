"""The respondent web form (``/r/<token>/``): pages, drafts, skip logic with and without JavaScript, checks,
repeats, languages, the open link — on the bundled questionnaire, through Django's test client."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from digifit.demo.questionnaire import QUESTIONNAIRE_PATH
from digifit.forms.validation import check_answers
from digifit.survey import formdef, respond, services
from digifit.survey.models import Invitation, Submission, Wave

#: A complete, valid answer to the bundled questionnaire, page by page (as the form posts it).
PAGES = {
    "profile": {"country": "DE", "region": "de_by", "sector": "retail", "size": "small", "founded": "1998"},
    "presence": {"presence_before": ["website", "social_page"], "digital_share": "p25_49"},
    "impact": {"revenue_change": "dec1_24", "employment_change": "same", "closed": "no"},
    "adoption": {
        "tools_since": ["online_shop"],
        "tool_detail#count": "1",
        "tool_detail[1]/tool": "online_shop",
        "tool_detail[1]/tool_cost": "29.5",
        "remote_staff": "sometimes",
    },
    "needs": {"support_needs": ["online_ads"], "training_format": ["live_coaching"]},
    "contact": {"consent": "no"},
}


@pytest.fixture
def wave(db):
    version = services.questionnaire_version_add(content=QUESTIONNAIRE_PATH.read_bytes()).version
    return services.wave_create(questionnaire=version.questionnaire, name="2026-11", status=Wave.Status.OPEN)


@pytest.fixture
def invitation(wave):
    return services.invitation_create(wave=wave, panel_id="P-0001", email="owner@example.org", language="de")


def _post(client, url, page, data, action="next"):
    return client.post(url, {"_page": page, "_action": action, **data})


def test_groups_are_pages_and_notes_open_and_close_the_form(wave):
    q = formdef.questionnaire_of(wave.questionnaire.versions.get())
    layout = respond.form_layout(q)
    assert [p.name for p in layout.pages] == ["profile", "presence", "impact", "adoption", "needs", "contact"]
    assert layout.pages[0].fields[0].name == "intro"
    assert [f.name for f in layout.closing_notes] == ["thanks"]
    assert layout.page_of("tool_detail[2]/tool_cost") == 3


@pytest.mark.parametrize(
    "answers",
    [
        {"closed": "yes", "closed_months": 3, "country": "other", "region": "de_by"},
        {"closed": "no", "closed_months": 3, "tools_since": "none", "tool_detail": [{"tool": "cloud"}]},
        {"support_needs": "other none", "support_needs_other": "x", "training_format": "videos", "consent": "no"},
        {"consent": "yes", "email": "a@b.de", "tools_since": "cloud", "tool_detail": [{"tool": "cloud"}]},
    ],
)
def test_form_state_hides_exactly_what_the_answer_checks_drop(wave, answers):
    """One evaluator: what the form hides is what the server drops as not relevant."""
    q = formdef.questionnaire_of(wave.questionnaire.versions.get())
    state = respond.form_state(q, answers)
    dropped = set(check_answers(q, answers).dropped)
    given = set(answers) | {
        f"{k}[{i}]/{n}" for k, v in answers.items() if isinstance(v, list) for i, e in enumerate(v, 1) for n in e
    }
    hidden = {k for k in given if not state.is_relevant(k)}
    assert hidden == dropped


def test_choice_filter_offers_the_regions_of_the_country(wave):
    q = formdef.questionnaire_of(wave.questionnaire.versions.get())
    offered = respond.form_state(q, {"country": "FR"}).offered["region"]
    assert offered and all(name.startswith("fr_") for name in offered)


def test_first_page_is_german_accessible_and_resumable(client, invitation):
    url = f"/r/{invitation.token}/"
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert '<html lang="de">' in html
    assert "Ihr Unternehmen" in html and "Seite 1 von 6" in html
    assert '<label for="f-founded">' in html and 'id="f-founded"' in html  # labels tied to inputs
    assert re.search(r'<fieldset class="field choice[^"]*" id="f-country"', html)  # radio groups in fieldsets
    assert "<legend>In welchem Land ist Ihr Unternehmen tätig?" in html
    # save page 1, come back later through the link: page 2
    assert _post(client, url, "profile", PAGES["profile"]).status_code == 302
    client.cookies.clear()
    again = client.get(url).content.decode()
    assert "Online-Präsenz vor der Krise" in again and "Seite 2 von 6" in again
    draft = Submission.objects.get(invitation=invitation)
    assert draft.status == Submission.Status.DRAFT and draft.data["founded"] == 1998
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.STARTED


def test_validation_messages_sit_next_to_the_field_and_the_rest_is_saved(client, invitation):
    url = f"/r/{invitation.token}/"
    answer = {**PAGES["profile"], "founded": "neunzehnhundert"}
    response = _post(client, url, "profile", answer)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'aria-describedby="f-founded-error"' in html and 'aria-invalid="true"' in html
    assert re.search(r'id="f-founded-error">Bitte eine ganze Zahl eingeben, zum Beispiel 12\.<', html)
    assert 'role="alert"' in html and 'href="#f-founded"' in html
    assert 'value="neunzehnhundert"' in html  # what was typed stays in the field
    draft = Submission.objects.get(invitation=invitation)
    assert draft.data["sector"] == "retail" and "founded" not in draft.data
    # the constraint message of the form, in German
    html = _post(client, url, "profile", {**PAGES["profile"], "founded": "1700"}).content.decode()
    assert 'id="f-founded-error"' in html


def test_skip_logic_without_javascript_re_renders_with_relevance(client, invitation):
    url = f"/r/{invitation.token}/"
    page = client.get(f"{url}?page=impact").content.decode()
    assert re.search(r'data-field="closed_months" hidden', page)
    response = _post(client, url, "impact", {**PAGES["impact"], "closed": "yes"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-field="closed_months">' in html  # shown now, with its required message
    assert 'id="f-closed_months-error"' in html


def test_relevance_endpoint_answers_from_the_server_evaluator_and_saves(client, invitation):
    url = f"/r/{invitation.token}/relevance"
    state = client.post(url, {"_page": "impact", **PAGES["impact"], "closed": "yes"}).json()
    assert state["relevant"]["closed_months"] is True
    state = client.post(url, {"_page": "impact", **PAGES["impact"]}).json()
    assert state["relevant"]["closed_months"] is False
    state = client.post(url, {"_page": "profile", "country": "FR"}).json()
    assert all(name.startswith("fr_") for name in state["offered"]["region"])
    assert Submission.objects.get(invitation=invitation).data["country"] == "FR"
    assert client.get(url).status_code == 405


def test_repeat_entries_are_added_and_removed(client, invitation):
    url = f"/r/{invitation.token}/"
    base = {"tools_since": ["online_shop", "cloud"], "tool_detail#count": "1", "tool_detail[1]/tool": "cloud"}
    html = _post(client, url, "adoption", base, action="add:tool_detail").content.decode()
    assert 'name="tool_detail[2]/tool"' in html and 'value="2"' in html
    draft = Submission.objects.get(invitation=invitation)
    assert draft.data["tool_detail"] == [{"tool": "cloud"}, {}]
    html = _post(
        client,
        url,
        "adoption",
        {**base, "tool_detail#count": "2", "tool_detail[2]/tool": "online_shop"},
        action="remove:tool_detail[1]",
    ).content.decode()
    assert 'name="tool_detail[2]/tool"' not in html
    assert Submission.objects.get(invitation=invitation).data["tool_detail"] == [{"tool": "online_shop"}]


def test_the_whole_form_then_submit_stores_one_complete_submission(client, invitation):
    url = f"/r/{invitation.token}/"
    for name, data in PAGES.items():
        action = "submit" if name == "contact" else "next"
        response = _post(client, url, name, data, action=action)
        assert response.status_code == 302, (name, response.content.decode()[:2000])
    assert response["Location"] == f"/r/{invitation.token}/thanks"
    thanks = client.get(response["Location"]).content.decode()
    assert "Vielen Dank für Ihre Teilnahme!" in thanks
    sub = Submission.objects.get(invitation=invitation)
    assert sub.status == Submission.Status.COMPLETE and sub.source == Submission.Source.WEB
    assert sub.data["digital25"] == 1 and sub.data["tool_detail"] == [{"tool": "online_shop", "tool_cost": 29.5}]
    assert sub.panel_id == "P-0001" and sub.language == "de" and sub.data["started"]
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.COMPLETED
    # the link now shows the thank-you page; nothing can be changed
    assert client.get(url)["Location"] == f"/r/{invitation.token}/thanks"
    assert client.post(f"{url}relevance", {"_page": "contact"}).status_code == 409


def test_an_english_respondent_answers_the_whole_form(client, wave):
    inv = services.invitation_create(wave=wave, panel_id="P-EN", language="en")
    url = f"/r/{inv.token}/"
    html = client.get(url).content.decode()
    assert '<html lang="en">' in html and "Your business" in html and "Next" in html
    for name, data in PAGES.items():
        _post(client, url, name, data, action="submit" if name == "contact" else "next")
    assert "Thank you" in client.get(f"{url}thanks").content.decode()
    sub = Submission.objects.get(invitation=inv)
    assert sub.status == Submission.Status.COMPLETE and sub.language == "en"


def test_english_and_french_by_choice(client, invitation):
    url = f"/r/{invitation.token}/"
    html = client.get(f"{url}?lang=en").content.decode()
    assert '<html lang="en">' in html and "Page 1 of 6" in html and "Your business" in html
    html = client.get(url).content.decode()  # the choice sticks for the session
    assert '<html lang="en">' in html
    html = client.get(f"{url}?lang=fr").content.decode()
    assert '<html lang="fr">' in html and "Page 1 sur 6" in html


def test_unknown_token_and_closed_wave(client, invitation):
    assert client.get("/r/no-such-token/").status_code == 404
    services.wave_status_set(wave=invitation.wave, status=Wave.Status.CLOSED)
    response = client.get(f"/r/{invitation.token}/")
    assert response.status_code == 403 and "geschlossen" in response.content.decode()


def test_open_link_one_submission_per_browser_session(client, wave):
    url = respond.wave_open_url(wave)
    assert client.get(url).status_code == 200
    for name, data in PAGES.items():
        _post(client, url, name, data, action="submit" if name == "contact" else "next")
    sub = Submission.objects.get(wave=wave)
    assert sub.status == Submission.Status.COMPLETE and sub.invitation is None
    assert client.get(url)["Location"].endswith("/thanks")
    assert client.get(url.replace("/r/open/", "/r/open/x")).status_code == 404


def test_a_decimal_with_the_page_languages_comma(client, wave):
    """``29,90`` on a German page is 29.9 and is shown back as ``29,9``; on an English page a comma is refused
    (there ``1,000`` is a thousand), and an unreadable number is explained with an example in the page's
    own notation, not with the check's "point as decimal separator"."""
    adoption = {**PAGES["adoption"], "tool_detail[1]/tool_cost": "29,90"}
    de = services.invitation_create(wave=wave, panel_id="P-DE", language="de")
    url = f"/r/{de.token}/"
    assert _post(client, url, "adoption", adoption).status_code == 302
    assert Submission.objects.get(invitation=de).data["tool_detail"] == [{"tool": "online_shop", "tool_cost": 29.9}]
    html = client.get(f"{url}?page=adoption").content.decode()
    assert 'name="tool_detail[1]/tool_cost" value="29,9"' in html
    html = _post(client, url, "adoption", {**adoption, "tool_detail[1]/tool_cost": "29,90 Euro"}).content.decode()
    assert 'tool_cost-error">Bitte eine Zahl eingeben, zum Beispiel 12 oder 29,90.' in html
    assert "Dezimaltrennzeichen" not in html

    en = services.invitation_create(wave=wave, panel_id="P-EN", language="en")
    other = Client()
    response = _post(other, f"/r/{en.token}/", "adoption", {**adoption, "tool_detail[1]/tool_cost": "1,000"})
    html = response.content.decode()
    assert response.status_code == 200 and "Please enter a number, for example 12 or 29.90." in html
    assert Submission.objects.get(invitation=en).data["tool_detail"] == [{"tool": "online_shop"}]
    # the JavaScript path (the relevance endpoint) reads the comma the same way
    fr = services.invitation_create(wave=wave, panel_id="P-FR", language="fr")
    third = Client()
    third.post(f"/r/{fr.token}/relevance", {"_page": "adoption", **adoption, "tool_detail[1]/tool_cost": "3,5"})
    assert Submission.objects.get(invitation=fr).data["tool_detail"][0]["tool_cost"] == 3.5
