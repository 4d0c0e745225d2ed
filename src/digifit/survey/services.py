"""Writes of the survey app. Each service is one transaction; nothing is half-stored.

Names follow ``<entity>_<action>``; arguments are keyword-only. Services raise the errors of
:mod:`digifit.survey.errors`; the API, OpenRosa views and the CLI turn them into answers.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.db.models.constants import OnConflict
from django.utils import timezone

from digifit.survey import formdef
from digifit.survey.errors import Conflict, FieldProblem, NotAllowed, SubmissionRejected, SurveyError
from digifit.survey.margins import margins_parse
from digifit.survey.models import (
    Invitation,
    Margin,
    Questionnaire,
    QuestionnaireVersion,
    Submission,
    SubmissionEdit,
    Wave,
    WaveMargins,
    invitation_token_digest,
    invitation_token_new,
)

# wave_accepts is a read; it lives with the selectors and is re-exported here (services import selectors only)
from digifit.survey.selectors import wave_accepts, wave_open_for
from digifit.survey.server_fields import server_fields_apply
from digifit.survey.text_check import text_problem

LANGUAGES = ("de", "en", "fr")


def _clean(instance) -> None:
    try:
        instance.full_clean()
    except ValidationError as exc:
        problems = [
            FieldProblem(field=name, code="invalid", message=" ".join(str(m) for m in messages))
            for name, messages in exc.message_dict.items()
        ]
        raise SubmissionRejected(problems) from exc


# ----------------------------------------------------------------------------------------- questionnaires


@dataclass(frozen=True)
class VersionAdded:
    """The result of :func:`questionnaire_version_add`."""

    version: QuestionnaireVersion
    created: bool


def questionnaire_version_add(*, content: bytes, filename: str = "", user=None) -> VersionAdded:
    """Store an uploaded XLSForm as a new version of its questionnaire (created on first upload).

    Uploading the same file again returns the stored version (``created=False``).

    Raises
    ------
    FormRejected
        The file is not a usable XLSForm (problems per sheet, row and column).
    Conflict
        The form's ``version`` string is already stored with a different file: raise the version in the
        settings sheet.
    """
    loaded = formdef.form_load(content, filename=filename or None)
    version_string = loaded.version or hashlib.sha256(content).hexdigest()[:12]
    with transaction.atomic():
        questionnaire, _ = Questionnaire.objects.select_for_update().get_or_create(
            form_id=loaded.form_id, defaults={"title": loaded.title[:500]}
        )
        existing = QuestionnaireVersion.objects.filter(questionnaire=questionnaire, version=version_string).first()
        if existing is not None:
            if existing.xlsx_sha256 == loaded.xlsx_sha256:
                return VersionAdded(existing, False)
            raise Conflict(
                f"form {loaded.form_id!r} version {version_string!r} is already stored with a different file; "
                "change 'version' in the settings sheet to upload a new version"
            )
        version = QuestionnaireVersion(
            questionnaire=questionnaire,
            version=version_string,
            title=loaded.title[:500],
            filename=(filename or "")[:255],
            xlsx=content,
            xlsx_sha256=loaded.xlsx_sha256,
            schema=loaded.schema,
            xform_xml=loaded.xform_xml,
            xform_md5=hashlib.md5(loaded.xform_xml.encode()).hexdigest(),
            default_language=loaded.default_language[:10],
            languages=loaded.languages,
            completeness=loaded.completeness,
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        version.full_clean(exclude=["xlsx"])
        version.save()
        if loaded.title and questionnaire.title != loaded.title[:500]:
            questionnaire.title = loaded.title[:500]
            questionnaire.save(update_fields=["title"])
        return VersionAdded(version, True)


# ----------------------------------------------------------------------------------------- waves


@transaction.atomic
def wave_create(
    *,
    questionnaire: Questionnaire,
    name: str,
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
    status: str = Wave.Status.DRAFT,
    thanks_links: bool = False,
) -> Wave:
    """Create a wave of ``questionnaire`` (``thanks_links``: its thank-you page points to the programme).

    Raises
    ------
    SubmissionRejected
        A field is invalid (``closes_at`` before ``opens_at``, unknown status, empty name).
    Conflict
        The questionnaire already has a wave of that name.
    """
    if opens_at and closes_at and closes_at <= opens_at:
        raise SubmissionRejected([FieldProblem(field="closes_at", code="invalid", message="must be after opens_at")])
    if Wave.objects.filter(questionnaire=questionnaire, name=name).exists():
        raise Conflict(f"questionnaire {questionnaire.form_id!r} already has a wave named {name!r}")
    wave = Wave(
        questionnaire=questionnaire,
        name=name,
        opens_at=opens_at,
        closes_at=closes_at,
        status=status,
        thanks_links=thanks_links,
    )
    _clean(wave)
    wave.save()
    return wave


def wave_thanks_links_set(*, wave: Wave, enabled: bool) -> Wave:
    """Whether the wave's thank-you page points to the programme and the Digital-Check."""
    Wave.objects.filter(pk=wave.pk).update(thanks_links=enabled)
    wave.thanks_links = enabled
    return wave


