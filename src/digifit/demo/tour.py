"""The product tour: everything ``digifit demo`` (and ``make demo``) loads into the configured database.

:func:`tour_load` migrates nothing itself (the CLI does) and is idempotent: running it twice stores nothing
new. It loads, in order,

1. demo users, one per role (survey manager, analyst, coach, organiser, business owner), password ``demo``
   with the role as user name: :data:`DEMO_USERS`;
2. the bundled questionnaire (``future_of_business``);
3. the synthetic waves of :mod:`digifit.demo.waves` (default 20,000 responses over four monthly waves with a
   panel part) as real ``Submission`` rows: :func:`submissions_bulk_load` checks every answer with the survey
   app's own rules (:func:`digifit.survey.formdef.answers_check`) and inserts in batches, one transaction each;
4. each wave's population margins, the bundled illustrative counts, uploaded through the same service as an
   analyst's CSV file (:func:`digifit.survey.services.margins_upload`; once per wave), and its Parquet snapshot
   (:func:`digifit.reports.services.wave_snapshot_ensure`);
5. the training catalogue (:func:`digifit.demo.catalogue.load_catalogue`);
6. Digital-Check results for some of the demo businesses (``betrieb001@example.org`` …), claimed by their
   (verified) accounts, so the reach funnel has "digitally fit" businesses.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

#: (user name, role group or None, display) — every password is ``demo``.
DEMO_USERS: tuple[tuple[str, str | None, str], ...] = (
    ("manager", "survey_manager", "survey manager"),
    ("analyst", "analyst", "analyst"),
    ("coach", "coach", "coach"),
    ("organiser", "organiser", "organiser"),
    ("admin", "user_admin", "user administration (staff and roles)"),
    ("betrieb", None, "business owner (betrieb001@example.org)"),
)
DEMO_PASSWORD = "demo"
#: the source the demo's margins are stored with (the reports' weighting note quotes it)
MARGINS_SOURCE = "Demo: rounded approximations of Eurostat SBS (sbs_sc_ovw) 2021, illustrative only"
CHECK_BUSINESSES = 80  # betrieb001 … betrieb080 get a Digital-Check result


@dataclass
class TourLoaded:
    """What :func:`tour_load` stored (counts of new rows) and how long each step took (seconds)."""

    users: int = 0
    waves: int = 0
    submissions: int = 0
    snapshots: int = 0
    checks: int = 0
    catalogue_created: bool = False
    courses_created: bool = False
    timings: dict[str, float] = field(default_factory=dict)


def _say(progress: Callable[[str], None] | None, text: str) -> None:
    if progress is not None:
        progress(text)


def users_load() -> int:
    """Create the demo users (idempotent); return how many were new."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from digifit.accounts.roles import roles_sync
    from digifit.programme.roles import programme_roles_sync

    roles_sync()
    programme_roles_sync()
    User = get_user_model()
    created = 0
    for username, role, _display in DEMO_USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create_user(username=username, password=DEMO_PASSWORD, email=f"{username}@example.org")
            created += 1
        if role is not None:
            user.groups.add(Group.objects.get(name=role))
    return created


def business_owner_link() -> None:
    """Link the ``betrieb`` user to the first demo business, so the business owner sees its own page."""
    from django.contrib.auth import get_user_model

    from digifit.programme.models import Business

    user = get_user_model().objects.filter(username="betrieb").first()
    business = Business.objects.filter(email="betrieb001@example.org").first()
    if user is None or business is None or business.user_id == user.pk:
        return
    if business.user_id is None and not Business.objects.filter(user=user).exists():
        business.user = user
        business.save(update_fields=["user"])


def questionnaire_load():
    """Store the bundled questionnaire (no-op when stored); return its version."""
    from digifit.demo.questionnaire import QUESTIONNAIRE_PATH
    from digifit.survey.services import questionnaire_version_add

    return questionnaire_version_add(content=QUESTIONNAIRE_PATH.read_bytes(), filename=QUESTIONNAIRE_PATH.name).version


