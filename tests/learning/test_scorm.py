"""SCORM packages: the manifest is read (1.2 and 2004) or refused naming the element; an upload goes through the
hostile-file checks and leaves nothing behind when refused; the package's files are served sandboxed with
scorm-again's cross-frame API put in; commits are stored under a signed token, and a completed or passed package
completes its lesson; the organiser uploads and sees who played it."""

from __future__ import annotations

import io
import json
import stat
import zipfile

import pytest

from learning.conftest import make_business

pytestmark = pytest.mark.django_db


def _zip(files: dict[str, bytes | str], *, link: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
        if link:
            info = zipfile.ZipInfo(link)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, "/etc/passwd")
    return buffer.getvalue()


MANIFEST_12 = """<?xml version="1.0"?>
<manifest identifier="M" xmlns="http://www.imsproject.org/xsd/imscp_rootv1p1p2"
  xmlns:adlcp="http://www.adlnet.org/xsd/adlcp_rootv1p2">
  <metadata><schema>ADL SCORM</schema><schemaversion>1.2</schemaversion></metadata>
  <organizations default="O"><organization identifier="O"><title>Titel</title>
    <item identifier="I0"><title>Kapitel</title>
      <item identifier="I1" identifierref="R1" parameters="?lang=de"><title>SCO</title></item></item>
  </organization></organizations>
  <resources xml:base="content/"><resource identifier="R1" type="webcontent" adlcp:scormtype="sco" href="start.html"/>
  </resources>
</manifest>"""


@pytest.fixture
def scorm_root(settings, tmp_path):
    settings.DIGIFIT_SCORM_ROOT = tmp_path / "scorm"
    return settings.DIGIFIT_SCORM_ROOT


@pytest.fixture
def module(db):
    from digifit.learning.models import Course, Module
    from digifit.programme import services as programme

    training = programme.training_upsert(slug="kurs-scorm", title="Bewertungen", topic="storytelling")
    course = Course.objects.create(training=training, slug="scorm-kurs", published=True)
    return Module.objects.create(course=course, position=1, title="Quiz")


def _add(module, root, data=None, version="1.2"):
    from digifit.demo.scorm_package import build_package
    from digifit.learning import services

    return services.scorm_package_add(
        module=module, data=data or build_package(version=version), file_name="quiz.zip", root=root
    )


# ------------------------------------------------------------------------------------------ the manifest


def test_the_manifest_of_scorm_12_and_2004_packages_is_read():
    from digifit.demo.scorm_package import build_package
    from digifit.learning import scorm_manifest

    m = scorm_manifest.read(MANIFEST_12.encode(), {"content/start.html"})
    assert (m.version, m.title, m.launch) == ("1.2", "Titel", "content/start.html?lang=de")  # nested item, xml:base
    for version in ("1.2", "2004"):
        zf = zipfile.ZipFile(io.BytesIO(build_package(version=version)))
        m = scorm_manifest.read(zf.read("imsmanifest.xml"), set(zf.namelist()))
        assert (m.version, m.launch) == (version, "index.html")


@pytest.mark.parametrize(
    ("change", "code", "named"),
    [
        (lambda t: t.replace("<manifest ", "<paket ").replace("</manifest>", "</paket>"), "root", "<paket>"),
        (lambda t: t.replace("<schemaversion>1.2", "<schemaversion>CAM 1.0"), "version", "CAM 1.0"),
        (lambda t: t.replace('default="O"', 'default="X"'), "default_missing", 'default="X"'),
        (lambda t: t.replace('identifierref="R1"', ""), "no_item", 'identifier="O"'),
        (lambda t: t.replace('identifierref="R1"', 'identifierref="R9"'), "no_resource", 'identifierref="R9"'),
        (lambda t: t.replace(' href="start.html"', ""), "no_href", 'identifier="R1"'),
        (lambda t: t.replace('href="start.html"', 'href="../../etc/passwd"'), "outside", "../../etc/passwd"),
        (lambda t: t.replace('href="start.html"', 'href="https://tracker.example/x.html"'), "outside", "tracker"),
        (lambda t: t.replace('href="start.html"', 'href="fehlt.html"'), "missing_file", "fehlt.html"),
        (lambda t: t.replace("</manifest>", ""), "not_xml", "line"),
        (lambda t: t.replace("?>", '?><!DOCTYPE m [<!ENTITY a "b">]>', 1), "entities", "DTD"),
    ],
)  # fmt: skip
def test_a_broken_manifest_is_refused_naming_the_element(change, code, named):
    from digifit.learning import scorm_manifest

    with pytest.raises(scorm_manifest.ManifestInvalid) as refused:
        scorm_manifest.read(change(MANIFEST_12).encode(), {"content/start.html"})
    assert refused.value.code == code and named in str(refused.value)


