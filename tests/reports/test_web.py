"""The reports' web part: the analysis numbers are the report library's (hence digifit.stats'), roles, report jobs."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from demo_inputs import DEMO
from django.test import Client
from django.utils import timezone

from digifit.demo import tour
from digifit.reports import selectors, services
from digifit.reports.headline import difference, headline_report, reliability
from digifit.reports.models import ReportJob

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo_waves(django_db_setup, django_db_blocker, tmp_path_factory):
    """Two demo waves (10,000 responses) committed once for the module; snapshots under a temporary data dir."""
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from digifit.survey.models import Questionnaire, QuestionnaireVersion, Submission, Wave

    old = settings.DATA_DIR
    settings.DATA_DIR = tmp_path_factory.mktemp("data")
    with django_db_blocker.unblock():
        tour.users_load()
        version = tour.questionnaire_load()
        tour.waves_load(version=version, rows=10_000, n_waves=2)
        selectors._analysis.cache_clear()
        selectors._headline.cache_clear()
        yield list(Wave.objects.order_by("pk"))
        ReportJob.objects.all().delete()
        Submission.objects.all().delete()
        Wave.objects.all().delete()
        QuestionnaireVersion.objects.all().delete()
        Questionnaire.objects.all().delete()
        get_user_model().objects.filter(username__in=[u for u, _r, _d in tour.DEMO_USERS]).delete()
    settings.DATA_DIR = old


@pytest.fixture
def demo(demo_waves, db):
    return demo_waves


def client_for(username: str | None) -> Client:
    c = Client()
    if username:
        assert c.login(username=username, password=tour.DEMO_PASSWORD)
    return c


def test_analysis_by_country_equals_the_headline_report(demo):
    wave = demo[0]
    (path,) = selectors.wave_snapshots([wave])
    report = headline_report(path, **DEMO)
    a = selectors.analysis_get(waves=[wave], indicator="digital25", by=("country",))
    assert [dict(r.domain)["country"] for r in a.rows] == [ln.key for ln in report.headline if ln.key != "all"]
    for r in a.rows:
        line = report.line("headline", dict(r.domain)["country"])
        for attr in ("estimate", "se", "ci_low", "ci_high", "n", "cv"):
            assert getattr(r.estimate, attr) == pytest.approx(getattr(line.estimate, attr), rel=1e-9), attr
        assert r.status == line.status
    assert a.overall.estimate.estimate == pytest.approx(report.line("headline", "all").estimate.estimate, rel=1e-9)
    # the comparison is the library's difference on the same design
    loss = selectors.analysis_get(waves=[wave], indicator="loss25", by=("country",))
    online = next(c for c in report.online if c.indicator == "loss25")
    assert loss.comparison.difference.estimate.estimate == pytest.approx(online.difference.estimate.estimate)
    assert loss.comparison.difference.estimate.ci_low == pytest.approx(online.difference.estimate.ci_low)
    assert loss.comparison.online.estimate.estimate == pytest.approx(online.online.estimate.estimate)


def test_analysis_json_and_page_show_the_same_numbers(demo):
    wave = demo[0]
    a = selectors.analysis_get(waves=[wave], indicator="digital25", by=("sector",))
    c = client_for("analyst")
    resp = c.get(f"/analysis/results.json?wave={wave.pk}&indicator=digital25&by=sector")
    assert resp.status_code == 200
    data = json.loads(resp.content)
    assert [r["domain"]["sector"] for r in data["rows"]] == [dict(r.domain)["sector"] for r in a.rows]
    for got, want in zip(data["rows"], a.rows, strict=True):
        assert got["estimate"] == pytest.approx(want.estimate.estimate)
        assert got["status"] == reliability(want.estimate)
    html = c.get(f"/analysis/results?wave={wave.pk}&indicator=digital25&by=sector").content.decode()
    from digifit.reports.locale import fmt_pct

    shown = [r for r in a.rows if r.status != "suppressed"]
    assert shown and all(fmt_pct(r.estimate.estimate, "de") in html for r in shown)
    for r in a.rows:
        if r.status == "suppressed":  # n only, no estimate
            assert fmt_pct(r.estimate.estimate, "de") not in html
    page = c.get(f"/analysis/?wave={wave.pk}&indicator=digital25&by=sector").content.decode()
    assert 'rel="alternate"' in page and "vega" in page.lower()
    # the method in the page's language, not the design note of the API ("strata=country, clusters=…")
    assert "Designbasierte Schätzungen: geschichtet nach Land" in html and "strata=" not in html
    assert data.get("design_note", "strata=").startswith("strata=")  # the JSON keeps its contract
    english = c.get(
        f"/analysis/results?wave={wave.pk}&indicator=digital25&by=sector", HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "Design-based estimates: stratified by country" in english


def test_trend_rakes_each_wave_on_its_own(demo):
    a = selectors.analysis_get(waves=demo, indicator="digital25", by=("wave",))
    assert [dict(r.domain)["wave"] for r in a.rows] == [w.name for w in demo]
    for r, wave in zip(a.rows, demo, strict=True):
        (path,) = selectors.wave_snapshots([wave])
        assert r.estimate.estimate == pytest.approx(
            headline_report(path, **DEMO).line("headline", "all").estimate.estimate
        )
    crossed = selectors.analysis_get(waves=demo, indicator="loss", by=("wave", "size"))
    assert {dict(r.domain)["wave"] for r in crossed.rows} == {w.name for w in demo}


def test_cross_of_two_breakdowns_and_suppression(demo):
    a = selectors.analysis_get(waves=demo[:1], indicator="digital25", by=("country", "sector"))
    assert all(len(r.domain) == 2 for r in a.rows)
    statuses = {r.status for r in a.rows}
    assert "suppressed" in statuses  # 5,000 responses over 6 × 10 cells: some have n < 30
    for r in a.rows:
        assert r.status == reliability(r.estimate)


def test_pooled_difference_is_the_library_difference(demo):
    from digifit.reports import headline as hl

    paths = tuple(str(p) for p in selectors.wave_snapshots(demo))
    design, *_ = selectors._design_of(paths, selectors.margins_latest(waves=demo).pk)
    _on, _off, diff = difference(design, "loss", "online_before")
    a = selectors.analysis_get(waves=demo, indicator="loss", by=("country",))
    assert a.comparison.difference.estimate.estimate == pytest.approx(diff.estimate)
    assert a.comparison.difference.estimate.se == pytest.approx(diff.se)
    assert hl.MIN_N == 30


@pytest.mark.parametrize("bad", [{"indicator": "nope"}, {"by": ("country", "size", "sector")}, {"by": ("x",)}])
def test_analysis_errors(demo, bad):
    from digifit.reports.headline import ReportError

    kw = {"waves": demo[:1], "indicator": "digital25", "by": ("country",), **bad}
    with pytest.raises(ReportError):
        selectors.analysis_get(**kw)
    with pytest.raises(ReportError, match="at least one wave"):
        selectors.analysis_get(waves=[], indicator="digital25")


def test_roles(demo):
    owner = client_for("betrieb")
    for url in ("/analysis/", "/analysis/results", "/dashboard/", "/reports/"):
        assert owner.get(url).status_code == 403, url
    assert owner.get("/analysis/results.json").status_code == 403
    assert client_for(None).get("/analysis/").status_code == 302  # to the login page
    analyst = client_for("analyst")
    dash = analyst.get("/dashboard/")
    assert dash.status_code == 200 and 'data-testid="headline"' in dash.content.decode()
    assert analyst.get("/analysis/").status_code == 200
    start = {"wave": demo[0].pk, "format": "pdf", "lang": "de"}
    assert owner.post("/reports/start", start).status_code == 403
    assert analyst.post("/reports/start", start).status_code == 302  # managers and analysts start reports
    assert client_for("manager").get("/reports/").status_code == 200


def test_dashboard_shows_weighted_and_unweighted(demo):
    report = selectors.headline_get(wave=demo[-1])
    html = client_for("analyst").get("/dashboard/").content.decode()
    from digifit.reports.locale import fmt_pct

    de = report.line("weighted_vs_unweighted", "DE")
    assert fmt_pct(de.estimate.estimate, "de") in html and fmt_pct(de.unweighted.estimate, "de") in html


@pytest.mark.parametrize("fmt", ["pdf", "xlsx", "html"])
def test_report_job_runs_through_the_task(demo, fmt, django_capture_on_commit_callbacks):
    from digifit.reports.tasks import report_make

    manager = client_for("manager")
    with django_capture_on_commit_callbacks(execute=True):
        resp = manager.post("/reports/start", {"wave": demo[0].pk, "format": fmt, "lang": "de"})
    assert resp.status_code == 302
    job = ReportJob.objects.get()
    assert job.status == "queued" and job.task_id  # enqueued on commit (the worker would take it)
    assert report_make.call(job.pk) == "done"
    job.refresh_from_db()
    assert (job.status, job.progress, job.attempts) == ("done", 100, 1)
    row = manager.get(f"/reports/{job.pk}/status").content.decode()
    assert "/download" in row and "hx-trigger" not in row  # polling stops when done
    dl = manager.get(f"/reports/{job.pk}/download")
    assert dl.status_code == 200
    body = b"".join(dl.streaming_content)
    assert body.lower().startswith({"pdf": b"%pdf", "xlsx": b"pk\x03\x04", "html": b"<!doctype"}[fmt])
    assert f'filename="bericht-{demo[0].name}-de.{fmt}"' in dl["Content-Disposition"]


def test_running_job_polls_and_queued_job_is_not_downloadable(demo):
    job = services.reportjob_create(wave=demo[0], format="pdf", lang="en", enqueue=False)
    manager = client_for("manager")
    assert 'hx-trigger="every 1s"' in manager.get(f"/reports/{job.pk}/status").content.decode()
    assert manager.get(f"/reports/{job.pk}/download").status_code == 404


def test_stale_running_job_is_requeued_and_rerun(demo, settings):
    settings.DIGIFIT_REPORT_TIMEOUT = 600
    job = services.reportjob_create(wave=demo[0], format="xlsx", lang="en", enqueue=False)
    claimed = services.reportjob_claim(job_id=job.pk)
    assert claimed.status == "running"
    # a second worker does not take a job whose worker is alive
    assert services.reportjob_claim(job_id=job.pk) is None
    assert services.reportjob_requeue_stale(enqueue=False) == []
    # the worker died: no heartbeat for longer than the timeout
    ReportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - dt.timedelta(seconds=601))
    assert services.reportjob_requeue_stale(enqueue=False) == [job.pk]
    job.refresh_from_db()
    assert job.status == "queued"
    done = services.reportjob_run(job_id=job.pk)
    assert (done.status, done.attempts) == ("done", 2)
    assert services.reportjob_file(done).stat().st_size > 0


def test_stale_running_job_is_taken_over_by_the_task_directly(demo, settings):
    from digifit.reports.tasks import report_make

    settings.DIGIFIT_REPORT_TIMEOUT = 60
    job = services.reportjob_create(wave=demo[0], format="html", lang="de", enqueue=False)
    services.reportjob_claim(job_id=job.pk)
    ReportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - dt.timedelta(seconds=120))
    assert report_make.call(job.pk) == "done"


def test_report_job_errors(demo):
    with pytest.raises(services.ReportJobError, match="format 'doc'"):
        services.reportjob_create(wave=demo[0], format="doc", lang="de", enqueue=False)
    with pytest.raises(services.ReportJobError, match="language 'fr'"):
        services.reportjob_create(wave=demo[0], format="pdf", lang="fr", enqueue=False)


def test_report_job_progress_follows_the_library_steps(demo, monkeypatch):
    seen = []
    original = services._progress

    def record(job_id, percent, step):
        seen.append((percent, step))
        original(job_id, percent, step)

    monkeypatch.setattr(services, "_progress", record)
    job = services.reportjob_create(wave=demo[0], format="html", lang="en", enqueue=False)
    assert services.reportjob_run(job_id=job.pk).status == "done"
    percents = [p for p, _s in seen]
    assert percents == sorted(percents) and percents[0] == 5 and percents[-1] == 70
    assert len({s for _p, s in seen}) >= 5  # snapshot, the library's steps, render


def test_dashboard_wave_picker_and_pooled_headline(demo):
    import duckdb

    from digifit.reports.locale import fmt_pct

    paths = sorted(str(p) for p in selectors.wave_snapshots(demo))
    con = duckdb.connect()
    # the pooled design built by the library on the concatenated snapshots (business = cluster)
    pooled = headline_report(con.read_parquet(paths, union_by_name=True), con=con, **DEMO)
    assert pooled.n_rows == sum(headline_report(p, **DEMO).n_rows for p in paths)
    assert pooled.line("headline", "all").estimate.estimate == pytest.approx(
        selectors.headline_get(waves=demo).line("headline", "all").estimate.estimate, rel=1e-12
    )
    analyst = client_for("analyst")
    one = analyst.get(f"/dashboard/?wave={demo[0].pk}").content.decode()
    both = analyst.get(f"/dashboard/?wave={demo[0].pk}&wave={demo[1].pk}").content.decode()
    first = selectors.headline_get(wave=demo[0]).line("weighted_vs_unweighted", "DE").estimate.estimate
    assert fmt_pct(first, "de") in one
    assert fmt_pct(pooled.line("weighted_vs_unweighted", "DE").estimate.estimate, "de") in both
    assert 'data-testid="wave-picker"' in both


# ------------------------------------------------------------------------------------------------ margins


def _margins_file(name: str, text: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def test_demo_waves_have_their_margins_through_the_upload_service(demo):
    from digifit.demo.waves import MARGINS_DIR
    from digifit.reports.headline import read_margins

    for wave in demo:
        latest = selectors.margins_latest(waves=[wave])
        assert latest is not None and latest.version == 1 and latest.source == tour.MARGINS_SOURCE
        assert selectors.margins_of(latest) == read_margins(MARGINS_DIR)


def test_an_uploaded_version_is_used_by_reports_and_recorded(demo):
    from digifit.demo.waves import margins, margins_csv_bytes
    from digifit.survey.margins import margins_csv

    before = selectors.headline_get(wave=demo[0])
    changed = margins()
    changed[("country", "size")] = {k: v * (3 if k[0] == "DE" else 1) for k, v in changed[("country", "size")].items()}
    factor = sum(changed[("country", "size")].values()) / sum(changed[("sector",)].values())
    changed[("sector",)] = {k: v * factor for k, v in changed[("sector",)].items()}
    analyst = client_for("analyst")
    r = analyst.post("/reports/margins/", {"wave": demo[0].pk, "source": "Amt für Statistik 2024",
                                           "file": _margins_file("m.csv", margins_csv(changed))})  # fmt: skip
    assert r.status_code == 302
    latest = selectors.margins_latest(waves=[demo[0]])
    assert latest.version == 2 and latest.uploaded_by.username == "analyst"
    after = selectors.headline_get(wave=demo[0])
    # Germany has three times the weight: the pooled share moves towards Germany's
    de = after.line("headline", "DE").estimate.estimate
    assert abs(after.line("headline", "all").estimate.estimate - de) < abs(
        before.line("headline", "all").estimate.estimate - before.line("headline", "DE").estimate.estimate
    )
    assert "Amt für Statistik 2024" in after.margins_source and "v2" in after.margins_source
    assert selectors.margins_latest(waves=[demo[1]]).version == 1  # the other wave keeps its own
    page = analyst.get("/reports/margins/").content.decode()
    assert "Amt für Statistik 2024" in page and "v2" in page
    job = services.reportjob_create(wave=demo[0], format="html", lang="de", enqueue=False)
    assert job.margins == latest
    done = services.reportjob_run(job_id=job.pk)
    assert done.status == "done", done.error
    html = (services.reportjob_file(done)).read_text(encoding="utf-8")
    assert "Amt für Statistik 2024" in html and "Deutschland" in html
    services.margins_upload(wave=demo[0], content=margins_csv_bytes(), source=tour.MARGINS_SOURCE)
    selectors._headline.cache_clear()
    selectors._analysis.cache_clear()


@pytest.mark.parametrize(
    ("text", "where", "what"),
    [
        ("country,size,Freq\nDE,micro,viele\n", "Zeile 2, Spalte „Freq“", "keine Zahl"),
        ("country,size,Anzahl\nDE,micro,1\n", "Zeile 1", "Freq"),
        ("country,size,sector,Freq\nDE,micro,,1\nDE,micro,,2\n,,retail,3\n", "Zeile 3", "zweimal"),
        ("country,size,Freq\nDE,micro,1\n", "", "sector"),
    ],
)
def test_a_bad_margins_file_is_a_400_naming_row_and_column_and_stores_nothing(demo, text, where, what):
    from digifit.survey.models import WaveMargins

    count = WaveMargins.objects.count()
    r = client_for("analyst").post("/reports/margins/", {"wave": demo[0].pk, "file": _margins_file("m.csv", text)},
                                   HTTP_ACCEPT_LANGUAGE="de")  # fmt: skip
    assert r.status_code == 400
    body = r.content.decode()
    assert where in body and what in body
    assert WaveMargins.objects.count() == count


def test_a_margins_file_above_the_upload_limit_is_refused(demo, settings):
    from digifit.survey.models import WaveMargins
    from digifit.uploads import UploadLimits

    big = "country,size,sector,Freq\n" + "DE,micro,,1\n" * (UploadLimits().max_bytes // 12 + 10)
    r = client_for("analyst").post("/reports/margins/", {"wave": demo[0].pk, "file": _margins_file("m.csv", big)},
                                   HTTP_ACCEPT_LANGUAGE="en")  # fmt: skip
    assert r.status_code == 400 and "larger than 10 MB" in r.content.decode()
    assert not WaveMargins.objects.filter(wave=demo[0], version__gt=1).exists()


def test_only_who_may_start_reports_uploads_margins(demo):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user("nobody", password="pw-nobody-1")
    c = Client()
    assert c.login(username="nobody", password="pw-nobody-1")
    assert c.get("/reports/margins/").status_code == 403
    r = c.post("/reports/margins/", {"wave": demo[0].pk, "file": _margins_file("m.csv", "country,Freq\nDE,1\n")})
    assert r.status_code == 403


@pytest.mark.parametrize(
    ("lang", "text"),
    [("de", "Noch keine Randverteilungen"), ("en", "No population margins"), ("fr", "Pas encore de marges")],
)
def test_a_wave_without_margins_says_so_in_the_users_language(demo, lang, text):
    from digifit.survey.models import WaveMargins

    WaveMargins.objects.filter(wave=demo[1]).delete()
    analyst = client_for("analyst")
    r = analyst.get(f"/dashboard/?wave={demo[1].pk}", HTTP_ACCEPT_LANGUAGE=lang)
    assert r.status_code == 200 and text in r.content.decode()
    assert "/reports/margins/" in r.content.decode()
    r = analyst.get(f"/analysis/results?wave={demo[1].pk}&indicator=digital25&by=country", HTTP_ACCEPT_LANGUAGE=lang)
    assert r.status_code == 200 and text in r.content.decode()
    with pytest.raises(services.ReportJobError):
        services.reportjob_create(wave=demo[1], format="pdf", lang="de", enqueue=False)
    r = analyst.post("/reports/start", {"wave": demo[1].pk, "format": "pdf", "lang": "de"})
    assert r.status_code == 400


def test_labels_come_from_the_questionnaire_version_answered(demo):
    from digifit.survey.models import QuestionnaireVersion

    labels = selectors.level_labels_get(waves=demo)
    assert labels["country"]["DE"] == {"de": "Deutschland", "en": "Germany", "fr": "Allemagne"}
    version = QuestionnaireVersion.objects.get()
    schema = dict(version.schema)
    schema["choices"] = {k: [dict(c) for c in v] for k, v in schema["choices"].items()}
    country_list = next(f["list_name"] for f in schema["fields"] if f["name"] == "country")
    for choice in schema["choices"][country_list]:
        if choice["name"] == "DE":
            choice["labels"] = {"de": "Bundesrepublik Deutschland", "en": "Federal Republic of Germany"}
    QuestionnaireVersion.objects.filter(pk=version.pk).update(schema=schema)
    assert selectors.level_labels_get(waves=demo)["country"]["DE"]["en"] == "Federal Republic of Germany"
    selectors._headline.cache_clear()
    page = client_for("analyst").get(f"/dashboard/?wave={demo[0].pk}", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Federal Republic of Germany" in page
    selectors._headline.cache_clear()


def test_the_cli_loads_a_margins_version_through_the_same_service(demo, tmp_path):
    from click.testing import CliRunner

    from digifit.cli import main
    from digifit.demo.waves import margins_csv_bytes
    from digifit.survey.models import WaveMargins

    good, bad = tmp_path / "m.csv", tmp_path / "bad.csv"
    good.write_bytes(margins_csv_bytes())
    bad.write_text("country,size,sector,Freq\nDE,micro,,-5\n", encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(main, ["margins", "load", demo[1].name, str(bad)])
    assert result.exit_code == 2 and "row 2, column 'Freq'" in result.output
    assert WaveMargins.objects.filter(wave=demo[1]).count() == 1
    result = runner.invoke(main, ["margins", "load", str(demo[1].pk), str(good), "--source", "Landesamt"])
    assert result.exit_code == 0, result.output
    latest = selectors.margins_latest(waves=[demo[1]])
    assert latest.version == 2 and latest.source == "Landesamt"
    selectors._headline.cache_clear()
    selectors._analysis.cache_clear()