@transaction.atomic
def wave_status_set(*, wave: Wave, status: str) -> Wave:
    """Open or close a wave."""
    wave.status = status
    _clean(wave)
    wave.save(update_fields=["status"])
    if status == Wave.Status.CLOSED:  # no reminders for a closed wave
        from digifit.survey.invitations import wave_closed

        transaction.on_commit(functools.partial(wave_closed, wave=wave))
    return wave


# ----------------------------------------------------------------------------------------- invitations


def _invitation_new(*, wave: Wave, panel_id: str, email: str, language: str, where: str) -> Invitation:
    token = invitation_token_new()
    invitation = Invitation(
        wave=wave,
        token_digest=invitation_token_digest(token),
        panel_id=(panel_id or "").strip(),
        email=(email or "").strip(),
        language=(language or "de").strip().lower(),
    )
    problems = []
    if not invitation.panel_id:
        problems.append(FieldProblem(field=f"{where}panel_id", code="required", message="a panel id is required"))
    if invitation.language not in LANGUAGES:
        problems.append(
            FieldProblem(
                field=f"{where}language",
                code="invalid",
                message=f"got {invitation.language!r}; expected one of {', '.join(LANGUAGES)}",
            )
        )
    try:
        invitation.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            problems.append(FieldProblem(field=f"{where}{name}", code="invalid", message=" ".join(messages)))
    if problems:
        raise SubmissionRejected(problems)
    invitation.token = token  # the clear token: on this object only, never stored
    return invitation


@transaction.atomic
def invitation_create(*, wave: Wave, panel_id: str, email: str = "", language: str = "de") -> Invitation:
    """Invite one panel member to a wave.

    Raises
    ------
    SubmissionRejected
        Missing panel id, bad e-mail or unknown language.
    Conflict
        This panel member is already invited to the wave.
    """
    invitation = _invitation_new(wave=wave, panel_id=panel_id, email=email, language=language, where="")
    if Invitation.objects.filter(wave=wave, panel_id=invitation.panel_id).exists():
        raise Conflict(f"panel id {invitation.panel_id!r} is already invited to wave {wave.name!r}")
    invitation.save()
    return invitation