# ------------------------------------------------------------------------------------------ the upload


def test_a_package_becomes_the_modules_last_lesson(module, scorm_root):
    lesson = _add(module, scorm_root)
    package = lesson.scorm
    assert lesson.kind == "scorm" and lesson.position == 1 and lesson.title == "Auf Online-Bewertungen antworten – Quiz"
    assert (package.version, package.launch, package.files) == ("1.2", "index.html", 4)
    assert (scorm_root / package.key / "index.html").is_file() and len(package.key) == 32
    assert _add(module, scorm_root, version="2004").position == 2


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"not a zip at all", "not_scorm"),
        (_zip({"../evil.html": "x", "imsmanifest.xml": MANIFEST_12}), "bad_path"),
        (_zip({"imsmanifest.xml": MANIFEST_12}, link="content/start.html"), "bad_path"),
        (_zip({"index.html": "x"}), "no_manifest"),
        (_zip({"kurs/imsmanifest.xml": MANIFEST_12}), "no_manifest"),
        (_zip({"imsmanifest.xml": MANIFEST_12.replace("start.", "fehlt."), "content/start.html": "x"}), "missing_file"),
        (_zip({"imsmanifest.xml": "x" * 10, "big.bin": b"\0" * (3 * 2**20)}), "ratio"),
    ],
)  # fmt: skip
def test_a_hostile_or_broken_package_is_refused_and_leaves_nothing(module, scorm_root, data, code):
    from digifit.learning.models import Lesson, ScormPackage
    from digifit.learning.scorm_manifest import ManifestInvalid
    from digifit.uploads import UploadRefused

    with pytest.raises((UploadRefused, ManifestInvalid)) as refused:
        _add(module, scorm_root, data=data)
    assert refused.value.code == code
    assert not Lesson.objects.exists() and not ScormPackage.objects.exists()
    assert not scorm_root.exists() or list(scorm_root.iterdir()) == []


def _organiser(client):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    user = get_user_model().objects.create_user("orga", password="pw-Secret-123")
    user.user_permissions.add(Permission.objects.get(codename="view_reach"))
    client.force_login(user)
    return user


def test_the_organiser_uploads_a_package_and_sees_who_played_it(client, module, scorm_root):
    from digifit.demo.scorm_package import build_package
    from digifit.learning import services

    _organiser(client)
    page = client.get("/learning/packages/", headers={"Accept-Language": "de"})
    assert page.status_code == 200 and "SCORM-Paket (.zip)" in page.content.decode()
    upload = io.BytesIO(build_package())
    upload.name = "quiz.zip"
    response = client.post("/learning/packages/", {"package": upload, "module": module.pk, "title": "Quiz"})
    assert response.status_code == 302
    lesson = module.lessons.get()
    assert lesson.title == "Quiz" and response["Location"] == f"/learning/packages/{lesson.scorm.pk}/"

    business = make_business()
    enrolment = services.course_enrol(business=business, course=module.course)
    services.scorm_commit(enrolment=enrolment, lesson=lesson, commit=_commit_12("passed", "80"))
    detail = client.get(response["Location"], headers={"Accept-Language": "de"}).content.decode()
    assert business.company in detail and "bestanden" in detail and "80 %" in detail
    listing = client.get("/learning/packages/").content.decode()
    assert f'data-package="{lesson.scorm.pk}"' in listing


