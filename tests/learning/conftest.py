"""Fixtures of the learning tests: a small course (two modules: a text lesson, a video lesson, a knowledge check
with a single- and a multiple-choice question) on a catalogue training, and businesses with accounts."""

from __future__ import annotations

import itertools

import pytest

_counter = itertools.count(1)

COURSE = {
    "slug": "testkurs",
    "completion_rule": "all_lessons",
    "learning_outcomes": ["Erstens", "Zweitens"],
    "modules": [
        {"title": "Anfang", "title_en": "Start", "lessons": [
            {"title": "Lesen", "title_en": "Reading", "kind": "text", "body": "**Wichtig** ist <script>x()</script>"},
            {"title": "Schauen", "kind": "video", "video_url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ"},
        ]},
        {"title": "Prüfen", "lessons": [
            {"title": "Wissenscheck", "kind": "check", "pass_mark": 100, "questions": [
                {"text": "Eins?", "choices": [
                    {"text": "richtig", "correct": True, "feedback": "Genau."},
                    {"text": "falsch", "correct": False, "feedback": "Leider nein."},
                ]},
                {"text": "Mehrere?", "multiple": True, "choices": [
                    {"text": "A", "correct": True, "feedback": "A stimmt."},
                    {"text": "B", "correct": True, "feedback": "B stimmt."},
                    {"text": "C", "correct": False, "feedback": "C nicht."},
                ]},
            ]},
        ]},
    ],
}  # fmt: skip


def make_business(*, sector: str = "retail", email: str | None = None):
    from django.contrib.auth import get_user_model

    from digifit.programme import services

    n = next(_counter)
    email = email or f"kurs{n}@example.org"
    user = get_user_model().objects.create_user(username=email, email=email, password="pw-Secret-123")
    return services.business_register(
        user=user, company=f"Kursfirma {n}", sector=sector, size_class="micro", region="BY",
        contact_name=f"Inhaber {n}", email=email, consent=True, language="de", verified=True,
    )  # fmt: skip


def make_course(data=None, *, slug: str = "kurs-training"):
    from digifit.learning import services
    from digifit.programme import services as programme

    training = programme.training_upsert(slug=slug, title="Testkurs", title_en="Test course", topic="storytelling")
    course, _created = services.course_load(training=training, data=data or COURSE)
    return course


def right_answers(lesson) -> dict[int, list[int]]:
    return {q.pk: [c.pk for c in q.choices.all() if c.correct] for q in lesson.questions.all()}


def wrong_answers(lesson) -> dict[int, list[int]]:
    """Right except the multiple-choice question, where only one of the two right answers is chosen."""
    out = right_answers(lesson)
    multiple = lesson.questions.get(multiple=True)
    out[multiple.pk] = out[multiple.pk][:1]
    return out


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def course(db):
    return make_course()


@pytest.fixture
def business(db):
    return make_business()