def invitation_bulk_create(*, wave: Wave, csv_text: str) -> list[Invitation]:
    """Invite everyone listed in a CSV (columns ``panel_id``, ``email``, ``language``): all or nothing.

    Raises
    ------
    SubmissionRejected
        Any row is bad (each problem names ``row N``), a header is missing, or a panel id repeats.
    """
    reader = csv.DictReader(io.StringIO(csv_text.lstrip("\ufeff")))
    header = [h.strip() for h in (reader.fieldnames or [])]
    if "panel_id" not in header:
        raise SubmissionRejected(
            [FieldProblem(field="file", code="header", message=f"header {header!r} lacks the column 'panel_id'")]
        )
    problems: list[FieldProblem] = []
    invitations: list[Invitation] = []
    seen: dict[str, int] = {}
    existing = set(Invitation.objects.filter(wave=wave).values_list("panel_id", flat=True))
    for rownum, row in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
        try:
            inv = _invitation_new(
                wave=wave,
                panel_id=row.get("panel_id", ""),
                email=row.get("email", ""),
                language=row.get("language", "") or "de",
                where=f"row {rownum}: ",
            )
        except SubmissionRejected as exc:
            problems.extend(exc.problems)
            continue
        if inv.panel_id in seen:
            problems.append(
                FieldProblem(
                    field=f"row {rownum}: panel_id",
                    code="duplicate",
                    message=f"{inv.panel_id!r} repeats row {seen[inv.panel_id]}",
                )
            )
        elif inv.panel_id in existing:
            problems.append(
                FieldProblem(
                    field=f"row {rownum}: panel_id", code="duplicate", message=f"{inv.panel_id!r} is already invited"
                )
            )
        seen.setdefault(inv.panel_id, rownum)
        invitations.append(inv)
    if problems:
        raise SubmissionRejected(problems)
    with transaction.atomic():
        Invitation.objects.bulk_create(invitations, batch_size=1000)
    return invitations


# ----------------------------------------------------------------------------------------- submissions


@dataclass(frozen=True)
class Submitted:
    """The result of :func:`submission_submit`: the stored submission, and whether this call stored it
    (a new submission or a completed draft) rather than finding it already stored."""

    submission: Submission
    created: bool


def _instance_uuid(instance_id: Any) -> uuid.UUID:
    try:
        text = str(instance_id).strip()
        if text.startswith("uuid:"):
            text = text[5:]
        return uuid.UUID(text)
    except (ValueError, AttributeError, TypeError) as exc:
        raise SubmissionRejected(
            [FieldProblem(field="instance_id", code="invalid", message=f"got {instance_id!r}; expected a UUID")]
        ) from exc


