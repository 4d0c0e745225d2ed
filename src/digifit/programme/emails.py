"""The programme's e-mails in German, English and French: confirmation, waitlist, promotion, reminder,
cancellation, recording; and the account e-mails: address confirmation, "someone tried to sign up with your
address", and the claim link of a Digital-Check result. Plain text; the confirmation carries the session's ``.ics``.

Kept as data (not gettext catalogues) so that a message is rendered in the *registrant's* language whatever
language the request or the worker runs in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

_DATE = {"de": "%d.%m.%Y um %H:%M Uhr", "en": "%Y-%m-%d at %H:%M", "fr": "%d/%m/%Y à %Hh%M"}
_ROLE = {
    "de": {"active": "aktiv (mit Ihrer Frage im Live-Coaching)", "follower": "als Zuschauer/in"},
    "en": {"active": "active (coached live on your question)", "follower": "as a follower"},
    "fr": {"active": "actif (coaché en direct sur votre question)", "follower": "en tant que spectateur"},
}

TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    "confirmed": {
        "de": (
            "Anmeldung bestätigt: {title} am {when}",
            "Guten Tag {name},\n\nIhre Anmeldung für „{title}“ am {when} ({tz}) ist bestätigt – {role}.\n"
            "{question}Den Kalendereintrag finden Sie im Anhang.\n\nTeilnahme: {location}\n"
            "Abmelden bis {deadline}: {cancel_url}\nIhr persönlicher Kalender: {feed_url}\n\nIhr digifit-Team",
        ),
        "en": (
            "Registration confirmed: {title} on {when}",
            'Hello {name},\n\nyour registration for "{title}" on {when} ({tz}) is confirmed – {role}.\n'
            "{question}The calendar entry is attached.\n\nJoin: {location}\n"
            "Cancel until {deadline}: {cancel_url}\nYour personal calendar: {feed_url}\n\nThe digifit team",
        ),
        "fr": (
            "Inscription confirmée : {title} le {when}",
            "Bonjour {name},\n\nvotre inscription à « {title} » le {when} ({tz}) est confirmée – {role}.\n"
            "{question}L'entrée de calendrier est jointe.\n\nParticiper : {location}\n"
            "Annuler jusqu'au {deadline} : {cancel_url}\nVotre calendrier personnel : {feed_url}\n\nL'équipe digifit",
        ),
    },
    "waitlisted": {
        "de": (
            "Warteliste: {title} am {when}",
            "Guten Tag {name},\n\nfür „{title}“ am {when} sind alle Plätze ({role}) vergeben. Sie stehen auf der "
            "Warteliste (Platz {position}). Wird ein Platz frei, rücken Sie automatisch nach und erhalten eine "
            "E-Mail.\n\nAbmelden: {cancel_url}\n\nIhr digifit-Team",
        ),
        "en": (
            "Waitlist: {title} on {when}",
            'Hello {name},\n\nall places ({role}) for "{title}" on {when} are taken. You are on the waitlist '
            "(position {position}). When a place frees up you move up automatically and get an e-mail.\n\n"
            "Cancel: {cancel_url}\n\nThe digifit team",
        ),
        "fr": (
            "Liste d'attente : {title} le {when}",
            "Bonjour {name},\n\ntoutes les places ({role}) pour « {title} » le {when} sont prises. Vous êtes sur "
            "la liste d'attente (position {position}). Si une place se libère, vous êtes inscrit automatiquement "
            "et recevez un e-mail.\n\nAnnuler : {cancel_url}\n\nL'équipe digifit",
        ),
    },
    "promoted": {
        "de": (
            "Platz frei – Sie sind dabei: {title} am {when}",
            "Guten Tag {name},\n\nein Platz ist frei geworden: Ihre Anmeldung für „{title}“ am {when} ({tz}) ist "
            "jetzt bestätigt – {role}.\nDen Kalendereintrag finden Sie im Anhang.\n\nTeilnahme: {location}\n"
            "Abmelden bis {deadline}: {cancel_url}\n\nIhr digifit-Team",
        ),
        "en": (
            "A place freed up – you are in: {title} on {when}",
            'Hello {name},\n\na place has freed up: your registration for "{title}" on {when} ({tz}) is now '
            "confirmed – {role}.\nThe calendar entry is attached.\n\nJoin: {location}\n"
            "Cancel until {deadline}: {cancel_url}\n\nThe digifit team",
        ),
        "fr": (
            "Une place s'est libérée : {title} le {when}",
            "Bonjour {name},\n\nune place s'est libérée : votre inscription à « {title} » le {when} ({tz}) est "
            "confirmée – {role}.\nL'entrée de calendrier est jointe.\n\nParticiper : {location}\n"
            "Annuler jusqu'au {deadline} : {cancel_url}\n\nL'équipe digifit",
        ),
    },
    "reminder": {
        "de": (
            "Erinnerung: {title} am {when}",
            "Guten Tag {name},\n\nwir erinnern Sie an „{title}“ am {when} ({tz}) – {role}.\n\nTeilnahme: "
            "{location}\nAbmelden: {cancel_url}\n\nIhr digifit-Team",
        ),
        "en": (
            "Reminder: {title} on {when}",
            'Hello {name},\n\na reminder of "{title}" on {when} ({tz}) – {role}.\n\nJoin: {location}\n'
            "Cancel: {cancel_url}\n\nThe digifit team",
        ),
        "fr": (
            "Rappel : {title} le {when}",
            "Bonjour {name},\n\nun rappel de « {title} » le {when} ({tz}) – {role}.\n\nParticiper : {location}\n"
            "Annuler : {cancel_url}\n\nL'équipe digifit",
        ),
    },
    "cancelled": {
        "de": (
            "Abmeldung bestätigt: {title} am {when}",
            "Guten Tag {name},\n\nSie sind von „{title}“ am {when} abgemeldet.\n\nIhr digifit-Team",
        ),
        "en": (
            "Cancellation confirmed: {title} on {when}",
            'Hello {name},\n\nyou are no longer registered for "{title}" on {when}.\n\nThe digifit team',
        ),
        "fr": (
            "Annulation confirmée : {title} le {when}",
            "Bonjour {name},\n\nvous n'êtes plus inscrit à « {title} » le {when}.\n\nL'équipe digifit",
        ),
    },
    "recording": {
        "de": (
            "Aufzeichnung: {title} vom {when}",
            "Guten Tag {name},\n\ndie Aufzeichnung von „{title}“ vom {when} ist online: {recording}\n\n"
            "Ihr digifit-Team",
        ),
        "en": (
            "Recording: {title} of {when}",
            'Hello {name},\n\nthe recording of "{title}" of {when} is online: {recording}\n\nThe digifit team',
        ),
        "fr": (
            "Enregistrement : {title} du {when}",
            "Bonjour {name},\n\nl'enregistrement de « {title} » du {when} est en ligne : {recording}\n\n"
            "L'équipe digifit",
        ),
    },
    "verify": {
        "de": (
            "Bitte bestätigen Sie Ihre E-Mail-Adresse",
            "Guten Tag {name},\n\nSie (oder jemand mit Ihrer Adresse) haben „{company}“ bei digifit registriert. "
            "Bitte bestätigen Sie Ihre E-Mail-Adresse mit diesem Link (gültig {hours} Stunden):\n\n{url}\n\n"
            "Erst danach ist Ihr Konto aktiv. Waren Sie das nicht, ignorieren Sie diese E-Mail: dann wird nichts "
            "verknüpft und die Angaben werden gelöscht.\n\nIhr digifit-Team",
        ),
        "en": (
            "Please confirm your e-mail address",
            'Hello {name},\n\nyou (or someone using your address) registered "{company}" with digifit. Please '
            "confirm your e-mail address with this link (valid for {hours} hours):\n\n{url}\n\nOnly then is "
            "your account active. If this was not you, ignore this e-mail: nothing is linked and the details are "
            "deleted.\n\nThe digifit team",
        ),
        "fr": (
            "Veuillez confirmer votre adresse e-mail",
            "Bonjour {name},\n\nvous (ou quelqu'un utilisant votre adresse) avez inscrit « {company} » sur "
            "digifit. Veuillez confirmer votre adresse e-mail avec ce lien (valable {hours} heures) :\n\n{url}"
            "\n\nVotre compte n'est actif qu'ensuite. Si ce n'était pas vous, ignorez cet e-mail : rien n'est "
            "lié et les données sont supprimées.\n\nL'équipe digifit",
        ),
    },
    "signup_attempt": {
        "de": (
            "Registrierungsversuch mit Ihrer E-Mail-Adresse",
            "Guten Tag,\n\njemand hat versucht, mit Ihrer E-Mail-Adresse einen weiteren Betrieb bei digifit zu "
            "registrieren. Ihre Adresse gehört bereits zu einem bestätigten Konto; es wurde nichts angelegt und "
            "nichts verknüpft.\n\nWaren Sie das, melden Sie sich einfach an: {url}\n\nIhr digifit-Team",
        ),
        "en": (
            "Sign-up attempt with your e-mail address",
            "Hello,\n\nsomeone tried to register another business with digifit using your e-mail address. Your "
            "address already belongs to a confirmed account; nothing was created and nothing was linked.\n\n"
            "If this was you, just log in: {url}\n\nThe digifit team",
        ),
        "fr": (
            "Tentative d'inscription avec votre adresse e-mail",
            "Bonjour,\n\nquelqu'un a essayé d'inscrire une autre entreprise sur digifit avec votre adresse "
            "e-mail. Votre adresse appartient déjà à un compte confirmé ; rien n'a été créé ni lié.\n\n"
            "Si c'était vous, connectez-vous simplement : {url}\n\nL'équipe digifit",
        ),
    },
    "claim": {
        "de": (
            "Digital-Check-Ergebnis Ihrem Betrieb zuordnen",
            "Guten Tag,\n\njemand möchte ein Ergebnis des Digital-Checks vom {date} dem Betriebskonto dieser "
            "E-Mail-Adresse zuordnen. Waren Sie das, öffnen Sie diesen Link (gültig {hours} Stunden) und melden "
            "Sie sich mit dem bestätigten Konto dieser Adresse an:\n\n{url}\n\nSonst ignorieren Sie diese "
            "E-Mail: ohne den Link wird nichts zugeordnet.\n\nIhr digifit-Team",
        ),
        "en": (
            "Link a Digital-Check result to your business",
            "Hello,\n\nsomeone wants to link a Digital-Check result of {date} to the business account of this "
            "e-mail address. If this was you, open this link (valid for {hours} hours) and log in with the "
            "confirmed account of this address:\n\n{url}\n\nOtherwise ignore this e-mail: without the link "
            "nothing is linked.\n\nThe digifit team",
        ),
        "fr": (
            "Associer un résultat du Digital-Check à votre entreprise",
            "Bonjour,\n\nquelqu'un souhaite associer un résultat du Digital-Check du {date} au compte "
            "entreprise de cette adresse e-mail. Si c'était vous, ouvrez ce lien (valable {hours} heures) et "
            "connectez-vous avec le compte confirmé de cette adresse :\n\n{url}\n\nSinon, ignorez cet "
            "e-mail : sans le lien, rien n'est associé.\n\nL'équipe digifit",
        ),
    },
}

_QUESTION = {"de": "Ihre Frage: {q}\n", "en": "Your question: {q}\n", "fr": "Votre question : {q}\n"}


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def when_text(start: datetime, tz: str, language: str) -> str:
    """A session's start in its own time zone, formatted for ``language``."""
    return start.astimezone(ZoneInfo(tz)).strftime(_DATE.get(language, _DATE["de"]))


def render(kind: str, language: str, *, role: str = "", question: str = "", **values: object) -> Rendered:
    """Render e-mail ``kind`` in ``language`` (German if unknown)."""
    language = language if language in TEXTS[kind] else "de"
    subject, body = TEXTS[kind][language]
    values = {
        "role": _ROLE[language].get(role, role),
        "question": _QUESTION[language].format(q=question) if question else "",
        **values,
    }
    return Rendered(subject.format(**values), body.format(**values))