def submissions_bulk_load(*, version, wave, rows: Iterable[dict[str, Any]], batch_size: int = 2000) -> int:
    """Validate and store many complete submissions of one wave; return how many were new.

    ``rows`` are items of :func:`digifit.demo.waves.submissions` (``instance_id``, ``panel_id``, ``language``,
    ``submitted_at``, ``data``). Every answer goes through the survey app's rules
    (:func:`digifit.survey.formdef.answers_normalize` and ``answers_check``) as :func:`submission_submit` does;
    instance ids already stored are skipped (idempotent). Each batch is one ``bulk_create`` in one transaction.
    Webhooks are not called (a bulk import is not a live submission).

    Raises
    ------
    SubmissionRejected
        A row breaks the form's rules; the batch with the row is not stored.
    """
    from django.db import transaction

    from digifit.survey import formdef
    from digifit.survey.models import Submission

    existing = {str(u) for u in Submission.objects.filter(wave=wave).values_list("instance_id", flat=True)}
    created = 0
    batch: list[Submission] = []

    def flush() -> None:
        nonlocal created, batch
        if batch:
            with transaction.atomic():
                Submission.objects.bulk_create(batch, batch_size=500)
            created += len(batch)
            batch = []

    for row in rows:
        uid = uuid.UUID(str(row["instance_id"]))
        if str(uid) in existing:
            continue
        language = row.get("language") or version.default_language or "de"
        answers = formdef.answers_normalize(version.schema, row["data"])
        stored = formdef.answers_check(version, answers, language=language)
        batch.append(
            Submission(
                instance_id=uid,
                questionnaire_version=version,
                wave=wave,
                panel_id=(row.get("panel_id") or "")[:100],
                language=language[:10],
                data=stored,
                received_sha256=formdef.answers_digest(answers),
                status=Submission.Status.COMPLETE,
                source=Submission.Source.IMPORT,
                submitted_at=row.get("submitted_at"),
            )
        )
        if len(batch) >= batch_size:
            flush()
    flush()
    return created


def waves_load(*, version, rows: int = 20_000, n_waves: int = 4, seed: int = 2029, progress=None) -> tuple[int, int]:
    """Generate the synthetic waves and store them as submissions, each wave with the demo's population margins
    (:func:`margins_load`); return (new waves, new submissions)."""
    import datetime as dt

    import pyarrow.compute as pc

    from digifit.demo.waves import submissions, waves_table
    from digifit.survey.models import Wave
    from digifit.survey.services import wave_create

    table = waves_table(rows, seed=seed, n_waves=n_waves)
    names = sorted(set(table.column("wave").to_pylist()), key=lambda w: [int(p) for p in w.split("-")])
    q = version.questionnaire
    new_waves = new_subs = 0
    for i, name in enumerate(names):
        wave = Wave.objects.filter(questionnaire=q, name=name).first()
        if wave is None:
            last = i == len(names) - 1
            year, month = (int(p) for p in name.split("-"))
            opens = dt.datetime(year, month, 1, tzinfo=dt.UTC)
            closes = dt.datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=dt.UTC)
            wave = wave_create(
                questionnaire=q, name=name, opens_at=opens, closes_at=closes, status="open" if last else "closed"
            )
            new_waves += 1
        part = table.filter(pc.equal(table.column("wave"), name))
        # the row index keeps the tool details of a row the same as in the whole table
        n = submissions_bulk_load(version=version, wave=wave, rows=submissions(part, seed=seed + i))
        new_subs += n
        margins_load(waves=[wave])
        _say(progress, f"  wave {name}: {part.num_rows:,} responses ({n:,} new)")
    return new_waves, new_subs


def _check_answers(rules, i: int, email: str) -> dict[str, Any]:
    import numpy as np

    rng = np.random.default_rng([20260303, i])
    dii = int(rng.integers(2, len(rules.dii_items) + 1))
    data: dict[str, Any] = {"country": "DE", "sector": str(rng.choice(["retail", "hospitality", "travel"])),
                            "size": str(rng.choice(["micro", "small"]))}  # fmt: skip
    for k, name in enumerate(rules.dii_items):
        data[name] = "yes" if k < dii else "no"
    for _key, name in rules.channels.items():
        data[name] = "yes" if rng.random() < 0.6 else "no"
    data[rules.share_field] = str(rng.choice(["lt10", "p10_24", "p25_49", "p50_74"]))
    for _dim, names in rules.dimensions.items():
        value = int(rng.integers(1, 5))
        for name in names:
            data[name] = str(value)
    data["consent_statistics"] = "yes" if rng.random() < 0.8 else "no"
    data["email"] = email
    return data


