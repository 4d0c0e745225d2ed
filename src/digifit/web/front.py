"""The front door at ``/``: what the programme offers and for whom, the next Tuesday coaching sessions that still
have free places, featured trainings per sector, the Digital-Check, sign-up and login.

Public (anonymous visitors and logged-in users alike; a logged-in user also gets a link to the home of their
role). It only reads through the programme's selectors: a session is offered as having free places when it has
an active or a follower place left (the same arithmetic as the session page), so a full session is never
advertised as open.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from digifit.programme import selectors as programme
from digifit.programme.models import Sector, Session, Training
from digifit.web.models import SitePage
from digifit.web.site_pages import site_page_text

#: How many sessions and how many trainings per sector the front door shows.
SESSIONS_SHOWN = 3
TRAININGS_PER_SECTOR = 3
#: The sectors the programme trains (the catalogue's others are for everyone).
FEATURED_SECTORS = (Sector.TRAVEL, Sector.GASTRONOMY, Sector.RETAIL)


@dataclass(frozen=True)
class OpenSession:
    """An upcoming session with its free places."""

    session: Session
    active_free: int
    follower_free: int


@dataclass(frozen=True)
class SectorTrainings:
    """The featured trainings of one sector, with the sector's label (never its code)."""

    sector: str
    label: str
    trainings: list[Training]


def open_sessions(*, limit: int = SESSIONS_SHOWN, now=None) -> list[OpenSession]:
    """The next Tuesday coaching sessions that have an active or a follower place left."""
    found: list[OpenSession] = []
    for session in programme.session_upcoming_list(limit=50, now=now):
        if session.series.weekday != "TU":
            continue
        active = max(0, session.active_capacity - session.n_active)
        follower = max(0, session.follower_capacity - session.n_followers)
        if active or follower:
            found.append(OpenSession(session, active, follower))
        if len(found) == limit:
            break
    return found


def featured_trainings(*, per_sector: int = TRAININGS_PER_SECTOR) -> list[SectorTrainings]:
    """For each of the programme's sectors its first published trainings (those for all sectors included)."""
    labels = dict(Sector.choices)
    out = []
    for sector in FEATURED_SECTORS:
        trainings = list(programme.training_list(sector=sector)[:per_sector])
        if trainings:
            out.append(SectorTrainings(sector, str(labels[sector]), trainings))
    return out


def front(request: HttpRequest) -> HttpResponse:
    """The public start page of digifit."""
    intro, intro_stored = site_page_text(key=SitePage.Key.FRONT_INTRO, language=request.LANGUAGE_CODE)
    context = {
        "intro": intro if intro_stored else "",
        "sessions": open_sessions(),
        "series": programme.series_list().first(),
        "sectors": featured_trainings(),
        "stories": programme.story_list(limit=2),
        "language": request.LANGUAGE_CODE,
    }
    return render(request, "web/front.html", context)


__all__ = ["OpenSession", "SectorTrainings", "featured_trainings", "front", "open_sessions"]
