"""Invitation e-mails and reminders, sent through the e-mail outbox (:mod:`digifit.notifications`).

* :func:`invitations_send` queues one invitation e-mail per pending invitation of a wave (outbox key
  ``invite:<invitation id>``) with the respondent's link ``/r/<token>/``, in the invitation's language, marks the
  invitation ``sent`` — and queues its reminders at once, each with its own ``send_at``
  (``invite-reminder:<invitation id>:<n>``, the *n*-th day of the wave's :class:`ReminderSchedule`, default
  ``DIGIFIT_INVITATION_REMINDER_DAYS`` = 7 and 14). The outbox is the scheduler; ``digifit worker`` sends.
* An answered invitation cancels its pending reminders (:func:`invitation_reminders_cancel`, called after the
  submission commits), and so does closing its wave; reminders that would fall after the wave's ``closes_at``
  are never queued.
* Only a digest of each token is stored: the link is made when the e-mail is queued (a new token, unless the
  caller passes the invitations it just created) and lives on only in the outbox message.
* Every key is idempotent: sending a wave's invitations twice queues nothing new, and the outbox sends a
  message once (with a stable Message-ID).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from digifit.survey.models import (
    Invitation,
    MailText,
    ReminderSchedule,
    Wave,
    invitation_token_digest,
    invitation_token_new,
)
from digifit.survey.selectors import invitation_sendable_list

logger = logging.getLogger("digifit.survey.invitations")


def _outbox():
    from digifit.notifications import services

    return services


def reminder_days(wave: Wave) -> list[int]:
    """The days after sending on which unanswered invitations of ``wave`` are reminded."""
    schedule = ReminderSchedule.objects.filter(wave=wave).first()
    if schedule is not None:
        return sorted({int(d) for d in schedule.offsets_days if int(d) > 0})
    return sorted({int(d) for d in getattr(settings, "DIGIFIT_INVITATION_REMINDER_DAYS", (7, 14))})


@transaction.atomic
def reminder_schedule_set(*, wave: Wave, days: Sequence[int]) -> ReminderSchedule:
    """Set the reminder days of a wave (``[]``: no reminders). Applies to invitations sent afterwards.

    Raises
    ------
    ValueError
        A day is not a positive whole number.
    """
    cleaned = []
    for d in days:
        if isinstance(d, bool) or not isinstance(d, int) or d <= 0:
            raise ValueError(f"reminder days of wave {wave.name!r}: got {d!r}; expected a positive whole number")
        cleaned.append(d)
    schedule, _ = ReminderSchedule.objects.update_or_create(wave=wave, defaults={"offsets_days": sorted(set(cleaned))})
    return schedule


def _clear_token(invitation: Invitation, token: str | None) -> str:
    token = token or getattr(invitation, "token", None)
    if not token:
        raise ValueError(
            f"invitation {invitation.pk}: its token is stored as a digest only; pass the clear token "
            "(from the creation) or renew it with invitation_token_renew"
        )
    return token


def invitation_link(invitation: Invitation, token: str | None = None) -> str:
    """The absolute address of the respondent's form (``DIGIFIT_BASE_URL`` + ``/r/<token>/``).

    ``token`` is the clear token (only its digest is stored); by default the one an invitation object carries
    right after its creation or renewal.
    """
    base = getattr(settings, "DIGIFIT_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
    return base + reverse("survey:respond_form", kwargs={"token": _clear_token(invitation, token)})


MAIL_LANGUAGES = ("de", "en", "fr")


def mail_text_default(kind: str, language: str, title: str) -> tuple[str, str]:
    """digifit's own (subject, opening text) of an invitation (``kind="invitation"``) or a reminder in
    ``language`` — what a wave without its own wording sends, and what the text editor starts from."""
    with translation.override(language):
        if kind == MailText.Kind.REMINDER:
            return (
                gettext("Reminder: %(title)s") % {"title": title},
                gettext(
                    "a few days ago we invited you to our survey “%(title)s”. We have not received your answers "
                    "yet — it takes about ten minutes, and every answer helps."
                )
                % {"title": title},
            )
        return (
            gettext("Your invitation: %(title)s") % {"title": title},
            gettext(
                "we invite you to take part in our survey “%(title)s”. It takes about ten minutes; your answers "
                "are confidential and only reported in summary."
            )
            % {"title": title},
        )


def mail_texts(wave: Wave) -> dict[tuple[str, str], MailText]:
    """The wave's own e-mail texts by (kind, language)."""
    return {(t.kind, t.language): t for t in MailText.objects.filter(wave=wave)}


def mail_text_set(*, wave: Wave, kind: str, language: str, subject: str, body: str, user=None) -> MailText | None:
    """Store the wave's wording of one e-mail in one language; the default wording (or an empty one) removes
    the wave's own, so the e-mail follows digifit's default again (and its translations)."""
    subject, body = subject.strip(), body.strip()
    default_subject, default_body = mail_text_default(kind, language, _title(wave))
    if not subject or not body or (subject, body) == (default_subject, default_body):
        MailText.objects.filter(wave=wave, kind=kind, language=language).delete()
        return None
    text, _created = MailText.objects.update_or_create(
        wave=wave,
        kind=kind,
        language=language,
        defaults={
            "subject": subject[:200],
            "body": body[:4000],
            "updated_by": user if getattr(user, "is_authenticated", False) else None,
        },
    )
    return text


def _title(wave: Wave) -> str:
    return wave.questionnaire.title or wave.questionnaire.form_id


