"""A course as a file: export → import gives the same course (the authoring round trip), in the browser's pages
for organisers; a foreign, newer, broken or clashing file is refused with a sentence and stores nothing."""

from __future__ import annotations

import io
import json

import pytest

pytestmark = pytest.mark.django_db


def _organiser(client):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    user = get_user_model().objects.create_user("orga", password="pw-Secret-123")
    user.user_permissions.add(Permission.objects.get(codename="view_reach"))
    client.force_login(user)


def _upload(client, data: bytes, name: str = "kurs.json"):
    f = io.BytesIO(data)
    f.name = name
    return client.post("/programme/courses/import/", {"file": f}, headers={"Accept-Language": "de"})


def test_export_then_import_gives_the_same_course(client, course):
    from digifit.learning import course_file
    from digifit.learning.models import Course
    from digifit.programme.models import Training

    _organiser(client)
    response = client.get(f"/learning/courses/{course.slug}/export.json")
    assert response.status_code == 200 and response["Content-Disposition"].endswith(f'course-{course.slug}.json"')
    exported = json.loads(response.content)
    assert exported["format"] == "digifit-course" and exported["version"] == 1
    assert [len(m["lessons"]) for m in exported["course"]["modules"]] == [2, 1]

    before = course_file.course_export(course)
    Course.objects.all().delete()
    Training.objects.all().delete()
    imported = _upload(client, response.content)
    assert imported.status_code == 302 and imported["Location"] == f"/learning/courses/{course.slug}/"
    again = course_file.course_export(Course.objects.get(slug=course.slug))
    assert again == before  # every module, lesson, question, answer, feedback and the training's fields


def test_scorm_lessons_are_listed_as_skipped(course, settings, tmp_path):
    from digifit.demo.scorm_package import build_package
    from digifit.learning import course_file, services

    module = course.modules.order_by("position").first()
    services.scorm_package_add(module=module, data=build_package(), file_name="q.zip", root=tmp_path)
    exported = course_file.course_export(course)
    assert exported["skipped"] == [{"module": 1, "lesson": "Auf Online-Bewertungen antworten – Quiz", "kind": "scorm"}]
    assert all(lesson["kind"] != "scorm" for m in exported["course"]["modules"] for lesson in m["lessons"])


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (lambda d: b"{not json", "nicht importiert werden: die Datei ist kein JSON (Zeile 1"),
        (lambda d: json.dumps({**d, "format": "moodle-backup"}).encode(), "keine digifit-Kursdatei"),
        (lambda d: json.dumps({**d, "version": 2}).encode(), "Version 2; dieses digifit liest die Versionen 1 bis 1"),
        (lambda d: json.dumps({**d, "training": {**d["training"], "topic": "tiktok"}}).encode(), "topic"),
        (lambda d: json.dumps({**d, "training": {**d["training"], "colour": 1}}).encode(), "Feld(er) colour"),
        (lambda d: json.dumps({**d, "course": {**d["course"], "modules": "viele"}}).encode(), "nicht so aufgebaut"),
        (lambda d: json.dumps(d).encode(), 'einen Kurs mit dem Kürzel „testkurs“ gibt es hier schon'),
    ],
)  # fmt: skip
def test_a_bad_course_file_is_refused_and_stores_nothing(client, course, change, said):
    from digifit.learning import course_file
    from digifit.learning.models import Course, Lesson
    from digifit.programme.models import Training

    _organiser(client)
    data = course_file.course_export(course)
    data["training"]["slug"] = "andere-schulung"
    if "gibt es hier schon" not in said:
        data["course"]["slug"] = "neuer-kurs"
    counts = (Course.objects.count(), Training.objects.count(), Lesson.objects.count())
    response = _upload(client, change(data))
    html = response.content.decode()
    assert response.status_code == 400 and said in html.replace("&quot;", '"'), html[-600:]
    assert (Course.objects.count(), Training.objects.count(), Lesson.objects.count()) == counts


def test_only_organisers_export_and_import(client, course, business):
    client.force_login(business.user)
    assert client.get(f"/learning/courses/{course.slug}/export.json").status_code == 403
    assert client.get("/programme/courses/import/").status_code == 403
    client.logout()
    assert client.get("/programme/courses/import/").status_code == 302