def test_a_refused_upload_says_in_german_which_element_is_wrong(client, module, scorm_root):
    _organiser(client)
    broken = io.BytesIO(_zip({"imsmanifest.xml": MANIFEST_12.replace('identifierref="R1"', 'identifierref="R9"')}))
    broken.name = "kaputt.zip"
    page = client.post(
        "/learning/packages/", {"package": broken, "module": module.pk}, headers={"Accept-Language": "de"}
    )
    html = page.content.decode()
    assert page.status_code == 400
    assert "verweist auf identifierref=&quot;R9&quot;" in html and "Exportieren Sie den Kurs" in html
    nested = io.BytesIO(_zip({"kurs/imsmanifest.xml": MANIFEST_12}))
    nested.name = "ordner.zip"
    html = client.post(
        "/learning/packages/", {"package": nested, "module": module.pk}, headers={"Accept-Language": "de"}
    ).content.decode()
    assert "sie liegt im Ordner kurs/" in html
    assert not module.lessons.exists()


def test_only_organisers_upload(client, module, scorm_root):
    business = make_business()
    client.force_login(business.user)
    assert client.get("/learning/packages/").status_code == 403
    assert client.post("/learning/packages/", {"module": module.pk}).status_code == 403


# ------------------------------------------------------------------------------------------ serving


def test_package_files_are_served_sandboxed_with_the_cross_frame_api(client, module, scorm_root):
    package = _add(module, scorm_root).scorm
    response = client.get(f"/learning/scorm/{package.key}/index.html")
    html = response.content.decode()
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    policy = response["Content-Security-Policy"]
    assert policy.startswith("sandbox allow-scripts") and "allow-same-origin" not in policy
    assert "frame-ancestors 'self'" in policy and response["X-Frame-Options"] == "SAMEORIGIN"
    head = html.index("<head>") + len("<head>")
    assert html[head:].startswith('<script src="/static/vendor/cross-frame-api.min.js"></script>')
    assert 'data-lms="http://testserver" data-version="1.2"' in html
    script = client.get(f"/learning/scorm/{package.key}/quiz.js")
    assert script.status_code == 200 and b"LMSInitialize" in b"".join(script.streaming_content)
    assert script["Content-Security-Policy"] == policy
    for bad in ("../../../etc/passwd", "%2e%2e/%2e%2e/secret_key", "fehlt.html"):
        assert client.get(f"/learning/scorm/{package.key}/{bad}").status_code == 404, bad
    assert client.get("/learning/scorm/0123456789abcdef0123456789abcdef/index.html").status_code == 404


# ------------------------------------------------------------------------------------------ commits


def _commit_12(status: str, raw: str = "", suspend: str = "", total: str = "") -> dict:
    core = {"lesson_status": status, "score": {"raw": raw, "min": "0", "max": "100"}}
    if total:
        core["total_time"] = total
    return {"cmi": {"core": core, "suspend_data": suspend}}


@pytest.fixture
def player(module, scorm_root):
    from digifit.learning import services
    from digifit.learning.views import scorm_commit_token

    lesson = _add(module, scorm_root)
    business = make_business()
    enrolment = services.course_enrol(business=business, course=module.course)
    return enrolment, lesson, f"/learning/scorm-commit/{scorm_commit_token(enrolment, lesson)}/"


def test_commits_are_stored_and_a_passed_package_completes_the_lesson_and_course(client, player):
    from digifit.learning.models import LessonProgress, ScormRecord

    enrolment, lesson, url = player
    failed = client.post(url, _commit_12("failed", "33", "q1=a"), content_type="application/json")
    assert failed.json() == {"result": True, "errorCode": 0, "done": False}
    record = ScormRecord.objects.get()
    assert (record.completion, record.success, record.score) == ("incomplete", "failed", 33)
    assert not LessonProgress.objects.exists()
    passed = client.post(
        url, json.dumps(_commit_12("passed", "100", "q1=b", "0001:02:03.5")), content_type="text/plain"
    )
    assert passed.json()["done"] is True  # the unload commit is sent as text/plain: still read
    record.refresh_from_db()
    assert (record.success, record.score, record.total_seconds, record.commits) == ("passed", 100, 3723.5, 2)
    enrolment.refresh_from_db()
    assert LessonProgress.objects.filter(lesson=lesson).exists() and enrolment.completed_at is not None
    # a later restart does not take the completion back
    client.post(url, _commit_12("incomplete"), content_type="application/json")
    enrolment.refresh_from_db()
    assert enrolment.completed_at is not None and LessonProgress.objects.filter(lesson=lesson).exists()