def checks_load(*, n: int = CHECK_BUSINESSES) -> int:
    """Give the first ``n`` demo businesses (``betrieb001@example.org`` …) a claimed Digital-Check result.

    A check counts toward reach only when the verified business's account claimed it, so each of these
    businesses gets an account (``betrieb001`` is the ``betrieb`` demo user; the others have no usable password)
    and its check is claimed by it. Idempotent: an account that owns a check gets none.
    """
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from digifit.assessment import selectors, services
    from digifit.assessment.models import Assessment
    from digifit.programme import services as programme
    from digifit.programme.models import Business

    User = get_user_model()
    rules = selectors.scoring_rules_get()
    created = 0
    for i in range(1, n + 1):
        email = f"betrieb{i:03d}@example.org"
        business = Business.objects.filter(email=email).select_related("user").first()
        if business is None:
            continue
        if business.user is None:
            user = User.objects.filter(username=email).first()
            if user is None:
                user = User(username=email, email=email)
                user.set_unusable_password()
                user.save()
            business.user = user
            business.save(update_fields=["user"])
        if business.email_verified_at is None:  # a demo database loaded before addresses were verified
            Business.objects.filter(pk=business.pk).update(email_verified_at=business.created_at)
            business.refresh_from_db()
        if Assessment.objects.filter(owner=business.user).exists():
            continue
        answers = _check_answers(rules, i, email)
        try:
            check = services.assessment_submit(answers=answers)
        except services.CheckRejected:
            answers.pop("sector")
            answers["sector"] = "retail"
            check = services.assessment_submit(answers=answers)
        programme.check_claim(assessment=check, business=business, now=timezone.now())
        created += 1
    return created


def margins_load(*, waves: Iterable[Any]) -> int:
    """Give each wave without margins the demo's illustrative margins, uploaded as an analyst uploads a CSV file
    (:func:`digifit.survey.services.margins_upload`); return how many were stored (idempotent)."""
    from digifit.demo.waves import margins_csv_bytes
    from digifit.survey.models import WaveMargins
    from digifit.survey.services import margins_upload

    stored = 0
    for wave in waves:
        if not WaveMargins.objects.filter(wave=wave).exists():
            margins_upload(wave=wave, content=margins_csv_bytes(), filename="demo-margins.csv", source=MARGINS_SOURCE)
            stored += 1
    return stored


def tour_load(*, rows: int = 20_000, n_waves: int = 4, seed: int = 2029, progress=None) -> TourLoaded:
    """Load the whole demo into the configured (migrated) database; idempotent."""
    from digifit.demo.catalogue import load_catalogue
    from digifit.demo.courses import load_courses
    from digifit.reports.services import wave_snapshot_ensure
    from digifit.survey.models import Wave

    out = TourLoaded()
    t = time.perf_counter()
    out.users = users_load()
    out.timings["users"] = time.perf_counter() - t

    t = time.perf_counter()
    version = questionnaire_load()
    _say(progress, f"questionnaire {version.questionnaire.form_id} version {version.version}")
    out.waves, out.submissions = waves_load(version=version, rows=rows, n_waves=n_waves, seed=seed, progress=progress)
    out.timings["submissions"] = time.perf_counter() - t

    t = time.perf_counter()
    for wave in Wave.objects.filter(questionnaire=version.questionnaire).order_by("pk"):
        _path, written = wave_snapshot_ensure(wave=wave)
        out.snapshots += int(written)
    out.timings["snapshots"] = time.perf_counter() - t

    t = time.perf_counter()
    out.catalogue_created = load_catalogue().created
    business_owner_link()
    out.courses_created = load_courses().created
    from django.conf import settings

    from digifit.demo.scorm_package import load_scorm_course

    load_scorm_course(root=settings.DIGIFIT_SCORM_ROOT)
    out.checks = checks_load()
    out.timings["catalogue"] = time.perf_counter() - t
    return out
