"""Writes of the programme. Each service is one transaction; e-mails are queued in the outbox inside it.

Names follow ``<entity>_<action>``; arguments are keyword-only. Registration and cancellation lock the
session row (``SELECT … FOR UPDATE``) so that counting the taken places and writing the new state cannot
interleave: no overbooking, and a freed place goes to exactly one waitlisted business, first in first out.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext

from digifit.notifications.models import OutboxMessage
from digifit.notifications.services import outbox_cancel, outbox_enqueue
from digifit.programme import calendar, emails, links, recurrence, selectors
from digifit.programme.errors import (
    AddressTaken,
    AttendanceRefused,
    CancellationLinkExpired,
    CancellationRefused,
    ClaimRefused,
    LinkInvalid,
    ProgrammeError,
    RegistrationRefused,
)
from digifit.programme.models import (
    Business,
    Registration,
    Series,
    SeriesException,
    Session,
    Story,
    Training,
    TrainingParticipation,
)

#: The version of the consent text below; stored with every consent.
CONSENT_VERSION = "2026-01"
CONSENT_PURPOSE = {
    "de": "Wir verarbeiten Ihre Angaben, um Ihre Teilnahme an Trainings und Live-Coachings zu organisieren "
    "(Anmeldung, Bestätigung, Erinnerungen, Aufzeichnungen) und – nur zusammengefasst, ohne Ihren Namen – die "
    "Reichweite des Programms auszuwerten.",
    "en": "We process your details to organise your participation in trainings and live coachings (registration, "
    "confirmation, reminders, recordings) and - only aggregated, without your name - to evaluate the programme's "
    "reach.",
    "fr": "Nous traitons vos données pour organiser votre participation aux formations et coachings en direct "
    "(inscription, confirmation, rappels, enregistrements) et - uniquement de façon agrégée, sans votre nom - "
    "pour évaluer la portée du programme.",
}
CONSENT_TEXT = {
    "de": "Ich willige ein, dass meine Angaben zu diesem Zweck verarbeitet werden. Ich kann meine Daten jederzeit "
    "exportieren und löschen.",
    "en": "I consent to my details being processed for this purpose. I can export and delete my data at any time.",
    "fr": "J'accepte que mes données soient traitées à cette fin. Je peux exporter et supprimer mes données à tout "
    "moment.",
}
CANCEL_SALT = "digifit.programme.cancel"


def _clean(instance, exclude: Iterable[str] = ()) -> None:
    try:
        instance.full_clean(exclude=list(exclude))
    except ValidationError as exc:
        shown = "; ".join(
            f"{name}: {' '.join(str(m) for m in messages)}" for name, messages in exc.message_dict.items()
        )
        raise ProgrammeError(f"{type(instance).__name__.lower()}: {shown}") from exc


def _url(name: str, *args: object) -> str:
    return settings.DIGIFIT_BASE_URL + reverse(name, args=args)


# ----------------------------------------------------------------------------------------- catalogue


@transaction.atomic
def training_upsert(*, slug: str, **fields: object) -> Training:
    """Create or update the training ``slug`` (the catalogue loader's write)."""
    training = Training.objects.filter(slug=slug).first() or Training(slug=slug)
    for name, value in fields.items():
        setattr(training, name, value)
    _clean(training)
    training.save()
    return training


@transaction.atomic
def story_publish(
    *,
    title: str,
    company: str,
    body: str,
    consent_given_at: datetime | None,
    trainings: Iterable[Training] = (),
    business: Business | None = None,
    language: str = "de",
) -> Story:
    """Publish a success story. Without the business's consent (``consent_given_at``) it is refused."""
    if consent_given_at is None:
        raise ProgrammeError(f"story {title!r}: no consent recorded; a story is published only with consent")
    story = Story(
        title=title,
        company=company,
        body=body,
        consent_given_at=consent_given_at,
        business=business,
        language=language,
        published=True,
    )
    _clean(story)
    story.save()
    story.trainings.set(list(trainings))
    return story


# ----------------------------------------------------------------------------------------- businesses


#: The user name of an account whose e-mail address is not confirmed yet (it gets the address on confirmation).
PENDING_USERNAME_PREFIX = "unconfirmed-"


def business_register(
    *,
    user,
    company: str,
    sector: str,
    size_class: str,
    region: str,
    contact_name: str,
    email: str,
    consent: bool,
    phone: str = "",
    language: str = "de",
    verified: bool = False,
    now: datetime | None = None,
) -> Business:
    """Create the business profile of ``user``, recording the consent (purpose, text version and time).

    The address is unconfirmed unless ``verified`` (for loaders and the CLI, which vouch for it themselves); the
    web sign-up confirms it by link (:func:`business_signup`, :func:`business_confirm`).

    Raises
    ------
    ProgrammeError
        Without consent, on an invalid field, if the user already has a profile, or if ``verified`` and the
        address belongs to another verified business.
    """
    if not consent:
        raise ProgrammeError("business: consent is required to register (purpose: " + CONSENT_PURPOSE["en"] + ")")
    language = language if language in CONSENT_TEXT else "de"
    now = now or timezone.now()
    business = Business(
        user=user,
        company=company.strip(),
        sector=sector,
        size_class=size_class,
        region=region,
        contact_name=contact_name.strip(),
        email=email.strip(),
        email_verified_at=now if verified else None,
        phone=phone.strip(),
        language=language,
        consent_purpose=CONSENT_PURPOSE[language],
        consent_version=CONSENT_VERSION,
        consent_text=CONSENT_TEXT[language],
        consent_given_at=now,
        feed_token=secrets.token_urlsafe(32),
    )
    if verified and _verified_owner(business.email) is not None:
        raise AddressTaken(f"business: {business.email} belongs to another verified business")
    _clean(business, exclude=["user"])
    with transaction.atomic():
        if user is not None and Business.objects.filter(user=user).exists():
            raise ProgrammeError(f"business: user {user} already has a business profile")
        try:
            with transaction.atomic():
                business.save()
        except IntegrityError:
            raise AddressTaken(f"business: {business.email} belongs to another verified business") from None
    return business


def _verified_owner(email: str) -> Business | None:
    return Business.objects.filter(email__iexact=email, email_verified_at__isnull=False).first()


def _pending_signups():
    """Businesses of web sign-ups whose address is not confirmed yet (inactive accounts)."""
    return Business.objects.filter(
        email_verified_at__isnull=True, user__is_active=False, user__username__startswith=PENDING_USERNAME_PREFIX
    )


def _pending_delete(businesses) -> int:
    """Delete pending sign-ups with their accounts and queued confirmation e-mails."""
    User = get_user_model()
    rows = list(businesses.values_list("pk", "user_id"))
    for pk, _user_id in rows:
        OutboxMessage.objects.filter(key__regex=rf"^programme\.verify:{pk}(:|$)").exclude(
            state=OutboxMessage.State.SENDING
        ).delete()
    User.objects.filter(pk__in=[u for _, u in rows]).delete()  # cascades to the business
    return len(rows)


def _link_url(name: str, token: str) -> str:
    return _url(name, token)


def business_confirmation_send(
    *, business: Business, next_url: str = "", now: datetime | None = None
) -> OutboxMessage | None:
    """Queue the e-mail with the confirmation link of ``business``'s address (in the business's language).

    ``next_url`` (a path on this site) is where the confirmed page's login leads. At most one e-mail per minute
    is queued; returns None for a business whose address is confirmed already.
    """
    if business.verified:
        return None
    now = now or timezone.now()
    payload = {"b": business.pk, "e": business.email.strip().lower()}
    if next_url.startswith("/") and not next_url.startswith("//"):
        payload["n"] = next_url[:300]
    token = links.link_token(links.SIGNUP, payload)
    rendered = emails.render(
        "verify",
        business.language,
        name=business.contact_name,
        company=business.company,
        url=_link_url("programme:signup_confirm", token),
        hours=round(links.max_age_seconds() / 3600),
    )
    return outbox_enqueue(
        key=f"programme.verify:{business.pk}:{now:%Y%m%dT%H%M}",
        to=business.email,
        subject=rendered.subject,
        body_text=rendered.body,
        send_at=now,
        language=business.language,
    )


def _signup_attempt_notice(*, to: str, language: str, key: str, now: datetime) -> None:
    rendered = emails.render("signup_attempt", language, url=_url("login"))
    outbox_enqueue(key=key, to=to, subject=rendered.subject, body_text=rendered.body, send_at=now, language=language)


@transaction.atomic
def business_signup(
    *, email: str, password: str, next_url: str = "", now: datetime | None = None, **profile: object
) -> Business | None:
    """Sign up a business: an inactive account and an unconfirmed profile, and the confirmation e-mail.

    Nothing is linked and the account cannot log in until the link in that e-mail is opened
    (:func:`business_confirm`). If the address already belongs to a confirmed business (or to another login),
    nothing is created: that address gets a "someone tried to sign up with your address" notice instead and
    None is returned. The page says the same in both cases ("check your mailbox"), so it reveals nothing about
    which addresses are registered. Pending sign-ups older than the link's validity are deleted here.
    """
    User = get_user_model()
    now = now or timezone.now()
    email = email.strip().lower()
    cutoff = now - timedelta(seconds=links.max_age_seconds())
    _pending_delete(_pending_signups().filter(created_at__lt=cutoff))
    language = str(profile.get("language") or "de")
    owner = _verified_owner(email)
    if owner is not None:
        _signup_attempt_notice(
            to=owner.email,
            language=owner.language,
            key=f"programme.signup-attempt:{owner.pk}:{now:%Y%m%d}",
            now=now,
        )
        return None
    other = User.objects.filter(username__iexact=email).first()
    if other is not None:
        own = Business.objects.filter(user=other).first()
        key = f"programme.signup-attempt:{own.pk}" if own else f"accounts.signup-attempt:{other.pk}"
        _signup_attempt_notice(to=email, language=own.language if own else language, key=f"{key}:{now:%Y%m%d}", now=now)
        return None
    user = User.objects.create_user(
        username=PENDING_USERNAME_PREFIX + secrets.token_hex(12), email=email, password=password, is_active=False
    )
    business = business_register(user=user, email=email, now=now, **profile)
    business_confirmation_send(business=business, next_url=next_url, now=now)
    return business


@transaction.atomic
def business_confirm(*, token: str, now: datetime | None = None) -> Business:
    """Confirm a business's address by the link of its confirmation e-mail: activate and link its account.

    Opening the link again changes nothing. Other pending sign-ups with the same address are deleted.

    Raises
    ------
    LinkExpired
        The link is older than ``DIGIFIT_CONFIRMATION_MAX_AGE_HOURS``.
    LinkInvalid
        The link is not ours, or its sign-up no longer exists or has another address.
    AddressTaken
        The address was confirmed by another business (or is another account's login) in the meantime.
    """
    User = get_user_model()
    now = now or timezone.now()
    data = links.link_payload(links.SIGNUP, token)
    try:
        pk, email = int(data["b"]), str(data["e"])
    except (KeyError, TypeError, ValueError):
        raise LinkInvalid("this link is not valid") from None
    business = Business.objects.select_for_update(of=("self",)).select_related("user").filter(pk=pk).first()
    if business is None or business.user is None or business.email.strip().lower() != email:
        raise LinkInvalid("this link is not valid (or the sign-up was deleted)")
    if business.verified:
        return business
    user = business.user
    if _verified_owner(email) is not None or User.objects.filter(username__iexact=email).exclude(pk=user.pk).exists():
        raise AddressTaken(f"{email} belongs to another account")
    business.email_verified_at = now
    try:
        with transaction.atomic():
            business.save(update_fields=["email_verified_at"])
            if user.username.startswith(PENDING_USERNAME_PREFIX):
                user.username = email
            user.email, user.is_active = email, True
            user.save(update_fields=["username", "email", "is_active"])
    except IntegrityError:
        raise AddressTaken(f"{email} belongs to another account") from None
    _pending_delete(_pending_signups().filter(email__iexact=email).exclude(pk=business.pk))
    return business


# ----------------------------------------------------------------------------------------- Digital-Check claims


def check_claim(*, assessment, business: Business | None, now: datetime | None = None):
    """Link a Digital-Check result to the account of a verified ``business``.

    Raises
    ------
    ClaimRefused
        No business, its address is not confirmed, or the result belongs to another account.
    """
    from digifit.assessment import services as assessment_services

    if business is None or business.user_id is None or not business.verified:
        raise ClaimRefused("only a business account with a confirmed e-mail address can claim a result")
    try:
        return assessment_services.assessment_claim(assessment=assessment, owner=business.user, now=now)
    except assessment_services.ClaimConflict:
        raise ClaimRefused("this result belongs to another account") from None


#: At most this many claim e-mails per result and day (whatever the addresses): no mail cannon.
CLAIM_MAILS_PER_DAY = 3


def _address_digest(email: str) -> str:
    return hashlib.sha256(email.encode()).hexdigest()[:16]


def check_claim_link_send(*, assessment, email: str, language: str = "de", now: datetime | None = None) -> bool:
    """E-mail a claim link for ``assessment`` to ``email``; opened by that address's verified business, it
    links the result (:func:`check_claim_from_token`). Nothing is looked up by the address.

    Returns whether an e-mail was queued (one per result, address and day; at most
    :data:`CLAIM_MAILS_PER_DAY` per result and day).
    """
    now = now or timezone.now()
    email = email.strip().lower()
    language = language if language in CONSENT_TEXT else "de"
    key = f"programme.claim:{assessment.pk}:{_address_digest(email)}:{now:%Y%m%d}"
    if OutboxMessage.objects.filter(key=key).exists():
        return False
    today = OutboxMessage.objects.filter(
        key__startswith=f"programme.claim:{assessment.pk}:", key__endswith=f":{now:%Y%m%d}"
    )
    if today.count() >= CLAIM_MAILS_PER_DAY:
        return False
    token = links.link_token(links.CLAIM, {"a": assessment.pk, "e": email})
    rendered = emails.render(
        "claim",
        language,
        url=_link_url("programme:check_claim_link", token),
        date=timezone.localtime(assessment.completed_at).date().isoformat(),
        hours=round(links.max_age_seconds() / 3600),
    )
    outbox_enqueue(key=key, to=email, subject=rendered.subject, body_text=rendered.body, send_at=now, language=language)
    return True


def claim_from_token(token: str):
    """The result and the address of a claim link.

    Raises
    ------
    LinkExpired, LinkInvalid
        As :func:`digifit.programme.links.link_payload`; also when the result no longer exists.
    """
    from digifit.assessment.models import Assessment

    data = links.link_payload(links.CLAIM, token)
    try:
        pk, email = int(data["a"]), str(data["e"])
    except (KeyError, TypeError, ValueError):
        raise LinkInvalid("this link is not valid") from None
    assessment = Assessment.objects.filter(pk=pk).first()
    if assessment is None:
        raise LinkInvalid("the result of this link was deleted")
    return assessment, email


def check_claim_from_token(*, token: str, business: Business | None, now: datetime | None = None):
    """Claim the result of a claim link for ``business``: only if the link was sent to its confirmed address.

    Raises
    ------
    LinkExpired, LinkInvalid
        The link is expired, not ours, or its result was deleted.
    ClaimRefused
        ``business`` is missing or unconfirmed, the link was sent to another address, or the result belongs to
        another account.
    """
    assessment, email = claim_from_token(token)
    if business is None or not business.verified:
        raise ClaimRefused("only a business account with a confirmed e-mail address can claim a result")
    if business.email.strip().lower() != email:
        raise ClaimRefused("this link was sent to another address")
    return check_claim(assessment=assessment, business=business, now=now)


# ----------------------------------------------------------------------------------------- GDPR


def _own_outbox(business: Business):
    """The outbox rows sent to ``business``: of its own registrations (by key), its address confirmations and
    sign-up notices, and the claim links of the results it claimed; never rows matched by an e-mail address
    alone. Another account may carry the same address; its e-mails are not this business's to see or delete.
    """
    from django.db.models import Q

    cond = Q(key__regex=rf"^programme\.(verify|signup-attempt):{business.pk}(:|$)")
    for pk in business.registrations.values_list("pk", flat=True):
        cond |= Q(key__regex=rf"^programme\.(confirmed|promoted|waitlisted|reminder|cancelled):({pk}:|{pk}$)")
        cond |= Q(key__regex=rf"^programme\.recording:[0-9]+:{pk}$")
    if business.user_id is not None:
        from digifit.assessment.models import Assessment

        digest = _address_digest(business.email.strip().lower())
        for pk in Assessment.objects.filter(owner_id=business.user_id).values_list("pk", flat=True):
            cond |= Q(key__startswith=f"programme.claim:{pk}:{digest}:")
    return OutboxMessage.objects.filter(cond, to__iexact=business.email)


def _audit_models():
    """The login audit trail (django-axes' attempts, logins and failures), when installed."""
    from django.apps import apps

    out = []
    for name in ("AccessAttempt", "AccessLog", "AccessFailureLog"):
        try:
            out.append(apps.get_model("axes", name))
        except LookupError:
            continue
    return out


def _audit_names(business: Business) -> set[str]:
    names = {business.email.strip().lower()}
    if business.user is not None:
        names.add(business.user.username.lower())
    return names


def _login_audit(business: Business) -> list:
    from django.db.models import Q

    cond = Q()
    for name in _audit_names(business):
        cond |= Q(username__iexact=name)
    return [model.objects.filter(cond) for model in _audit_models()]


def _admin_log(business: Business):
    from django.contrib.admin.models import LogEntry
    from django.contrib.contenttypes.models import ContentType
    from django.db.models import Q

    cond = Q(content_type=ContentType.objects.get_for_model(Business), object_id=str(business.pk))
    if business.user_id is not None:
        cond |= Q(content_type=ContentType.objects.get_for_model(get_user_model()), object_id=str(business.user_id))
        cond |= Q(user_id=business.user_id)
    return LogEntry.objects.filter(cond)


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def business_export(*, business: Business) -> dict:
    """Everything stored about ``business`` (GDPR Art. 15/20), as a JSON-ready mapping.

    Profile, consent, registrations (with questions and attendance), trainings, courses taken in digifit (lessons
    done, every check attempt with its answers), the Digital-Check results its
    account claimed (answers and results), the e-mails sent or queued to it, and the audit entries about it
    (login attempts and logins, admin changes).
    """
    from digifit.assessment.selectors import assessment_list_for_owner
    from digifit.learning.selectors import courses_export

    regs = business.registrations.select_related("session__series").order_by("created_at", "id")
    audit = []
    for qs in _login_audit(business):
        for row in qs.order_by("attempt_time", "id"):
            audit.append(
                {
                    "kind": row._meta.model_name,
                    "username": row.username,
                    "at": _iso(row.attempt_time),
                    "ip_address": row.ip_address,
                    "user_agent": row.user_agent,
                    "path": row.path_info,
                }
            )
    for entry in _admin_log(business).order_by("action_time", "id"):
        audit.append(
            {
                "kind": "admin",
                "at": _iso(entry.action_time),
                "object": entry.object_repr,
                "action": entry.get_action_flag_display(),
                "change": entry.get_change_message(),
            }
        )
    return {
        "format": "digifit.business-export/2",
        "exported_at": timezone.now().isoformat(),
        "profile": {
            "company": business.company,
            "sector": business.sector,
            "size_class": business.size_class,
            "region": business.region,
            "contact_name": business.contact_name,
            "email": business.email,
            "email_verified_at": _iso(business.email_verified_at),
            "phone": business.phone,
            "language": business.language,
            "created_at": business.created_at.isoformat(),
            "username": business.user.username if business.user else None,
        },
        "consent": {
            "purpose": business.consent_purpose,
            "text": business.consent_text,
            "version": business.consent_version,
            "given_at": business.consent_given_at.isoformat(),
        },
        "registrations": [
            {
                "series": r.session.series.slug,
                "session_start": r.session.start.isoformat(),
                "role": r.role,
                "status": r.status,
                "question": r.question,
                "registered_at": r.created_at.isoformat(),
                "cancelled_at": _iso(r.cancelled_at),
                "attended": r.attended,
                "coach_note": r.coach_note,
            }
            for r in regs
        ],
        "trainings": [
            {"training": p.training.slug, "completed_on": p.completed_on.isoformat()}
            for p in business.trainings_taken.select_related("training")
        ],
        "courses": courses_export(business=business),
        "checks": [
            {
                "completed_at": a.completed_at.isoformat(),
                "claimed_at": _iso(a.claimed_at),
                "language": a.language,
                "form_id": a.form_id,
                "form_version": a.form_version,
                "rules_version": a.rules_version,
                "email": a.email,
                "answers": a.answers,
                "result": a.result,
                "dii_score": a.dii_score,
                "dii_level": a.dii_level,
                "overall": a.overall,
                "consent_statistics": a.consent_statistics,
                "result_url": _url("assessment:result", a.token),
            }
            for a in assessment_list_for_owner(owner=business.user)
        ],
        "emails": [
            {"to": m.to, "subject": m.subject, "body": m.body_text, "state": m.state, "send_at": m.send_at.isoformat()}
            for m in _own_outbox(business).order_by("send_at", "id")
        ],
        "audit": audit,
    }


def business_delete(*, business: Business, now: datetime | None = None) -> None:
    """Erase ``business`` (GDPR Art. 17): its login, registrations, the Digital-Check results its account
    claimed (answers and all), the e-mails queued or sent to it, and the audit entries naming it.

    Its confirmed places in future sessions are cancelled first, so the waitlist moves up. Statistics already
    published (survey snapshots, peer tables, reports) are left as they are; later ones no longer see it.
    """
    from digifit.assessment import services as assessment_services

    now = now or timezone.now()
    for reg in business.registrations.filter(status__in=["confirmed", "waitlisted"], session__start__gt=now):
        registration_cancel(registration=reg, now=now, notify=False, enforce_deadline=False)
    with transaction.atomic():
        business = Business.objects.select_related("user").get(pk=business.pk)
        _own_outbox(business).exclude(state=OutboxMessage.State.SENDING).delete()
        for qs in _login_audit(business):
            qs.delete()
        _admin_log(business).delete()
        Story.objects.filter(business=business).update(business=None)
        user = business.user
        if user is not None:
            assessment_services.assessment_delete_for_owner(owner=user)
        business.delete()
        if user is not None:
            user.delete()


# ----------------------------------------------------------------------------------------- series


@transaction.atomic
def series_create(*, slug: str, title: str, start_date: date, **fields: object) -> Series:
    """Create a coaching series (defaults: Tuesdays 10:00–11:00 Europe/Berlin, 5 active places)."""
    series = Series(slug=slug, title=title, start_date=start_date, **fields)
    _clean(series)
    series.save()
    series.to_value()  # validates the recurrence as a whole
    return series


@transaction.atomic
def series_exception_set(
    *, series: Series, original_date: date, kind: str, new_start: datetime | None = None, reason: str = ""
) -> SeriesException:
    """Skip a recurrence date, or move its session to ``new_start``; sessions are updated at once."""
    SeriesException.objects.filter(series=series, original_date=original_date).delete()
    exc = SeriesException(series=series, original_date=original_date, kind=kind, new_start=new_start, reason=reason)
    _clean(exc)
    exc.save()
    series.to_value()  # raises ProgrammeError on a date off the recurrence or an overlapping move
    Series.objects.filter(pk=series.pk).update(sequence=series.sequence + 1)
    series.refresh_from_db()
    if Session.objects.filter(series=series).exists():
        last = Session.objects.filter(series=series).order_by("-original_date").first().original_date
        series_sessions_sync(series=series, through=last)
    return exc


@transaction.atomic
def series_sessions_sync(*, series: Series, through: date) -> list[Session]:
    """Create or update the sessions of ``series`` up to ``through`` from its recurrence.

    New sessions take the series' capacities; a moved session gets its new times (its registrants' reminders
    are re-queued for the new start); a skipped date's session is marked cancelled.
    """
    value = series.to_value()
    end = through if series.until is None else min(through, series.until)
    slots = {s.original_date: s for s in recurrence.series_sessions(value, start=series.start_date, end=end)}
    # A session moved to after `through` still belongs here by its recurrence date.
    for d in value.moved:
        if d <= end and d not in slots:
            slots[d] = recurrence.session_slot(value, d)
    sessions = []
    existing = {s.original_date: s for s in Session.objects.select_for_update().filter(series=series)}
    for d, slot in sorted(slots.items()):
        session = existing.get(d)
        if session is None:
            session = Session.objects.create(
                series=series,
                original_date=d,
                start=slot.start,
                end=slot.end,
                moved=slot.moved,
                active_capacity=series.active_capacity,
                follower_capacity=series.follower_capacity,
            )
        elif session.start != slot.start or session.end != slot.end or session.cancelled:
            session.start, session.end, session.moved, session.cancelled = slot.start, slot.end, slot.moved, False
            session.save(update_fields=["start", "end", "moved", "cancelled"])
            for reg in session.registrations.filter(status=Registration.Status.CONFIRMED).select_related("business"):
                outbox_cancel(key_prefix=f"programme.reminder:{reg.pk}:")
                _queue_reminders(reg)
        sessions.append(session)
    for d in value.skipped:
        session = existing.get(d)
        if session is not None and not session.cancelled:
            session.cancelled = True
            session.save(update_fields=["cancelled"])
            for reg in session.registrations.exclude(status=Registration.Status.CANCELLED):
                outbox_cancel(key_prefix=f"programme.reminder:{reg.pk}:")
    return sessions


# ----------------------------------------------------------------------------------------- registrations


def cancel_token(registration: Registration) -> str:
    """The signed token of the cancellation link of ``registration``."""
    return signing.dumps({"r": registration.pk}, salt=CANCEL_SALT, compress=True)


def registration_from_token(token: str, *, now: datetime | None = None) -> Registration:
    """The registration of a cancellation link. A link expires when its session starts.

    Raises
    ------
    CancellationLinkExpired
        The session has started (or ended): the link no longer works.
    CancellationRefused
        If the token is not one we signed or the registration no longer exists.
    """
    try:
        data = signing.loads(token, salt=CANCEL_SALT)
        reg = Registration.objects.select_related("session__series", "business").get(pk=int(data["r"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError, Registration.DoesNotExist):
        raise CancellationRefused("this cancellation link is not valid (or the registration was deleted)") from None
    if (now or timezone.now()) >= reg.session.start:
        raise CancellationLinkExpired(f"this cancellation link expired when the session started ({reg.session.start})")
    return reg


def cancel_deadline(session: Session) -> datetime:
    """The last moment a registration of ``session`` can be cancelled by link."""
    return session.start - timedelta(hours=settings.DIGIFIT_CANCEL_DEADLINE_HOURS)


def _context(reg: Registration) -> dict[str, object]:
    session, series, business = reg.session, reg.session.series, reg.business
    language = business.language
    return {
        "name": business.contact_name,
        "title": series.title,
        "when": emails.when_text(session.start, series.tz, language),
        "tz": series.tz,
        "location": series.location or _url("programme:session", session.pk),
        "deadline": emails.when_text(cancel_deadline(session), series.tz, language),
        "cancel_url": _url("programme:registration_cancel", cancel_token(reg)),
        "feed_url": _url("programme:personal_feed", business.feed_token),
        "role": reg.role,
        "question": reg.question if reg.role == Registration.Role.ACTIVE else "",
    }


def _session_ics(reg: Registration, *, method: str = "REQUEST", sequence: int | None = None) -> bytes:
    series = reg.session.series
    value = series.to_value()
    slot = recurrence.session_slot(value, reg.session.original_date)
    return calendar.session_event(
        value,
        slot,
        method=method,
        url=_url("programme:session", reg.session.pk),
        organizer=settings.DEFAULT_FROM_EMAIL,
        attendees=[f"{reg.business.contact_name} <{reg.business.email}>"],
        sequence=(series.sequence + (1 if slot.moved else 0)) if sequence is None else sequence,
    )


def _queue(
    kind: str,
    reg: Registration,
    *,
    key: str,
    send_at: datetime,
    ics: bytes | None = None,
    method: str = "REQUEST",
    **extra,
) -> None:
    ctx = _context(reg) | extra
    rendered = emails.render(kind, reg.business.language, **ctx)
    attachments = [("session.ics", ics, f"text/calendar; method={method}; charset=utf-8")] if ics else []
    outbox_enqueue(
        key=key,
        to=reg.business.email,
        subject=rendered.subject,
        body_text=rendered.body,
        send_at=send_at,
        language=reg.business.language,
        attachments=attachments,
    )


def _queue_reminders(reg: Registration, *, now: datetime | None = None) -> None:
    """Queue the reminders of a confirmed registration (offsets from ``DIGIFIT_REMINDER_OFFSETS_HOURS``)."""
    now = now or timezone.now()
    start = reg.session.start
    for hours in settings.DIGIFIT_REMINDER_OFFSETS_HOURS:
        send_at = start - timedelta(hours=hours)
        if send_at <= now:
            continue  # registered later than this reminder: the confirmation says it all
        minutes = round(hours * 60)
        _queue("reminder", reg, key=f"programme.reminder:{reg.pk}:{start:%Y%m%dT%H%M%z}:{minutes}m", send_at=send_at)


def _confirm(reg: Registration, *, now: datetime, promoted: bool) -> None:
    kind = "promoted" if promoted else "confirmed"
    _queue(kind, reg, key=f"programme.{kind}:{reg.pk}", send_at=now, ics=_session_ics(reg))
    _queue_reminders(reg, now=now)


def _taken(session: Session, role: str) -> int:
    return session.registrations.filter(role=role, status=Registration.Status.CONFIRMED).count()


def _capacity(session: Session, role: str) -> int:
    return session.active_capacity if role == Registration.Role.ACTIVE else session.follower_capacity


def session_register(
    *,
    session: Session,
    business: Business,
    role: str,
    question: str = "",
    now: datetime | None = None,
) -> Registration:
    """Register ``business`` for ``session``: confirmed if a place of ``role`` is free, else waitlisted.

    An active registration needs the business's question in advance. The confirmation (with the session's
    ``.ics``) or the waitlist notice and the reminders are queued in the same transaction.

    Raises
    ------
    RegistrationRefused
        The session has started or is cancelled, the role is unknown, an active registration has no
        question, or the business is already registered for this session.
    """
    now = now or timezone.now()
    if role not in Registration.Role.values:
        raise RegistrationRefused(f"role: got {role!r}; expected one of {Registration.Role.values}")
    question = (question or "").strip()
    if role == Registration.Role.ACTIVE and not question:
        raise RegistrationRefused("an active place needs your question or problem in advance")
    with transaction.atomic():
        # The lock that prevents overbooking: every registration and cancellation of this session queues here.
        locked = Session.objects.select_for_update().select_related("series").get(pk=session.pk)
        if locked.cancelled:
            raise RegistrationRefused(f"the session of {locked.start:%Y-%m-%d} is cancelled")
        if locked.start <= now:
            raise RegistrationRefused(f"the session of {locked.start:%Y-%m-%d %H:%M} has already started")
        if locked.registrations.filter(business=business).exclude(status=Registration.Status.CANCELLED).exists():
            raise RegistrationRefused(f"{business.company} is already registered for this session")
        free = _taken(locked, role) < _capacity(locked, role)
        reg = Registration(
            session=locked,
            business=business,
            role=role,
            status=Registration.Status.CONFIRMED if free else Registration.Status.WAITLISTED,
            question=question,
            sector=business.sector,
            confirmed_at=now if free else None,
        )
        _clean(reg, exclude=["session", "business"])
        try:
            with transaction.atomic():
                reg.save()
        except IntegrityError:
            raise RegistrationRefused(f"{business.company} is already registered for this session") from None
        if free:
            _confirm(reg, now=now, promoted=False)
        else:
            position = selectors.waitlist_position(reg)
            _queue("waitlisted", reg, key=f"programme.waitlisted:{reg.pk}", send_at=now, position=position)
    return reg


def _promote(session: Session, role: str, *, now: datetime) -> list[Registration]:
    """Fill free places of ``role`` from the waitlist, first in first out (caller holds the session lock)."""
    promoted = []
    free = _capacity(session, role) - _taken(session, role)
    if free <= 0 or session.start <= now or session.cancelled:
        return promoted
    queue = (
        session.registrations.select_related("business", "session__series")
        .filter(role=role, status=Registration.Status.WAITLISTED)
        .order_by("created_at", "id")[:free]
    )
    for reg in queue:
        reg.status = Registration.Status.CONFIRMED
        reg.confirmed_at = reg.promoted_at = now
        reg.save(update_fields=["status", "confirmed_at", "promoted_at"])
        _confirm(reg, now=now, promoted=True)
        promoted.append(reg)
    return promoted


def registration_cancel(
    *,
    registration: Registration,
    now: datetime | None = None,
    notify: bool = True,
    enforce_deadline: bool = True,
) -> Registration:
    """Cancel a registration; a freed confirmed place goes to the first waitlisted business of its role.

    Raises
    ------
    CancellationRefused
        After the cancellation deadline (``DIGIFIT_CANCEL_DEADLINE_HOURS`` before the start).
    """
    now = now or timezone.now()
    with transaction.atomic():
        session = Session.objects.select_for_update().select_related("series").get(pk=registration.session_id)
        reg = Registration.objects.select_related("business").get(pk=registration.pk)
        reg.session = session
        if reg.status == Registration.Status.CANCELLED:
            return reg  # cancelling twice changes nothing (a second click on the link)
        if enforce_deadline and now > cancel_deadline(session):
            raise CancellationRefused(
                f"the cancellation deadline ({cancel_deadline(session):%Y-%m-%d %H:%M %Z}) has passed"
            )
        was_confirmed = reg.status == Registration.Status.CONFIRMED
        reg.status = Registration.Status.CANCELLED
        reg.cancelled_at = now
        reg.save(update_fields=["status", "cancelled_at"])
        outbox_cancel(key_prefix=f"programme.reminder:{reg.pk}:")
        if notify:
            ics = None
            if was_confirmed and not session.cancelled:  # remove the entry the confirmation put in the calendar
                slot_moved = recurrence.session_slot(session.series.to_value(), session.original_date).moved
                sequence = session.series.sequence + (1 if slot_moved else 0) + 1
                ics = _session_ics(reg, method="CANCEL", sequence=sequence)
            _queue("cancelled", reg, key=f"programme.cancelled:{reg.pk}", send_at=now, ics=ics, method="CANCEL")
        if was_confirmed:
            _promote(session, reg.role, now=now)
    registration.status, registration.cancelled_at = reg.status, reg.cancelled_at
    return reg


@transaction.atomic
def session_capacity_set(*, session: Session, active: int, follower: int, now: datetime | None = None) -> Session:
    """Change a session's capacities; new places are filled from the waitlists at once."""
    locked = Session.objects.select_for_update().select_related("series").get(pk=session.pk)
    locked.active_capacity, locked.follower_capacity = active, follower
    _clean(locked)
    locked.save(update_fields=["active_capacity", "follower_capacity"])
    for role in Registration.Role.values:
        _promote(locked, role, now=now or timezone.now())
    return locked


# ----------------------------------------------------------------------------------------- after the session


def _attendance_open(session: Session, now: datetime) -> None:
    if session.cancelled:
        raise AttendanceRefused(gettext("The session is cancelled; there is no attendance to mark."))
    if now < session.start:
        start = formats.date_format(timezone.localtime(session.start), "DATETIME_FORMAT")
        raise AttendanceRefused(
            gettext("Attendance can be marked from the start of the session (%(start)s).") % {"start": start}
        )


@transaction.atomic
def attendance_mark(
    *, registration: Registration, attended: bool, note: str | None = None, now: datetime | None = None
) -> Registration:
    """Record whether a registrant attended, with the coach's note.

    Raises
    ------
    AttendanceRefused
        The session has not started yet or is cancelled, or the registration is not confirmed (cancelled and
        waitlisted registrations are no attendees).
    """
    if registration.status != Registration.Status.CONFIRMED:
        raise AttendanceRefused(gettext("Only confirmed registrations can be marked as present or absent."))
    _attendance_open(registration.session, now or timezone.now())
    registration.attended = attended
    fields = ["attended"]
    if note is not None:
        registration.coach_note = note
        fields.append("coach_note")
    registration.save(update_fields=fields)
    return registration


@transaction.atomic
def attendance_mark_all_present(*, session: Session, now: datetime | None = None) -> int:
    """Mark every confirmed registration of ``session`` not marked yet as present ("all present"); a registrant
    already marked absent stays absent. Returns how many were marked.

    Raises
    ------
    AttendanceRefused
        The session has not started yet or is cancelled.
    """
    _attendance_open(session, now or timezone.now())
    return session.registrations.filter(status=Registration.Status.CONFIRMED, attended__isnull=True).update(
        attended=True
    )


@transaction.atomic
def session_notes_set(*, session: Session, notes: str) -> Session:
    """Store the coach's notes of a session."""
    session.notes = notes
    session.save(update_fields=["notes"])
    return session


@transaction.atomic
def recording_publish(*, session: Session, url: str, now: datetime | None = None) -> int:
    """Publish the recording of a session and e-mail its link to every confirmed registrant (once each).

    Returns the number of e-mails queued now (0 when published before).
    """
    now = now or timezone.now()
    session.recording_url = url
    session.recording_published_at = session.recording_published_at or now
    _clean(session)
    session.save(update_fields=["recording_url", "recording_published_at"])
    before = OutboxMessage.objects.filter(key__startswith=f"programme.recording:{session.pk}:").count()
    regs = session.registrations.filter(status=Registration.Status.CONFIRMED).select_related(
        "business", "session__series"
    )
    for reg in regs:
        _queue("recording", reg, key=f"programme.recording:{session.pk}:{reg.pk}", send_at=now, recording=url)
    return OutboxMessage.objects.filter(key__startswith=f"programme.recording:{session.pk}:").count() - before


@transaction.atomic
def training_participation_record(*, business: Business, training: Training, completed_on: date):
    """Record that ``business`` completed ``training`` (counts as attendance for reach)."""
    part, _ = TrainingParticipation.objects.get_or_create(
        business=business, training=training, defaults={"completed_on": completed_on}
    )
    return part