def submission_submit(
    *,
    questionnaire_version: QuestionnaireVersion,
    instance_id: Any,
    data: Any,
    wave: Wave | None = None,
    invitation: Invitation | None = None,
    panel_id: str = "",
    language: str = "",
    source: str = Submission.Source.API,
    user=None,
    check_wave_open: bool = True,
    auto_wave: bool = False,
    test: bool = False,
) -> Submitted:
    """Validate and store a complete submission, exactly once per ``instance_id``.

    Idempotent: the same ``instance_id`` with the same answers returns the stored submission
    (``created=False``) and stores nothing; a draft with that ``instance_id`` is completed.
    With ``auto_wave`` and neither ``wave`` nor ``invitation``, the submission goes to the questionnaire's open
    wave; a questionnaire that has waves but none open refuses it (a questionnaire without waves takes it
    without a wave). A ``test`` submission (a version's test link) is stored with the status ``test``, without
    a wave and without webhook deliveries.

    Raises
    ------
    SubmissionRejected
        Answers of the wrong type or breaking the form's rules (per-field problems); nothing is stored.
    Conflict
        The ``instance_id`` is stored with other answers, or for another questionnaire.
    NotAllowed
        The wave does not take submissions, or the invitation belongs to another wave or is completed.
    """
    uid = uuid.uuid4() if instance_id is None or instance_id == "" else _instance_uuid(instance_id)
    if test and (wave is not None or invitation is not None):
        raise NotAllowed("a test answer belongs to no wave")
    if invitation is not None:
        if wave is not None and invitation.wave_id != wave.pk:
            raise NotAllowed("the invitation belongs to another wave")
        wave = invitation.wave
        panel_id = invitation.panel_id
        language = language or invitation.language
    if wave is not None and wave.questionnaire_id != questionnaire_version.questionnaire_id:
        raise SubmissionRejected(
            [FieldProblem(field="wave", code="invalid", message="the wave belongs to another questionnaire")]
        )
    language = (language or questionnaire_version.default_language or "de")[:10]
    for name, text in (("panel_id", panel_id), ("language", language)):
        found = text_problem(text or "")
        if found is not None:
            raise SubmissionRejected([FieldProblem(field=name, code="unicode", message=found[1])])
    answers = formdef.answers_normalize(questionnaire_version.schema, data)
    digest = formdef.answers_digest(answers)
    if not panel_id and isinstance(answers.get("panel_id"), str):
        panel_id = answers["panel_id"]  # a hidden panel_id field of the form (ODK clients fill it)

    try:
        if auto_wave and wave is None and invitation is None:
            wave, has_waves = _wave_for(questionnaire_version)
            if wave is None and has_waves:
                raise NotAllowed(f"no wave of {questionnaire_version.questionnaire.form_id!r} is open")
        if check_wave_open and wave is not None and not wave_accepts(wave):
            raise NotAllowed(f"wave {wave.name!r} does not take submissions (status {wave.status})")
        now = timezone.now()
        server = functools.partial(
            server_fields_apply,
            questionnaire_version.schema,
            wave_name=wave.name if wave is not None else None,
            version=questionnaire_version.version,
            instance_id=uid,
            received_at=now,
        )
        # the server's metadata (wave, version, instanceID, received time) replaces what the form sent
        stored_answers = server(formdef.answers_check(questionnaire_version, server(answers), language=language))
    except (NotAllowed, SubmissionRejected):
        # a resend of what is already stored is answered as stored, whatever changed since (a closed wave):
        # only a refusal pays for this look-up, an accepted submission finds its twin by the insert below
        stored = _submission_existing(uid, digest, questionnaire_version)
        if stored is not None and stored.status in _DONE:
            return Submitted(stored, False)
        raise

    sub = Submission(
        instance_id=uid,
        questionnaire_version=questionnaire_version,
        wave=wave,
        invitation=invitation,
        panel_id=(panel_id or "")[:100],
        language=language,
        data=stored_answers,
        received_sha256=digest,
        status=Submission.Status.TEST if test else Submission.Status.COMPLETE,
        source=source,
        created_by=user if getattr(user, "is_authenticated", False) else None,
        submitted_at=now,
    )
    with transaction.atomic():
        answered = False
        if invitation is not None:  # one answer per invitation, also under concurrent requests
            locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
            answered = locked.status == Invitation.Status.COMPLETED
        # idempotency by the unique instance_id itself: INSERT … ON CONFLICT DO NOTHING, no look-up before
        if answered or not _submission_insert(sub):
            stored = (
                Submission.objects.select_for_update(of=("self",))
                .select_related("questionnaire_version__questionnaire", "wave")
                .filter(instance_id=uid)
                .first()
            )
            if stored is None:
                if answered:
                    raise NotAllowed("this invitation has already been answered")
                raise IntegrityError(f"submission {uid} was neither inserted nor found")
            if stored.status in _DONE:
                return Submitted(_same_or_conflict(stored, digest, questionnaire_version), False)
            if stored.questionnaire_version.questionnaire_id != questionnaire_version.questionnaire_id:
                raise Conflict(f"instanceID {uid} belongs to another questionnaire")
            # a draft: complete it
            stored.data = stored_answers
            stored.received_sha256 = digest
            stored.status = sub.status
            stored.submitted_at = now
            stored.questionnaire_version = questionnaire_version
            stored.wave = wave or stored.wave
            stored.language = language
            stored.save()
            sub = stored
        if invitation is not None:
            Invitation.objects.filter(pk=invitation.pk).update(status=Invitation.Status.COMPLETED, completed_at=now)
            # answered: its e-mail reminders are cancelled
            transaction.on_commit(functools.partial(_invitation_answered, invitation.pk))
        # webhook deliveries (the outbox) are written in this transaction: stored and queued, or neither
        if not test:
            _submission_accepted(sub)
    return Submitted(sub, True)


_DONE = frozenset({Submission.Status.COMPLETE, Submission.Status.TEST})  # submitted: a resend is answered as stored


