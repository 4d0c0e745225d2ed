"""The demo's SCORM 1.2 package, built here from the files in ``scorm_demo/`` (original content, written for the
demo): a three-question quiz "Auf Online-Bewertungen antworten" that talks to the LMS only through the SCORM
1.2 API (``LMSInitialize``, ``LMSGetValue``/``LMSSetValue`` of status, score and suspend data, ``LMSCommit``,
``LMSFinish``), as a package from an authoring tool does.

``build_package()`` returns the .zip bytes; ``load_scorm_course()`` stores a catalogue training with a course
whose only lesson plays the package (idempotent), so ``digifit demo`` shows SCORM end to end.
"""

from __future__ import annotations

import io
import zipfile
from importlib import resources
from pathlib import Path

__all__ = ["COURSE_SLUG", "build_package", "load_scorm_course"]

COURSE_SLUG = "bewertungen-beantworten"
FILES = ("imsmanifest.xml", "index.html", "quiz.js", "quiz.css")


def build_package(*, version: str = "1.2") -> bytes:
    """The demo package as a .zip (``version="2004"``: the same quiz with a SCORM 2004 manifest and API)."""
    folder = resources.files("digifit.demo.scorm_demo")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in FILES:
            source = "imsmanifest_2004.xml" if name == "imsmanifest.xml" and version == "2004" else name
            zf.writestr(name, folder.joinpath(source).read_bytes())
    return buffer.getvalue()


def load_scorm_course(*, root: Path) -> bool:
    """Store the demo's SCORM course (training, course, one module, the package as its lesson); False when it
    exists already."""
    from digifit.learning import services
    from digifit.learning.models import Course, Module
    from digifit.programme import services as programme

    if Course.objects.filter(slug=COURSE_SLUG).exists():
        return False
    training = programme.training_upsert(
        slug="kurs-bewertungen",
        title="Auf Online-Bewertungen antworten",
        title_en="Answering online reviews",
        title_fr="Répondre aux avis en ligne",
        sectors="all",
        topic="storytelling",
        level="beginner",
        format="self_paced",
        language="de",
        duration_minutes=10,
        summary="Ein kurzes interaktives Quiz (SCORM): wie Sie auf Lob und Kritik bei Google, Tripadvisor und Co. "
        "freundlich, schnell und öffentlich gut antworten.",
    )
    course = Course.objects.create(
        training=training,
        slug=COURSE_SLUG,
        learning_outcomes="Auf Kritik sachlich und freundlich antworten\nLob persönlich beantworten\n"
        "Wissen, wann eine Antwort öffentlich und wann persönlich sein sollte",
        completion_rule=Course.Completion.ALL_LESSONS,
        published=True,
    )
    module = Module.objects.create(course=course, position=1, title="Interaktives Quiz", title_en="Interactive quiz")
    services.scorm_package_add(
        module=module, data=build_package(), file_name="bewertungen-scorm12.zip", title="", root=root
    )
    return True
