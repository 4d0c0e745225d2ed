"""Reads of the survey app: ``<entity>_list`` / ``<entity>_get``. Nothing here writes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from digifit.survey.models import (
    Invitation,
    Questionnaire,
    QuestionnaireVersion,
    Submission,
    Wave,
    WaveMargins,
    invitation_token_digest,
)


def questionnaire_list() -> QuerySet[Questionnaire]:
    """Return every questionnaire with its number of versions."""
    return Questionnaire.objects.annotate(n_versions=Count("versions")).order_by("form_id")


def questionnaire_get(*, form_id: str) -> Questionnaire | None:
    """Return the questionnaire with ``form_id``, or None."""
    return Questionnaire.objects.filter(form_id=form_id).first()


def version_list(*, questionnaire: Questionnaire) -> QuerySet[QuestionnaireVersion]:
    """Return the versions of a questionnaire, oldest first (without the uploaded file)."""
    return questionnaire.versions.defer("xlsx", "xform_xml").order_by("created_at", "id")


def version_latest(*, questionnaire: Questionnaire) -> QuestionnaireVersion | None:
    """Return the newest version of a questionnaire."""
    return questionnaire.versions.order_by("-created_at", "-id").first()


def version_get(*, form_id: str, version: str | None = None) -> QuestionnaireVersion | None:
    """Return a version of ``form_id`` (the newest when ``version`` is None or empty)."""
    qs = (
        QuestionnaireVersion.objects.filter(questionnaire__form_id=form_id)
        .select_related("questionnaire")
        .defer("xlsx", "xform_xml")
    )
    if version:
        return qs.filter(version=version).first()
    return qs.order_by("-created_at", "-id").first()


def version_for_submission(*, form_id: str, version: str | None = None) -> QuestionnaireVersion | None:
    """:func:`version_get` for a submission: in the same statement, the wave that takes the submission now
    (``submission_wave``, as :func:`wave_open_for` picks it, or None), whether the questionnaire has waves at
    all (``has_waves``) and active webhooks (``has_webhooks``). One round trip instead of three."""
    from digifit.survey.models import Webhook

    now = timezone.now()
    accepting = (
        Wave.objects.filter(questionnaire=OuterRef("questionnaire_id"), status=Wave.Status.OPEN)
        .filter(Q(opens_at__isnull=True) | Q(opens_at__lte=now))
        .filter(Q(closes_at__isnull=True) | Q(closes_at__gt=now))
        .order_by("-id")
    )
    wave_fields = ("id", "name", "opens_at", "closes_at", "status")
    qs = (
        QuestionnaireVersion.objects.filter(questionnaire__form_id=form_id)
        .select_related("questionnaire")
        .defer("xlsx", "xform_xml")
        .annotate(
            **{f"_wave_{name}": Subquery(accepting.values(name)[:1]) for name in wave_fields},
            has_waves=Exists(Wave.objects.filter(questionnaire=OuterRef("questionnaire_id"))),
            has_webhooks=Exists(Webhook.objects.filter(questionnaire=OuterRef("questionnaire_id"), active=True)),
        )
    )
    found = qs.filter(version=version).first() if version else qs.order_by("-created_at", "-id").first()
    if found is None:
        return None
    values = [getattr(found, f"_wave_{name}") for name in wave_fields]
    found.submission_wave = None
    if values[0] is not None:
        names = ["id", "questionnaire_id", *wave_fields[1:]]
        found.submission_wave = Wave.from_db(found._state.db, names, [values[0], found.questionnaire_id, *values[1:]])
        found.submission_wave.questionnaire = found.questionnaire
    return found


def wave_list(*, questionnaire: Questionnaire | None = None) -> QuerySet[Wave]:
    """Return waves (of one questionnaire, or all), with submission and invitation counts."""
    qs = Wave.objects.select_related("questionnaire")
    if questionnaire is not None:
        qs = qs.filter(questionnaire=questionnaire)
    return qs.annotate(
        n_submissions=Count("submissions", distinct=True), n_invitations=Count("invitations", distinct=True)
    ).order_by("questionnaire__form_id", "id")


def wave_get(*, wave_id: Any) -> Wave | None:
    """Return a wave by id, or by ``FORM_ID/NAME``; None if there is none."""
    text = str(wave_id)
    if text.isdigit():
        return Wave.objects.select_related("questionnaire").filter(pk=int(text)).first()
    if "/" in text:
        form_id, name = text.split("/", 1)
        return Wave.objects.select_related("questionnaire").filter(questionnaire__form_id=form_id, name=name).first()
    return None


def wave_accepts(wave: Wave, *, now: datetime | None = None) -> bool:
    """Return whether a wave takes submissions now (open, and inside its dates when set)."""
    now = now or timezone.now()
    if wave.status != Wave.Status.OPEN:
        return False
    if wave.opens_at and now < wave.opens_at:
        return False
    return not (wave.closes_at and now >= wave.closes_at)


def wave_open_for(*, questionnaire: Questionnaire) -> Wave | None:
    """Return the wave that currently takes submissions for a questionnaire (the newest open one)."""
    for wave in Wave.objects.filter(questionnaire=questionnaire, status=Wave.Status.OPEN).order_by("-id"):
        if wave_accepts(wave):
            return wave
    return None


def invitation_list(*, wave: Wave) -> QuerySet[Invitation]:
    """Return the invitations of a wave."""
    return wave.invitations.order_by("panel_id")


def invitation_sendable_list(*, wave: Wave) -> QuerySet[Invitation]:
    """Return the invitations of a wave that sending would mail: pending, with an e-mail address."""
    return Invitation.objects.filter(wave=wave, status=Invitation.Status.PENDING).exclude(email="")


def invitation_counts(*, wave: Wave) -> dict[str, int]:
    """Return the number of invitations of a wave per status (every status, zeros included)."""
    counts = dict.fromkeys(Invitation.Status.values, 0)
    for row in wave.invitations.values("status").annotate(n=Count("id")):
        counts[row["status"]] = row["n"]
    return counts


def invitation_get(*, token: str) -> Invitation | None:
    """Return the invitation whose stored digest is that of ``token``, or None."""
    if not token:
        return None
    digest = invitation_token_digest(token)
    return Invitation.objects.select_related("wave", "wave__questionnaire").filter(token_digest=digest).first()


def submission_list(
    *,
    wave: Wave | None = None,
    questionnaire: Questionnaire | None = None,
    status: str | None = Submission.Status.COMPLETE,
    panel_id: str | None = None,
) -> QuerySet[Submission]:
    """Return submissions, oldest first, filtered by wave, questionnaire, status and panel id."""
    qs = Submission.objects.select_related("questionnaire_version", "wave")
    if wave is not None:
        qs = qs.filter(wave=wave)
    if questionnaire is not None:
        qs = qs.filter(questionnaire_version__questionnaire=questionnaire)
    if status:
        qs = qs.filter(status=status)
    if panel_id:
        qs = qs.filter(panel_id=panel_id)
    return qs.order_by("id")


def submission_get(*, instance_id: Any) -> Submission | None:
    """Return the submission with ``instance_id`` (a UUID or ``uuid:…``), or None."""
    import uuid

    text = str(instance_id).strip()
    if text.startswith("uuid:"):
        text = text[5:]
    try:
        uid = uuid.UUID(text)
    except ValueError:
        return None
    return (
        Submission.objects.select_related("questionnaire_version", "questionnaire_version__questionnaire", "wave")
        .filter(instance_id=uid)
        .first()
    )


# ------------------------------------------------------------------------------------------- margins


def margins_latest(*, waves) -> WaveMargins | None:
    """The newest margins version of the newest of ``waves`` that has margins, or None."""
    ids = [w.pk for w in waves]
    return (
        WaveMargins.objects.select_related("wave", "uploaded_by")
        .filter(wave_id__in=ids)
        .order_by("-wave__opens_at", "-wave_id", "-version")
        .first()
    )


def margins_list(*, wave) -> list[WaveMargins]:
    """All margins versions of ``wave``, newest first."""
    return list(WaveMargins.objects.filter(wave=wave).select_related("uploaded_by").order_by("-version"))


def margins_cells(margins_id: int) -> dict:
    """The cells of the margins version ``margins_id`` (see :func:`margins_of`)."""
    out: dict[tuple[str, ...], dict[tuple[str, ...], float]] = {}
    rows = WaveMargins.objects.get(pk=margins_id).cells.order_by("id").values_list("variables", "level", "count")
    for variables, level, count in rows:
        out.setdefault(tuple(variables.split(",")), {})[tuple(level.split(","))] = float(count)
    return out


def margins_of(margins: WaveMargins) -> dict:
    """The cells of a margins version as ``{("country", "size"): {("DE", "micro"): count, …}, …}``."""
    return {k: dict(v) for k, v in margins_cells(margins.pk).items()}


def margins_description(margins: WaveMargins) -> str:
    """What the weighting note says about the margins: the analyst's source, the wave, the version and date."""
    when = margins.uploaded_at.date().isoformat() if margins.uploaded_at else ""
    where = f"{margins.wave.name}, v{margins.version}" + (f", {when}" if when else "")
    return f"{margins.source} ({where})" if margins.source else where