def invitation_message(invitation: Invitation, *, reminder: int = 0, token: str | None = None) -> tuple[str, str, str]:
    """Return (subject, text, HTML) of the invitation (``reminder=0``) or its ``reminder``-th reminder, in the
    invitation's language: the wave's own subject and opening text where the survey manager wrote them
    (:class:`MailText`), digifit's default wording otherwise."""
    wave = invitation.wave
    language = invitation.language if invitation.language in MAIL_LANGUAGES else "de"
    kind = MailText.Kind.REMINDER if reminder else MailText.Kind.INVITATION
    own = MailText.objects.filter(wave=wave, kind=kind, language=language).first()
    subject, intro = (own.subject, own.body) if own else mail_text_default(kind, language, _title(wave))
    context = {
        "title": _title(wave),
        "wave": wave,
        "link": invitation_link(invitation, token),
        "closes_at": wave.closes_at,
        "reminder": reminder,
        "language": language,
        "intro": intro,
    }
    with translation.override(language):
        text = render_to_string("survey/respond/mail_invitation.txt", context)
        html = render_to_string("survey/respond/mail_invitation.html", context)
    return subject, text, html


def invitation_token_renew(*, invitation: Invitation) -> str:
    """Give ``invitation`` a new token and return it in clear (its digest replaces the stored one).

    The invitation e-mail needs the clear token, which is not stored: sending makes a new one (the link of the
    creation answer, if any, then stops working) unless the caller still holds the object from the creation.
    """
    token = invitation_token_new()
    invitation.token_digest = invitation_token_digest(token)
    Invitation.objects.filter(pk=invitation.pk).update(token_digest=invitation.token_digest)
    invitation.token = token
    return token


def invitation_link_renew(*, invitation: Invitation) -> str:
    """Give one invitation a new link for the survey manager to pass on (phone, letter); return the clear token.

    The old link stops working, and so would every e-mail still queued with it: the invitation e-mail if it has
    not gone out yet and the reminders are withdrawn (the manager who hands out a link by hand reminds by hand).
    A pending invitation stays pending, so sending the wave's invitations later still mails it (with yet another
    link).
    """
    with transaction.atomic():
        token = invitation_token_renew(invitation=invitation)
        _outbox().outbox_cancel(keys=[f"invite:{invitation.pk}"], key_prefix=f"invite-reminder:{invitation.pk}:")
    return token


def invitations_send(
    *, wave: Wave, invitations: Iterable[Invitation] | None = None, now: dt.datetime | None = None
) -> int:
    """Queue the invitation e-mail (and its reminders) of every pending invitation with an e-mail address.

    Returns how many invitations were queued. Invitations without e-mail, or already sent, are left alone.
    Tokens are stored as digests only: an invitation passed in ``invitations`` straight from its creation is
    mailed with its token; any other gets a new token now (its digest is stored in the same transaction as the
    e-mails), so the link is made and mailed in one step.
    """
    outbox = _outbox()
    now = now or timezone.now()
    days = reminder_days(wave)
    qs = invitation_sendable_list(wave=wave)
    if invitations is not None:
        qs = qs.filter(pk__in=[i.pk for i in invitations])
    held = {i.pk: i.token for i in invitations or () if getattr(i, "token", None)}
    queued = 0
    for invitation in qs.select_related("wave__questionnaire").order_by("id"):
        with transaction.atomic():  # the e-mails, the token digest and the status commit together
            token = held.get(invitation.pk) or invitation_token_renew(invitation=invitation)
            subject, text, html = invitation_message(invitation, token=token)
            outbox.outbox_enqueue(
                key=f"invite:{invitation.pk}",
                to=invitation.email,
                subject=subject,
                body_text=text,
                body_html=html,
                send_at=now,
                language=invitation.language,
            )
            for n, day in enumerate(days, start=1):
                send_at = now + dt.timedelta(days=day)
                if wave.closes_at and send_at >= wave.closes_at:
                    break
                subject, text, html = invitation_message(invitation, reminder=n, token=token)
                outbox.outbox_enqueue(
                    key=f"invite-reminder:{invitation.pk}:{n}",
                    to=invitation.email,
                    subject=subject,
                    body_text=text,
                    body_html=html,
                    send_at=send_at,
                    language=invitation.language,
                )
            Invitation.objects.filter(pk=invitation.pk, status=Invitation.Status.PENDING).update(
                status=Invitation.Status.SENT, sent_at=now
            )
            queued += 1
    return queued


def invitation_reminders_cancel(*, invitation_id: int) -> int:
    """Cancel the reminders of an invitation that are not sent yet; return how many."""
    return _outbox().outbox_cancel(key_prefix=f"invite-reminder:{invitation_id}:")


def wave_reminders_cancel(*, wave: Wave) -> int:
    """Cancel every reminder of a wave not sent yet (the wave closed)."""
    ids = Invitation.objects.filter(wave=wave).values_list("pk", flat=True)
    return sum(invitation_reminders_cancel(invitation_id=pk) for pk in ids)


def wave_closed(*, wave: Wave) -> None:
    """After a wave closed: cancel its reminders. Never raises (the wave is closed either way)."""
    try:
        wave_reminders_cancel(wave=wave)
    except Exception:
        logger.exception("could not cancel the reminders of wave %s", wave.pk)


def invitation_answered(*, invitation_id: int) -> None:
    """After an invitation's submission committed: no more reminders. Never raises."""
    try:
        invitation_reminders_cancel(invitation_id=invitation_id)
    except Exception:
        logger.exception("could not cancel the reminders of invitation %s", invitation_id)


__all__ = [
    "invitation_answered",
    "invitation_link",
    "invitation_link_renew",
    "invitation_message",
    "invitation_reminders_cancel",
    "invitations_send",
    "mail_text_default",
    "mail_text_set",
    "mail_texts",
    "reminder_days",
    "reminder_schedule_set",
    "wave_closed",
    "wave_reminders_cancel",
]