def test_a_scorm_2004_commit_reads_completion_success_and_scaled_score(module, scorm_root):
    from digifit.learning import services

    lesson = _add(module, scorm_root, version="2004")
    enrolment = services.course_enrol(business=make_business(), course=module.course)
    cmi = {
        "completion_status": "completed",
        "success_status": "failed",
        "score": {"scaled": "0.5"},
        "total_time": "PT1H2M3S",
    }
    record = services.scorm_commit(enrolment=enrolment, lesson=lesson, commit={"runtimeData": {"cmi": cmi}})
    assert (record.completion, record.success, record.score, record.total_seconds) == ("completed", "failed", 50, 3723)
    assert enrolment.progress.filter(lesson=lesson).exists()  # completed counts even when not passed


def test_bad_commits_are_refused_and_store_nothing(client, player):
    from digifit.learning.models import ScormRecord

    _enrolment, _lesson, url = player
    assert client.post(url, "{not json", content_type="application/json").status_code == 400
    assert client.post(url, {"cmi": "x"}, content_type="application/json").status_code == 400
    assert client.post(url, [1, 2], content_type="application/json").status_code == 400
    assert client.get(url).status_code == 405
    assert (
        client.post(
            "/learning/scorm-commit/forged-token/", _commit_12("passed"), content_type="application/json"
        ).status_code
        == 404
    )
    assert not ScormRecord.objects.exists()


def test_the_player_resumes_from_the_stored_state_with_a_pseudonym(client, player):
    from digifit.learning import selectors, services

    enrolment, lesson, _url = player
    start = selectors.scorm_start(enrolment=enrolment, package=lesson.scorm)
    assert start["core"] == {"student_id": f"digifit-{enrolment.pk}", "student_name": "", "entry": "ab-initio"}
    services.scorm_commit(enrolment=enrolment, lesson=lesson, commit=_commit_12("incomplete", suspend="q2=a"))
    start = selectors.scorm_start(enrolment=enrolment, package=lesson.scorm)
    assert start["suspend_data"] == "q2=a" and start["core"]["entry"] == "resume"
    assert start["core"]["lesson_status"] == "incomplete"
    client.force_login(enrolment.business.user)
    page = client.get(
        f"/learning/courses/{lesson.module.course.slug}/lessons/{lesson.pk}/", headers={"Accept-Language": "de"}
    )
    html = page.content.decode()
    assert page.status_code == 200 and 'id="scorm-config" type="application/json"' in html
    assert "Ihr Fortschritt ist gespeichert" in html and enrolment.business.company not in html.split("scorm-config")[1]
    assert "/static/vendor/scorm12.min.js" in html and "Als erledigt markieren" not in html
    exported = selectors.courses_export(business=enrolment.business)
    assert exported[0]["scorm"][0]["cmi"]["suspend_data"] == "q2=a"


def test_a_scorm_lesson_cannot_be_marked_done_by_hand(player):
    from digifit.learning import services
    from digifit.learning.errors import LessonRefused

    enrolment, lesson, _url = player
    with pytest.raises(LessonRefused):
        services.lesson_done(enrolment=enrolment, lesson=lesson)


def test_the_organiser_removes_a_package_with_its_lesson_and_files(client, player, scorm_root):
    from digifit.learning import services
    from digifit.learning.models import Lesson, ScormPackage, ScormRecord

    enrolment, lesson, _url = player
    services.scorm_commit(enrolment=enrolment, lesson=lesson, commit=_commit_12("passed", "90"))
    enrolment.refresh_from_db()
    completed = enrolment.completed_at
    package = lesson.scorm
    _organiser(client)
    url = f"/learning/packages/{package.pk}/"
    assert client.post(url, {"action": "delete"}).status_code == 302  # not confirmed: nothing removed
    assert ScormPackage.objects.filter(pk=package.pk).exists()
    response = client.post(url, {"action": "delete", "confirm": "yes"}, headers={"Accept-Language": "de"})
    assert response.status_code == 302 and response["Location"] == "/learning/packages/"
    assert not Lesson.objects.filter(pk=lesson.pk).exists() and not ScormRecord.objects.exists()
    assert not (scorm_root / package.key).exists()
    enrolment.refresh_from_db()
    assert enrolment.completed_at == completed  # a completion reached stays
    assert client.get(f"/learning/scorm/{package.key}/index.html").status_code == 404
