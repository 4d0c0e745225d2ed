"""The organiser's reach page: labels instead of codes, numbers and dates in the UI locale, the forecast as a
translated sentence, the charts' specs (no inline script), labelled CSV — and the band of the forecast."""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model

from digifit.programme import reach, roles, selectors, services
from digifit.programme.models import Business, Session

from .conftest import make_business, make_series

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(settings, monkeypatch):
    """12 businesses over six weeks of 2026: 8 attended, 5 of those completed the check."""
    settings.DIGIFIT_REACH_TARGET, settings.DIGIFIT_REACH_DEADLINE = 10000, "2026-12-31"
    series = make_series(start=date(2026, 1, 6), through=date(2026, 3, 31))
    sessions = list(Session.objects.filter(series=series).order_by("start"))
    businesses = [
        make_business(sector=["retail", "travel", "gastronomy"][i % 3], region=["BY", "BB"][i % 2]) for i in range(12)
    ]
    for i, b in enumerate(businesses):
        Business.objects.filter(pk=b.pk).update(created_at=datetime(2026, 1, 5, 9, tzinfo=UTC) + timedelta(weeks=i % 6))
        if i < 8:
            session = sessions[i % 6 + 1]
            reg = services.session_register(
                session=session, business=b, role="follower", now=session.start - timedelta(days=3)
            )
            services.attendance_mark(registration=reg, attended=True)
    checks = {businesses[i].pk: date(2026, 2, 20) for i in (0, 1, 2, 3, 4, 9)}
    monkeypatch.setattr(selectors, "completed_checks", lambda: (checks, "test"))
    return businesses


@pytest.fixture
def organiser(client):
    user = get_user_model().objects.create_user(username="orga", password="pw-Secret-123")
    roles.user_role_assign(user=user, role=roles.ORGANISER)
    client.force_login(user)
    return client


def test_german_page_has_labels_separators_sentence_and_chart_specs(organiser, history):
    html = organiser.get("/programme/reach/", headers={"Accept-Language": "de"}).content.decode()
    visible = re.sub(r"<script.*?</script>", "", html, flags=re.S).replace('max="10000"', "")
    assert "10.000" in visible and "10000" not in visible
    assert "31. Dezember 2026" in html
    sector_table = html[html.index('id="by-sector"') :]
    sector_table = sector_table[: sector_table.index("</table>")]
    assert "Gastronomie" in sector_table and "Handel" in sector_table and "gastronomy" not in sector_table
    region_table = html[html.index('id="by-region"') :]
    region_table = region_table[: region_table.index("</table>")]
    assert "Brandenburg" in region_table and "Bayern" in region_table and ">BB<" not in region_table
    sentence = re.search(r'<p id="forecast">(.*?)</p>', html, re.S).group(1)
    assert "Das Ziel von 10.000 digital fitten Unternehmen" in sentence
    assert "Dezember 2026" in sentence and "Wahrscheinlichkeit" in sentence
    assert "Target" not in sentence and re.search(r"\d{4}-\d\d-\d\d", sentence) is None
    # the charts: specs as JSON data, rendered by a static file; no inline executable script
    funnel = json.loads(re.search(r'<script id="funnel-spec" type="application/json">(.*?)</script>', html, re.S)[1])
    assert [v["n"] for v in funnel["data"]["values"]] == [12, 8, 5]
    assert [v["stage"] for v in funnel["data"]["values"]] == ["Registriert", "Teilgenommen", "Digital fit"]
    trend = json.loads(re.search(r'<script id="trend-spec" type="application/json">(.*?)</script>', html, re.S)[1])
    layers = {layer["mark"]["type"]: layer for layer in trend["layer"]}
    assert set(layers) == {"area", "line", "rule", "text"}
    assert layers["rule"]["data"]["values"][0]["target"] == 10000
    assert layers["area"]["data"]["values"], "the forecast band is drawn"
    for script in re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S):
        assert 'type="application/json"' in script[0] or ("src=" in script[0] and not script[1].strip())
    assert "digifit/embed-charts.js" in html


def test_numbers_come_from_reach(organiser, history):
    """The page shows what digifit.programme.reach computes, not a count of its own."""
    s = selectors.reach_summary()
    html = organiser.get("/programme/reach/").content.decode()
    assert f'id="fit-count">{s.total.fit}<' in html
    trend = json.loads(re.search(r'<script id="trend-spec" type="application/json">(.*?)</script>', html, re.S)[1])
    line = next(layer for layer in trend["layer"] if layer["mark"]["type"] == "line")
    actual = [v["n"] for v in line["data"]["values"] if v["series"] == "Digital fit (kumuliert)"]
    assert actual == [n for _d, n in s.cumulative] and actual[-1] == s.total.fit


def test_csv_exports_carry_labels_in_the_ui_language(organiser, history):
    rows = list(csv.DictReader(io.StringIO(organiser.get("/programme/reach.csv", {"by": "region"}).content.decode())))
    assert {(r["region"], r["region_label"]) for r in rows} == {("BB", "Brandenburg"), ("BY", "Bayern")}
    english = organiser.get("/programme/reach.csv", {"by": "sector"}, headers={"Accept-Language": "en"})
    labels = {r["sector_label"] for r in csv.DictReader(io.StringIO(english.content.decode()))}
    assert labels == {"Retail", "Travel", "Gastronomy"}
    refused = organiser.get("/programme/reach.csv", {"by": "colour"}, headers={"Accept-Language": "de"})
    assert refused.status_code == 400 and "Unbekannte Gruppierung" in refused.content.decode()


def test_an_empty_programme_renders_without_a_forecast(organiser, settings):
    settings.DIGIFIT_REACH_TARGET, settings.DIGIFIT_REACH_DEADLINE = 10000, "2026-12-31"
    resp = organiser.get("/programme/reach/", headers={"Accept-Language": "de"})
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "Noch keine Prognose" in html and "no registered business" not in html


def test_the_band_follows_the_forecast():
    """The band comes from the same simulated futures: its median crosses the target in the forecast's week."""
    history = [(date(2026, 1, 5) + timedelta(weeks=k), 50) for k in range(20)]
    f = reach.forecast(history, target=3000, deadline=date(2027, 6, 30))
    band = reach.forecast_band(history, target=3000, deadline=date(2027, 6, 30))
    assert band[0].week_end == f.last_week + timedelta(days=13)
    assert band[-1].week_end <= date(2027, 6, 30) < band[-1].week_end + timedelta(days=7)
    assert all(p.low <= p.median <= p.high for p in band)
    assert all(a.median <= b.median for a, b in itertools.pairwise(band))
    crossed = next(p.week_end for p in band if p.median >= 3000)
    assert abs((crossed - f.expected).days) <= 7
    assert reach.forecast_band([(date(2026, 1, 5) + timedelta(weeks=k), 50) for k in range(8)], target=100) == []
