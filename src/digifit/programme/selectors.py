"""Reads of the programme: the catalogue, sessions, agendas, feeds' inputs and reach.

The Digital-Check hook
----------------------
"Digitally fit" needs "completed the Digital-Check" (:mod:`digifit.programme.reach`). A check counts for a
business only once the business's verified account has claimed it (``Assessment.owner``, set through the claim
pages after the account proved its e-mail address); a typed e-mail address never counts. :func:`completed_checks`
reads the claimed checks per account from ``digifit.assessment.selectors.claimed_checks_by_owner()`` (the
programme depends on the assessment app, never the other way round) and maps accounts to verified businesses
here. Without the assessment app nobody has completed the check, so nobody counts as fit under the default rule
(the funnel still shows registered and attended). The dashboard says which source it used.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from django.conf import settings
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from digifit.programme import reach
from digifit.programme.models import (
    Business,
    Registration,
    Series,
    Session,
    Story,
    Training,
    TrainingParticipation,
)

# ----------------------------------------------------------------------------------------- catalogue


def training_list(
    *,
    sector: str | None = None,
    topics: list[str] | tuple[str, ...] | str | None = None,
    language: str | None = None,
    level: str | None = None,
    format: str | None = None,
    q: str | None = None,
) -> QuerySet[Training]:
    """Published trainings, filtered. ``sector`` also matches trainings for all sectors.

    This is also the Digital-Check's learning-path hook: ``training_list(sector="retail", topics=["instagram"])``.
    """
    qs = Training.objects.filter(published=True)
    if sector:
        qs = qs.filter(Q(sectors__regex=rf"(^|\s){sector}(\s|$)") | Q(sectors="all"))
    if topics:
        qs = qs.filter(topic__in=[topics] if isinstance(topics, str) else list(topics))
    if language:
        qs = qs.filter(language=language)
    if level:
        qs = qs.filter(level=level)
    if format:
        qs = qs.filter(format=format)
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(title_en__icontains=q) | Q(title_fr__icontains=q))
    published_stories = Prefetch("stories", queryset=Story.objects.filter(published=True))
    return qs.prefetch_related(published_stories).order_by("title")


def topic_labels() -> dict[str, str]:
    """``{topic code: name}`` of the catalogue's topics, in the active language (the learning path's labels)."""
    from digifit.programme.models import Topic

    return {str(value): str(label) for value, label in Topic.choices}


def training_get(*, slug: str) -> Training | None:
    return Training.objects.filter(slug=slug, published=True).first()


def story_list(*, training: Training | None = None, limit: int | None = None) -> QuerySet[Story]:
    """Published stories (all have consent), newest first."""
    qs = Story.objects.filter(published=True, consent_given_at__isnull=False).prefetch_related("trainings")
    if training is not None:
        qs = qs.filter(trainings=training)
    return qs[:limit] if limit else qs


# ----------------------------------------------------------------------------------------- series and sessions


def series_list() -> QuerySet[Series]:
    return Series.objects.all()


def series_get(*, slug: str) -> Series | None:
    return Series.objects.prefetch_related("exceptions").filter(slug=slug).first()


def _with_counts(qs: QuerySet[Session]) -> QuerySet[Session]:
    confirmed = Q(registrations__status="confirmed")
    return qs.annotate(
        n_active=Count("registrations", filter=confirmed & Q(registrations__role="active")),
        n_followers=Count("registrations", filter=confirmed & Q(registrations__role="follower")),
        n_waiting=Count("registrations", filter=Q(registrations__status="waitlisted")),
    )


def session_list(*, series: Series | None = None, upcoming: bool = True, now: datetime | None = None):
    """Sessions (not cancelled), with counts of confirmed active/follower places and of the waitlist."""
    qs = Session.objects.select_related("series").filter(cancelled=False)
    if series is not None:
        qs = qs.filter(series=series)
    if upcoming:
        qs = qs.filter(end__gt=now or timezone.now())
    return _with_counts(qs).order_by("start", "id")


def session_upcoming_list(*, sector: str | None = None, limit: int = 5, now: datetime | None = None) -> list[Session]:
    """The next sessions (for the Digital-Check's learning path), of series open to ``sector``."""
    qs = session_list(now=now).filter(start__gt=now or timezone.now())
    if sector:
        qs = qs.filter(series__sectors__regex=rf"(^|\s)({sector}|all)(\s|$)")
    return list(qs[:limit])


def session_get(*, session_id: int) -> Session | None:
    return _with_counts(Session.objects.select_related("series").filter(pk=session_id)).first()


def session_next(*, series: Series | None = None, now: datetime | None = None) -> Session | None:
    """The next session that has not ended yet (the coach's agenda)."""
    return session_list(series=series, now=now).first()


@dataclass(frozen=True)
class AgendaGroup:
    sector: str
    label: str
    registrations: list[Registration]


def session_agenda(*, session: Session) -> list[AgendaGroup]:
    """Active confirmed registrations with their questions, grouped by sector (in sector order)."""
    from digifit.programme.models import Sector

    regs = (
        session.registrations.filter(role="active", status="confirmed")
        .select_related("business")
        .order_by("sector", "created_at", "id")
    )
    groups: dict[str, list[Registration]] = defaultdict(list)
    for r in regs:
        groups[r.sector].append(r)
    labels = dict(Sector.choices)
    return [AgendaGroup(s, str(labels.get(s, s)), groups[s]) for s in Sector.values if s in groups]


def session_registrations(*, session: Session) -> QuerySet[Registration]:
    """All registrations of a session (coach view), confirmed first, then the waitlist in order."""
    return session.registrations.select_related("business").order_by("status", "role", "created_at", "id")


def session_attendees(*, session: Session) -> QuerySet[Registration]:
    """The attendees of a session: its confirmed registrations (active first), never cancelled or waitlisted."""
    return (
        session.registrations.filter(status=Registration.Status.CONFIRMED)
        .select_related("business", "session")
        .order_by("role", "created_at", "id")
    )


def session_waitlist(*, session: Session) -> QuerySet[Registration]:
    """The waitlist of a session, in the order places are offered."""
    return (
        session.registrations.filter(status=Registration.Status.WAITLISTED)
        .select_related("business")
        .order_by("role", "created_at", "id")
    )


def registration_list_for_business(*, business: Business) -> QuerySet[Registration]:
    return business.registrations.select_related("session__series").order_by("session__start", "id")


def waitlist_position(registration: Registration) -> int | None:
    """The place of a waitlisted registration in its session's queue for its role (1 = next to move up), first
    in first out as places are filled; None when it is not on the waitlist."""
    if registration.status != Registration.Status.WAITLISTED:
        return None
    ahead = (
        Registration.objects.filter(
            session_id=registration.session_id, role=registration.role, status=Registration.Status.WAITLISTED
        )
        .filter(
            Q(created_at__lt=registration.created_at) | Q(created_at=registration.created_at, id__lt=registration.id)
        )
        .count()
    )
    return ahead + 1


def business_for_user(user) -> Business | None:
    if not getattr(user, "is_authenticated", False):
        return None
    return Business.objects.filter(user=user).first()


def course_for_training(*, training: Training):
    """The published course of a training (taken in digifit), or None."""
    from digifit.learning.selectors import course_for_training as course_of

    return course_of(training=training)


def courses_for_business(*, business: Business) -> list:
    """The courses the business is enrolled in, with its progress (its page)."""
    from digifit.learning.selectors import outlines_for_business

    return outlines_for_business(business=business)


def checks_for_business(*, business: Business) -> list:
    """The Digital-Check results the business's account has claimed (its page)."""
    from digifit.assessment.selectors import assessment_list_for_owner

    return assessment_list_for_owner(owner=business.user) if business.user_id else []


def business_by_feed_token(*, token: str) -> Business | None:
    return Business.objects.filter(feed_token=token).first() if token else None


def personal_sessions(*, business: Business) -> list[Session]:
    """Sessions where ``business`` holds a confirmed place (its personal feed)."""
    return list(
        Session.objects.select_related("series")
        .prefetch_related("series__exceptions")
        .filter(cancelled=False, registrations__business=business, registrations__status="confirmed")
        .order_by("start")
    )


# ----------------------------------------------------------------------------------------- reach


def fit_rule() -> reach.FitRule:
    """The configured rule (``DIGIFIT_FIT_RULE`` = ``{"min_sessions": 1, "kinds": [...], "require_check": true}``)."""
    conf = getattr(settings, "DIGIFIT_FIT_RULE", None) or {}
    return reach.FitRule(**conf) if conf else reach.DEFAULT_RULE


def reach_target() -> tuple[int, date]:
    """The target and its deadline (``DIGIFIT_REACH_TARGET``, ``DIGIFIT_REACH_DEADLINE``; default 31 December)."""
    target = int(getattr(settings, "DIGIFIT_REACH_TARGET", 10_000))
    text = getattr(settings, "DIGIFIT_REACH_DEADLINE", "") or ""
    deadline = date.fromisoformat(text) if text else date(timezone.localdate().year, 12, 31)
    return target, deadline


def checks_by_business() -> dict[int, datetime]:
    """``{business id: completed_at}`` of the first check claimed by each verified business's account."""
    from digifit.assessment.selectors import claimed_checks_by_owner

    by_owner = claimed_checks_by_owner()
    verified = Business.objects.filter(email_verified_at__isnull=False, user__isnull=False)
    return {pk: by_owner[user_id] for pk, user_id in verified.values_list("pk", "user_id") if user_id in by_owner}


def completed_checks() -> tuple[dict[int, date], str]:
    """Digital-Check completions by business id, and where they came from (see the module docstring)."""
    try:
        import digifit.assessment.selectors  # noqa: F401 - only: is the app there?
    except ImportError:
        return {}, _("none (the Digital-Check is not installed: nobody has completed it)")
    try:
        found = checks_by_business()
    except Exception:  # the other app's tables missing (not migrated) must not break the dashboard
        logging.getLogger(__name__).warning("Digital-Check results could not be read", exc_info=True)
        return {}, _("none (the Digital-Check results could not be read)")
    result: dict[int, date] = {}
    for pk, value in found.items():
        result[pk] = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return result, _("Digital-Check results claimed by businesses with a confirmed e-mail address")


def fit_inputs(*, as_of: date | None = None) -> list[reach.Business]:
    """Every registered business as a :class:`reach.Business`: sector, region, attended sessions, check date.

    Attendance: coaching sessions marked attended, trainings completed (TrainingParticipation), and courses
    completed in digifit (kind ``"course"``, on the day of completion: :mod:`digifit.learning`, no hand entry).
    """
    from digifit.learning.selectors import course_completions

    checks, _ = completed_checks()
    attended: dict[int, list[reach.Attendance]] = defaultdict(list)
    zone = timezone.get_default_timezone()
    for business_id, start in Registration.objects.filter(attended=True).values_list("business_id", "session__start"):
        attended[business_id].append(reach.Attendance(start.astimezone(zone).date(), "coaching"))
    for business_id, day in TrainingParticipation.objects.values_list("business_id", "completed_on"):
        attended[business_id].append(reach.Attendance(day, "training"))
    for business_id, days in course_completions().items():
        attended[business_id].extend(reach.Attendance(day, "course") for day in days)
    out = []
    for b in Business.objects.order_by("id").values("id", "created_at", "sector", "region"):
        registered = b["created_at"].astimezone(zone).date()
        if as_of is not None and registered > as_of:
            continue
        out.append(
            reach.Business(
                id=str(b["id"]),
                registered_on=registered,
                sector=b["sector"],
                region=b["region"],
                attended=tuple(sorted(attended.get(b["id"], []), key=lambda a: a.on)),
                check_completed_on=checks.get(b["id"]),
            )
        )
    return out


@dataclass(frozen=True)
class ReachSummary:
    target: int
    deadline: date
    rule: reach.FitRule
    check_source: str
    total: reach.FunnelRow
    by: dict[str, list[reach.FunnelRow]]
    forecast: reach.Forecast | None
    forecast_error: str
    #: the cumulative count of fit businesses at the end of each week so far (:func:`reach.cumulative_fit`)
    cumulative: list[tuple[date, int]] = field(default_factory=list)
    #: the forecast's weekly band up to the deadline (:func:`reach.forecast_band`)
    band: list[reach.BandPoint] = field(default_factory=list)


def reach_labels() -> dict[str, dict[str, str]]:
    """The labels of the reach page's group codes in the active UI language (sector, region)."""
    from digifit.programme.models import Region, Sector

    return {
        "sector": {code: str(label) for code, label in Sector.choices},
        "region": {code: str(label) for code, label in Region.choices},
    }


def reach_summary(*, as_of: date | None = None, band: bool = False) -> ReachSummary:
    """The funnel overall and by sector, region and week, and the forecast against the target."""
    rule = fit_rule()
    target, deadline = reach_target()
    businesses = fit_inputs(as_of=as_of)
    _, source = completed_checks()
    total = reach.funnel(businesses, rule=rule, as_of=as_of)[0]
    by = {dim: reach.funnel(businesses, by=dim, rule=rule, as_of=as_of) for dim in reach.FUNNEL_DIMENSIONS}
    forecast, error = None, ""
    cumulative: list[tuple[date, int]] = []
    weekly_band: list[reach.BandPoint] = []
    first = min((b.registered_on for b in businesses), default=None)
    today = as_of or timezone.localdate()
    if first is None:
        error = "no registered business yet"
    else:
        history = reach.weekly_fit_counts(businesses, rule=rule, start=first, end=today)
        cumulative = reach.cumulative_fit(history)
        try:
            forecast = reach.forecast(history, target=target, deadline=deadline, nsim=2000)
            if band:  # the chart's band: the same model, options and seed as the forecast
                weekly_band = reach.forecast_band(history, target=target, deadline=deadline, nsim=2000)
        except reach.ProgrammeError as exc:
            error = str(exc)
    return ReachSummary(target, deadline, rule, source, total, by, forecast, error, cumulative, weekly_band)
