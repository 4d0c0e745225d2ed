"""The Digital-Check pages and services on a real database: submit, result page, privacy, consent, export,
peer benchmark equal to the stats core, fallback, progress, the programme's completion count."""

from __future__ import annotations

import re

import pyarrow.parquet as pq
import pytest

from digifit.assessment import benchmark, selectors, services
from digifit.assessment.models import Assessment, PeerTable

from .conftest import answers, make_wave

pytestmark = pytest.mark.django_db


def submit(client, data, **kw):
    return client.post("/check/", data, **kw)


def test_form_renders_in_german_by_default(client):
    resp = client.get("/check/")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "Digitale Technik" in html and "Digitale Geschäftsstrategie" in html
    assert html.count('type="radio"') > 100


def test_form_renders_in_french(client):
    resp = client.get("/check/", headers={"accept-language": "fr"})
    assert "Stratégie numérique" in resp.content.decode()


def test_missing_answers_are_shown_next_to_the_field(client):
    data = answers()
    del data["dii_erp"]
    resp = submit(client, data)
    assert resp.status_code == 422
    html = resp.content.decode()
    assert re.search(r'id="q-dii_erp"[^>]*>.*?class="error"', html, re.S)
    assert not Assessment.objects.exists()


def test_the_error_summary_names_and_links_each_missing_answer(client):
    data = answers()
    del data["dii_erp"], data["dii_crm"]
    html = submit(client, data).content.decode()
    summary = html[html.index('id="error-summary"') : html.index("</div>", html.index('id="error-summary"'))]
    assert "2 Antworten brauchen Ihre Aufmerksamkeit." in summary
    links = re.findall(r'<li><a href="#q-([a-z_]+)">([^<]+)</a>', summary)
    assert sorted(name for name, _label in links) == ["dii_crm", "dii_erp"]
    assert [n for n, _ in links] == sorted((n for n, _ in links), key=lambda n: html.index(f'id="q-{n}"'))  # form order
    for name, label in links:
        assert f'id="q-{name}"' in html and label.strip() and label not in ("dii_crm", "dii_erp")  # a label, not a code
    assert "autofocus" in html[html.index('id="error-summary"') - 200 : html.index('id="error-summary"') + 100]