def _submission_insert(sub: Submission) -> bool:
    """``INSERT … ON CONFLICT DO NOTHING RETURNING id`` (PostgreSQL; SQLite's ``INSERT OR IGNORE``): True and
    ``sub.pk`` set when the row went in, False when a submission with its ``instance_id`` already exists."""
    fields = [f for f in Submission._meta.concrete_fields if not f.primary_key]
    rows = Submission.objects._insert(
        [sub],
        fields=fields,
        returning_fields=Submission._meta.db_returning_fields,
        on_conflict=OnConflict.IGNORE,
    )
    if not rows or rows[0] is None:
        return False
    sub.pk = rows[0][0]
    sub._state.adding = False
    sub._state.db = "default"
    return True


def _wave_for(version: QuestionnaireVersion) -> tuple[Wave | None, bool]:
    """The wave that takes a submission of ``version`` now, and whether its questionnaire has waves at all
    (read with the version by :func:`~digifit.survey.selectors.version_for_submission` when it was)."""
    if hasattr(version, "submission_wave"):
        return version.submission_wave, version.has_waves
    wave = wave_open_for(questionnaire=version.questionnaire)
    return wave, wave is not None or Wave.objects.filter(questionnaire_id=version.questionnaire_id).exists()


def _submission_accepted(submission: Submission) -> None:
    from digifit.survey.webhooks import submission_deliveries_add

    if getattr(submission.questionnaire_version, "has_webhooks", True):  # read with the version, when it was
        submission_deliveries_add(submission=submission)


def _invitation_answered(invitation_id: int) -> None:
    from digifit.survey.invitations import invitation_answered

    invitation_answered(invitation_id=invitation_id)


def _submission_existing(uid: uuid.UUID, digest: str, version: QuestionnaireVersion) -> Submission | None:
    sub = Submission.objects.filter(instance_id=uid).select_related("questionnaire_version").first()
    if sub is None:
        return None
    if sub.status == Submission.Status.DRAFT:
        if sub.questionnaire_version.questionnaire_id != version.questionnaire_id:
            raise Conflict(f"instanceID {uid} belongs to another questionnaire")
        return sub
    return _same_or_conflict(sub, digest, version)


def _same_or_conflict(sub: Submission, digest: str, version: QuestionnaireVersion | None = None) -> Submission:
    if version is not None and sub.questionnaire_version_id != version.pk:
        raise Conflict(f"instanceID {sub.instance_id} is already stored for another questionnaire version")
    if sub.received_sha256 != digest:
        raise Conflict(f"instanceID {sub.instance_id} is already stored with different answers")
    return sub


def submission_draft_save(
    *,
    questionnaire_version: QuestionnaireVersion,
    instance_id: Any,
    data: Any,
    invitation: Invitation | None = None,
    wave: Wave | None = None,
    language: str = "",
) -> Submission:
    """Save answers given so far (the web form, page by page) without the completeness rules.

    Raises
    ------
    SubmissionRejected
        A value has the wrong type.
    Conflict
        The instance is already complete.
    """
    uid = _instance_uuid(instance_id)
    answers = formdef.answers_normalize(questionnaire_version.schema, data)
    if invitation is not None:
        wave = invitation.wave
    with transaction.atomic():
        sub = Submission.objects.select_for_update().filter(instance_id=uid).first()
        if sub is not None and sub.status in _DONE:
            raise Conflict(f"instanceID {uid} is already submitted")
        if sub is None:
            sub = Submission(
                instance_id=uid,
                questionnaire_version=questionnaire_version,
                wave=wave,
                invitation=invitation,
                panel_id=invitation.panel_id if invitation else "",
                language=(language or (invitation.language if invitation else "") or "de")[:10],
                status=Submission.Status.DRAFT,
                source=Submission.Source.WEB,
            )
        sub.data = server_fields_apply(
            questionnaire_version.schema,
            answers,
            wave_name=sub.wave.name if sub.wave_id else None,
            version=questionnaire_version.version,
            instance_id=uid,
            received_at=None,
        )
        sub.save()
        if invitation is not None and invitation.status in (Invitation.Status.PENDING, Invitation.Status.SENT):
            Invitation.objects.filter(pk=invitation.pk).update(status=Invitation.Status.STARTED)
    return sub


