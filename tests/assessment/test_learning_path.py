"""Learning-path rules: weakest dimensions and missing channels → catalogue topics; with plain records and with
the programme's real catalogue (trainings, upcoming Tuesday sessions, registration link)."""

from __future__ import annotations

import datetime as dt

import pytest

from digifit.assessment.learning_path import load_path_rules, recommend
from digifit.assessment.scoring import RulesError, score

from .conftest import answers

WEAK_DATA_AND_GREEN = {"strategy": 3, "readiness": 4, "human": 3, "data": 0, "automation": 3, "green": 1}


class Records:
    """A catalogue of plain dictionaries, filtered the way the programme's selectors filter."""

    def __init__(self, trainings, sessions=()):
        self._trainings = trainings
        self._sessions = list(sessions)
        self.calls = []

    def trainings(self, *, sector, topics, language):
        self.calls.append((sector, tuple(topics), language))
        return [
            t
            for t in self._trainings
            if t["topic"] in topics
            and (sector is None or t["sectors"] == "all" or sector in t["sectors"].split())
            and (language is None or t["language"] == language)
        ]

    def sessions(self, *, sector, limit):
        return self._sessions[:limit]


TRAININGS = [
    {"slug": "strategie", "topic": "strategy", "sectors": "all", "language": "de"},
    {"slug": "website", "topic": "website", "sectors": "retail", "language": "de"},
    {"slug": "team", "topic": "collaboration", "sectors": "all", "language": "de"},
    {"slug": "insta", "topic": "instagram", "sectors": "gastronomy", "language": "de"},
    {"slug": "whatsapp", "topic": "whatsapp", "sectors": "all", "language": "en"},
]


def test_weakest_dimensions_get_their_topics():
    rules = load_path_rules()
    result = score(answers(scale=WEAK_DATA_AND_GREEN), _rules())
    path = recommend(result, rules, Records(TRAININGS, sessions=["s1", "s2", "s3", "s4"]), language="de")
    dims = [f for f in path.focus if f.kind == "dimension"]
    assert [(f.key, f.score) for f in dims] == [("data", 0.0), ("green", 25.0)]
    assert dims[0].topics == ("strategy", "website")
    assert [t["slug"] for t in dims[0].trainings] == ["strategie", "website"]
    assert [t["slug"] for t in dims[1].trainings] == ["team"]
    assert path.sessions == ("s1", "s2", "s3")  # rules.sessions = 3
    assert path.catalogue_sector == "retail"


def test_a_training_is_recommended_once():
    result = score(answers(scale={**WEAK_DATA_AND_GREEN, "green": 3, "human": 1}), _rules())
    path = recommend(result, load_path_rules(), Records(TRAININGS), language="de")
    # data: strategy+website; human: collaboration+strategy -> "strategie" not again
    assert [[t["slug"] for t in f.trainings] for f in path.focus if f.kind == "dimension"] == [
        ["strategie", "website"],
        ["team"],
    ]


def test_missing_channels_add_topics_and_sector_codes_are_mapped():
    result = score(answers(sector="hospitality", ch_social_media="no"), _rules())
    catalogue = Records(TRAININGS)
    path = recommend(result, load_path_rules(), catalogue, language="de")
    channels = [f for f in path.focus if f.kind == "channel"]
    assert [f.key for f in channels] == ["social_media", "online_ads"]
    assert [t["slug"] for t in channels[0].trainings] == ["insta"]
    assert {sector for sector, _topics, _lang in catalogue.calls} == {"gastronomy"}


def test_strong_results_and_threshold():
    result = score(answers(scale=4), _rules())  # every dimension 100
    path = recommend(result, load_path_rules(), Records(TRAININGS), language="de")
    assert [f for f in path.focus if f.kind == "dimension"] == []


def test_without_catalogue_the_topics_remain():
    result = score(answers(scale=WEAK_DATA_AND_GREEN), _rules())
    path = recommend(result, load_path_rules(), None)
    assert path.notes == ("catalogue unavailable",) and path.sessions == ()
    assert path.focus[0].topics == ("strategy", "website") and path.focus[0].trainings == ()


def test_edited_rules_file(tmp_path):
    edited = tmp_path / "path.toml"
    edited.write_text(
        'version = "x"\nweakest = 1\nbelow = 30\n[dimensions]\ngreen = { topics = ["collaboration"] }\n'
        'data = { topics = ["website"] }\n'
    )
    rules = load_path_rules(edited)
    result = score(answers(scale=WEAK_DATA_AND_GREEN), _rules())
    path = recommend(result, rules, Records(TRAININGS), language="de")
    assert [(f.key, f.topics) for f in path.focus] == [("data", ("website",))]  # green (25) is below 30 but n=1
    bad = tmp_path / "bad.toml"
    bad.write_text("weakest = 2\n")
    with pytest.raises(RulesError, match=r"bad\.toml"):
        load_path_rules(bad)


def _rules():
    from digifit.assessment.scoring import load_rules

    return load_rules()


# ----------------------------------------------------------------------------------------- programme


@pytest.mark.django_db
def test_result_page_recommends_programme_trainings_and_sessions(client):
    from digifit.assessment import services
    from digifit.programme import services as programme

    programme.training_upsert(slug="daten", title="Daten nutzen", topic="strategy", sectors="all", language="de")
    programme.training_upsert(slug="shop", title="Eigene Website", topic="website", sectors="retail", language="de")
    programme.training_upsert(slug="fr", title="Stratégie", topic="strategy", sectors="all", language="fr")
    today = dt.date.today()
    series = programme.series_create(slug="dienstag", title="Digital Durchstarten", start_date=today)
    programme.series_sessions_sync(series=series, through=today + dt.timedelta(days=35))
    a = services.assessment_submit(answers=answers(scale=WEAK_DATA_AND_GREEN, email="Laden@Example.org"))
    html = client.get(f"/check/r/{a.token}/").content.decode()
    assert "Daten nutzen" in html and "Eigene Website" in html and "Stratégie" not in html
    first = series.sessions.filter(start__gt=dt.datetime.now(dt.UTC)).order_by("start").first()
    assert f'href="/programme/sessions/{first.pk}/"' in html
    assert html.count('<form method="post" action="/programme/sessions/') == 3  # one-click registration
    assert (
        f'action="/programme/sessions/{first.pk}/"' in html
        and '<input type="hidden" name="role" value="follower">' in html
    )
    # a typed e-mail address counts for no business, not even a verified one of that address; a claim does
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(username="laden", email="laden@example.org", password="pw-X-12345")
    business = programme.business_register(
        user=user,
        company="Laden",
        sector="retail",
        size_class="micro",
        region="BY",
        contact_name="Inhaberin",
        email="laden@example.org",
        consent=True,
        language="de",
        verified=True,
    )
    from digifit.programme import selectors as programme_selectors

    assert programme_selectors.checks_by_business() == {}
    programme.check_claim(assessment=a, business=business)
    assert programme_selectors.checks_by_business() == {business.pk: a.completed_at}