def test_submit_stores_scores_and_redirects_to_a_private_link(client):
    resp = submit(client, answers(dii=7, email="Owner@Example.org"))
    assert resp.status_code == 302
    a = Assessment.objects.get()
    assert resp["Location"] == f"/check/r/{a.token}/"
    assert len(a.token) >= 32
    assert (a.dii_score, a.dii_level, a.overall, a.rules_version) == (7, "high", 50.0, "2026.1")
    assert a.email == "owner@example.org" and a.consent_statistics
    page = client.get(resp["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "hoch" in html  # level "high" in German
    assert "<svg" in html and "Digitale Geschäftsstrategie" in html
    assert page["Cache-Control"].startswith("max-age=0")
    assert page["Referrer-Policy"] == "same-origin" and page["X-Robots-Tag"] == "noindex, nofollow"


def test_no_result_without_its_link(client):
    a = services.assessment_submit(answers=answers())
    assert client.get("/check/r/" + "x" * 32 + "/").status_code == 404
    assert client.get("/check/r/short/").status_code == 404
    assert client.get(f"/check/r/{a.token[:-1]}/").status_code == 404
    assert client.post(f"/check/r/{'y' * 32}/consent", {"consent": "yes"}).status_code == 404
    # nothing lists results: the form page does not mention the token
    assert a.token not in client.get("/check/").content.decode()


def test_consent_and_export(tmp_path, client):
    yes = services.assessment_submit(answers=answers(dii=9))
    no = services.assessment_submit(answers=answers(dii=2, consent_statistics="no"))
    assert not no.consent_statistics
    out = tmp_path / "check.parquet"
    assert services.results_export(target=out) == 1
    table = pq.read_table(out)
    assert table.column("dii_score").to_pylist() == [9]
    assert "token" not in table.column_names and "email" not in table.column_names
    assert table.column("dimension__data").to_pylist() == [50.0]
    # withdraw on the result page: the next export leaves it out; give it: it is in
    client.post(f"/check/r/{yes.token}/consent", {"consent": "no"})
    client.post(f"/check/r/{no.token}/consent", {"consent": "yes"})
    services.results_export(target=out)
    assert pq.read_table(out).column("dii_score").to_pylist() == [2]


def test_only_claimed_checks_count_per_owner():
    from django.contrib.auth import get_user_model

    typed = services.assessment_submit(answers=answers(email="a@example.org"))
    services.assessment_submit(answers=answers(email=None))
    assert selectors.claimed_checks_by_owner() == {}  # a typed e-mail address makes no owner
    user = get_user_model().objects.create_user(username="a@example.org", email="a@example.org")
    services.assessment_claim(assessment=typed, owner=user)
    assert selectors.claimed_checks_by_owner() == {user.pk: typed.completed_at}
    other = get_user_model().objects.create_user(username="b@example.org")
    with pytest.raises(services.ClaimConflict):
        services.assessment_claim(assessment=typed, owner=other)
    assert services.assessment_claim(assessment=typed, owner=user).owner == user  # twice: no change


def test_retake_shows_progress_against_the_previous_result(client):
    first = services.assessment_submit(answers=answers(dii=3, scale=1))
    form = client.get(f"/check/?from={first.token}").content.decode()
    assert f'name="previous" value="{first.token}"' in form
    assert 'value="1" checked' in form  # the previous answers are filled in
    resp = submit(client, answers(dii=5, scale=3, previous=first.token))
    second = Assessment.objects.get(token=resp["Location"].split("/")[-2])
    assert second.previous == first
    html = client.get(resp["Location"]).content.decode()
    assert 'id="progress"' in html and "+50" in html  # overall 25 -> 75


def test_results_of_different_rules_versions_are_not_compared(client):
    first = services.assessment_submit(answers=answers())
    Assessment.objects.filter(pk=first.pk).update(
        rules_version="2025.1", result={**first.result, "rules_version": "2025.1"}
    )
    second = services.assessment_submit(answers=answers(), previous=Assessment.objects.get(pk=first.pk))
    html = client.get(f"/check/r/{second.token}/").content.decode()
    assert "2025.1" in html and 'id="progress"' not in html


# ----------------------------------------------------------------------------------------- benchmark


def _snapshot_design(wave, tmp_path):
    from digifit.survey.exports import ExportSpec, snapshot_write

    path = tmp_path / "wave.parquet"
    snapshot_write(ExportSpec(questionnaire=wave.questionnaire, wave=wave), path)
    from digifit.survey.selectors import margins_latest, margins_of

    return benchmark.weighted_design(path, margins=margins_of(margins_latest(waves=[wave])))


def test_benchmark_values_equal_the_stats_core(tmp_path):
    from digifit import stats

    wave = make_wave(per_cell=40)
    a = services.assessment_submit(answers=answers(country="DE", sector="retail", size="micro"))
    bench = services.assessment_benchmark(assessment=a)
    assert bench.wave == wave and bench.weighting == "poststratified"
    design, _ = _snapshot_design(wave, tmp_path)
    by_measure = {r.measure: r for r in bench.rows}
    for m in benchmark.MEASURES:
        rows = stats.mean(design, m.survey_column, by=["country", "sector", "size"], na_rm=True, ci_method="logit")
        want = next(e for e in rows if e.domain == {"country": "DE", "sector": "retail", "size": "micro"})
        got = by_measure[m.key]
        assert got.group == ("country", "sector", "size") and not got.fallback
        assert got.n == want.n == 40
        assert got.estimate == pytest.approx(want.estimate, rel=1e-12)
        assert (got.ci_low, got.ci_high) == pytest.approx((want.ci_low, want.ci_high), rel=1e-12)


def test_benchmark_falls_back_when_the_peer_cell_is_small(client):
    cells = {
        ("DE", "retail", "micro"): 12,
        ("DE", "retail", "small"): 40,
        ("DE", "ict", "micro"): 40,
        ("FR", "retail", "micro"): 40,
    }
    make_wave(cells=cells)
    a = services.assessment_submit(answers=answers(country="DE", sector="retail", size="micro"))
    rows = services.assessment_benchmark(assessment=a).rows
    for row in rows:
        assert row.fallback and row.group == ("country", "sector")
        assert row.n == 52 and row.reasons == ("country × sector × size: n = 12 < 30",)
    html = client.get(f"/check/r/{a.token}/").content.decode()
    assert 'id="fallback-note"' in html
    assert "gleiches Land und gleiche Branche (n = 52)" in html


def test_benchmark_is_cached_per_wave_until_the_data_change(settings):
    import datetime as dt

    wave = make_wave(per_cell=35)
    a = services.assessment_submit(answers=answers())
    first = services.assessment_benchmark(assessment=a)
    services.assessment_benchmark(assessment=a)
    assert PeerTable.objects.filter(wave=wave).count() == 1
    sub = wave.submissions.first()
    sub.data = {**sub.data, "digital25": 1 - sub.data["digital25"]}
    sub.save()
    # within DIGIFIT_CHECK_PEER_MAX_AGE the table stays; after it, the changed data are estimated again
    assert services.assessment_benchmark(assessment=a).computed_at == first.computed_at
    later = services.peer_table_get(wave=wave, now=first.computed_at + dt.timedelta(seconds=601))
    assert later.computed_at > first.computed_at
    assert list(PeerTable.objects.filter(wave=wave)) == [later]  # one table per wave
    settings.DIGIFIT_CHECK_PEER_MAX_AGE = 0
    assert services.peer_table_get(wave=wave) == later  # same data: no recomputation


def test_result_page_without_survey_data_says_so(client):
    a = services.assessment_submit(answers=answers())
    html = client.get(f"/check/r/{a.token}/", headers={"accept-language": "en"}).content.decode()
    assert "No survey data are available yet" in html


def test_an_account_with_a_checks_e_mail_never_sees_that_check(client):
    """The takeover of issue 11: an account whose e-mail matches a check gets neither its token nor answers."""
    from django.contrib.auth import get_user_model

    from digifit.programme import services as programme

    first = services.assessment_submit(answers=answers(dii=2, scale=1, email="Laden@example.org"))
    user = get_user_model().objects.create_user(username="laden", email="laden@example.org", password="pw-X-12345")
    programme.business_register(
        user=user,
        company="Laden",
        sector="retail",
        size_class="micro",
        region="BY",
        contact_name="Angreifer",
        email="laden@example.org",
        consent=True,
        language="de",
    )
    client.force_login(user)
    form = client.get("/check/").content.decode()
    assert first.token not in form
    assert "Laden@example.org" not in form


def test_the_owner_deletes_a_result(client, tmp_path):
    a = services.assessment_submit(answers=answers(email="x@example.org"))
    html = client.get(f"/check/r/{a.token}/").content.decode()
    assert f'action="/check/r/{a.token}/delete"' in html
    assert client.get(f"/check/r/{a.token}/delete").status_code == 405
    resp = client.post(f"/check/r/{a.token}/delete", follow=True)
    assert resp.redirect_chain[-1][0] == "/check/" and "Ihr Ergebnis wurde gelöscht." in resp.content.decode()
    assert not Assessment.objects.exists()
    assert client.get(f"/check/r/{a.token}/").status_code == 404
    assert services.results_export(target=tmp_path / "x.parquet") == 0
    assert selectors.claimed_checks_by_owner() == {}


def test_benchmark_is_weighted_to_the_waves_stored_margins_only():
    """The peer table uses the wave's own margins (the analyst's upload); without them it is unweighted, never
    weighted to margins bundled anywhere else."""
    from digifit.survey.models import WaveMargins

    wave = make_wave(per_cell=40)
    a = services.assessment_submit(answers=answers(country="DE", sector="retail", size="micro"))
    assert services.assessment_benchmark(assessment=a).weighting == "poststratified"
    WaveMargins.objects.filter(wave=wave).delete()
    from digifit.assessment.models import PeerTable

    PeerTable.objects.all().delete()
    assert services.assessment_benchmark(assessment=a).weighting == "unweighted"
