"""The wider-types corpus through the survey app: upload → XForm served → web form → stored, checked answers."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from django.utils import translation

from digifit.survey import formdef, respond, services
from digifit.survey.errors import SubmissionRejected
from digifit.survey.models import Submission, Wave
from digifit.survey.notices import notice_lines

from .test_openrosa import openrosa_headers, post_submission

CORPUS = Path(__file__).parents[1] / "forms" / "corpus"


def _wave(name: str):
    path = CORPUS / name
    added = services.questionnaire_version_add(content=path.read_bytes(), filename=path.name)
    return services.wave_create(questionnaire=added.version.questionnaire, name="w1", status=Wave.Status.OPEN)


@pytest.fixture
def wide(db):
    return _wave("wide_types.xlsx")


@pytest.fixture
def widgets(db):
    return _wave("web_widgets.xlsx")


def test_a_form_without_form_id_is_stored_under_its_file_name_and_opens(client, wide):
    version = wide.questionnaire.versions.get()
    assert wide.questionnaire.form_id == "wide_types" and 'id="wide_types"' in version.xform_xml
    formdef._PARSED.clear()  # the open link reads the stored file again, with the name it was uploaded under
    html = client.get(respond.wave_open_url(wide)).content.decode()
    assert "form_id" not in html and "Datum des Besuchs" in html
    assert 'type="time"' in html and 'type="datetime-local"' in html and 'type="range"' in html


def test_the_manager_is_told_per_row_what_the_web_form_cannot_offer(wide):
    schema = wide.questionnaire.versions.get().schema
    with translation.override("de"):
        lines = notice_lines(schema)
    assert "survey-Zeile 25 (building): der Fragetyp „osm“ braucht ODK Collect" in lines[7]
    assert any("last-saved" in line and "Zeile 32" in line for line in lines)
    with translation.override("en"):
        assert notice_lines(schema)[0].startswith("survey row 10 (place_bg): the question type")


def test_odk_only_questions_show_a_translated_notice(client, wide):
    url = respond.wave_open_url(wide)
    client.get(url)
    page1 = {"visit_date": "2026-12-03", "consent": "OK"}
    response = client.post(url, {"_page": "page1", "_action": "next", **page1})
    assert response.status_code == 302, response.content.decode()[:1500]
    html = client.get(response["Location"]).content.decode()
    assert "Seite 2" in html, html[-3000:]
    assert html.count("Diese Frage braucht die App ODK Collect") == 7  # image, audio, video, file, trace, shape, osm


def test_the_xform_is_served_to_odk_clients(client, make_user, wide):
    make_user("manager", "survey_manager")
    form = client.get("/openrosa/forms/wide_types/form.xml", headers=openrosa_headers())
    assert form.status_code == 200
    assert b'type="geopoint"' in form.content and b'mediatype="image/*"' in form.content
    assert b"odk:rank" in form.content or b"rank" in form.content


def test_an_odk_submission_of_the_new_types_is_checked_and_stored(client, make_user, wide):
    make_user("manager", "survey_manager")
    iid = str(uuid.uuid4())
    xml = f"""<?xml version='1.0' ?><wide_types id="wide_types" version="1"><where_started>52.5 13.4 0 5</where_started>
<page1><visit_date>2026-12-03</visit_date><visit_time>14:05:00.000+01:00</visit_time>
<visit_at>2026-12-03T14:05:00.000+01:00</visit_at><score>4</score><place>52.52 13.405 34 5</place>
<fruit_rank>pear plum apple</fruit_rank><consent>OK</consent><code>4006381333931</code></page1>
<page2><path>52.5 13.4 0 0;52.6 13.5 0 0</path><field_area>0 0;0 1;1 1;0 0</field_area></page2>
<visits><people>3</people></visits><meta><instanceID>uuid:{iid}</instanceID></meta></wide_types>""".encode()
    response = post_submission(client, xml)
    assert response.status_code == 201, response.content
    data = Submission.objects.get(instance_id=iid).data
    assert data["score"] == 4 and data["place"] == "52.52 13.405 34 5" and data["fruit_rank"] == "pear plum apple"
    assert data["visits"] == [{"people": 3, "people_plus": 4, "people_twice": 6}]
    bad = xml.replace(b"<score>4</score>", b"<score>5</score>").replace(iid.encode(), str(uuid.uuid4()).encode())
    refused = post_submission(client, bad)
    assert refused.status_code == 422 and b"score" in refused.content


def test_the_web_form_widgets_post_typed_values(client, widgets):
    url = respond.wave_open_url(widgets)
    html = client.get(url).content.decode()
    assert 'name="place#lat"' in html and 'data-move="up"' in html and "<output" in html
    page = {
        "visit_date": "2026-12-03",
        "visit_time": "14:05",
        "visit_at": "2026-12-03T14:05",
        "score": "6",
        "place#lat": "52.52",
        "place#lon": "13.405",
        "place#acc": "12",
        "fruit_rank": ["plum", "apple", "pear"],
        "consent": "OK",
        "code": "ABC-123",
    }
    response = client.post(url, {"_page": "page1", "_action": "submit", **page})
    assert response.status_code == 302, response.content.decode()[:2000]
    data = Submission.objects.get(wave=widgets).data
    assert data["place"] == "52.52 13.405 0 12" and data["fruit_rank"] == "plum apple pear"
    assert data["score"] == 6 and data["visit_time"] == "14:05" and data["visit_at"] == "2026-12-03T14:05"
    import pyarrow.parquet as pq

    from digifit.survey import exports

    table = pq.read_table(exports.parquet_bytes(exports.ExportSpec(questionnaire=widgets.questionnaire, wave=widgets)))
    assert table.column("score").to_pylist() == [6.0] and table.column("place").to_pylist() == ["52.52 13.405 0 12"]


def test_a_bad_typed_location_is_refused_next_to_the_field(client, widgets):
    url = respond.wave_open_url(widgets)
    client.get(url)
    page = {"visit_date": "2026-12-03", "place#lat": "95", "place#lon": "13"}
    html = client.post(url, {"_page": "page1", "_action": "submit", **page}).content.decode()
    assert 'id="f-place-error"' in html and "Breite −90…90" in html
    assert not Submission.objects.filter(wave=widgets, status=Submission.Status.COMPLETE).exists()


def test_service_check_names_the_field(widgets):
    version = widgets.questionnaire.versions.get()
    with pytest.raises(SubmissionRejected) as info:
        formdef.answers_check(version, {"visit_date": "2026-12-03", "visit_time": "26:00"}, language="en")
    assert [p.field for p in info.value.problems] == ["visit_time"]