def submission_edit(
    *, submission: Submission, data: Any, user, reason: str = "", language: str | None = None
) -> SubmissionEdit | None:
    """Replace a submission's answers, keeping who changed what in the audit trail.

    The form's messages (constraints, required) are in ``language`` (the editor's page), else the submission's.

    Returns the :class:`SubmissionEdit`, or None when the answers did not change.

    Raises
    ------
    SubmissionRejected
        The new answers break the form's types or rules; nothing changes.
    """
    version = submission.questionnaire_version
    server = functools.partial(
        server_fields_apply,
        version.schema,
        wave_name=submission.wave.name if submission.wave_id else None,
        version=version.version,
        instance_id=submission.instance_id,
        received_at=submission.submitted_at,
    )
    answers = formdef.answers_normalize(version.schema, data)
    answers = server(formdef.answers_check(version, server(answers), language=language or submission.language or "de"))
    with transaction.atomic():
        locked = Submission.objects.select_for_update().get(pk=submission.pk)
        before = locked.data
        if formdef.canonical_json(before) == formdef.canonical_json(answers):
            return None
        edit = SubmissionEdit(
            submission=locked,
            edited_by=user if getattr(user, "is_authenticated", False) else None,
            reason=(reason or "")[:500],
            before=before,
            after=answers,
        )
        edit.save()
        locked.data = answers
        locked.save(update_fields=["data", "updated_at"])
    submission.refresh_from_db()
    return edit


def submission_review_set(*, submission: Submission, state: str, user, note: str = "") -> Submission:
    """Set the review state of a submission (received, approved, has issues, rejected) with who and when.

    Raises
    ------
    SurveyError
        ``state`` is not a review state.
    """
    if state not in Submission.ReviewState.values:
        raise SurveyError(f"review state: got {state!r}; expected one of {', '.join(Submission.ReviewState.values)}")
    Submission.objects.filter(pk=submission.pk).update(
        review_state=state,
        review_note=(note or "").strip()[:500],
        reviewed_by=user if getattr(user, "is_authenticated", False) else None,
        reviewed_at=timezone.now(),
    )
    submission.refresh_from_db()
    return submission


# ------------------------------------------------------------------------------------------- margins


def margins_upload(*, wave, content: bytes, filename: str = "", source: str = "", user=None) -> WaveMargins:
    """Store a new version of ``wave``'s population margins from a CSV file (:mod:`digifit.survey.margins`).

    The file is checked whole before anything is stored; the new version is the wave's previous one plus one,
    and reports made from now on are weighted to it.

    Raises
    ------
    MarginsError
        The file is not a margins CSV (the message names the row and the column).
    UploadRefused
        The file is larger than the upload limits.
    """

    parsed = margins_parse(bytes(content))
    text = bytes(content).decode("utf-8-sig")
    with transaction.atomic():
        # lock the wave's row so that two uploads at once get consecutive versions
        type(wave).objects.select_for_update().filter(pk=wave.pk).first()
        last = WaveMargins.objects.filter(wave=wave).aggregate(v=Max("version"))["v"] or 0
        found = WaveMargins(
            wave=wave,
            version=last + 1,
            source=(source or "").strip()[:500],
            filename=(filename or "")[:255],
            csv=text,
            uploaded_by=user if getattr(user, "is_authenticated", False) else None,
        )
        found.full_clean()
        found.save()
        Margin.objects.bulk_create(
            Margin(margins=found, variables=",".join(margin), level=",".join(level), count=value)
            for margin, cells in parsed.items()
            for level, value in cells.items()
        )
    return found


__all__ = [
    "Submitted",
    "SurveyError",
    "VersionAdded",
    "invitation_bulk_create",
    "invitation_create",
    "margins_upload",
    "questionnaire_version_add",
    "submission_draft_save",
    "submission_edit",
    "submission_submit",
    "wave_accepts",
    "wave_create",
    "wave_status_set",
]
