"""Reads of the Digital-Check: ``<entity>_get`` / ``<entity>_list``, plus the claimed checks per account.

Nothing here writes. The check form and the rules are read from files (settings ``DIGIFIT_CHECK_FORM``,
``DIGIFIT_CHECK_RULES``, ``DIGIFIT_CHECK_LEARNING_PATH``; default the bundled ones) and kept per process until
the file changes.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Min

from digifit.assessment.models import Assessment

_CACHE: dict[tuple[str, str, float], Any] = {}
_LOCK = threading.Lock()


def _cached(kind: str, path: Path, load) -> Any:
    key = (kind, str(path), path.stat().st_mtime if path.exists() else -1.0)
    found = _CACHE.get(key)
    if found is None:
        found = load(path)
        with _LOCK:
            for old in [k for k in _CACHE if k[0] == kind]:
                del _CACHE[old]
            _CACHE[key] = found
    return found


def check_form_get():
    """Return the check form (a :class:`digifit.forms.Questionnaire`)."""
    from digifit.assessment.content import instrument_paths, load_form

    return _cached("form", instrument_paths().form, load_form)


def scoring_rules_get():
    """Return the scoring rules (:class:`digifit.assessment.scoring.Rules`)."""
    from digifit.assessment.content import instrument_paths
    from digifit.assessment.scoring import load_rules

    return _cached("rules", instrument_paths().rules, load_rules)


def path_rules_get():
    """Return the learning-path rules (:class:`digifit.assessment.learning_path.PathRules`)."""
    from digifit.assessment.content import instrument_paths
    from digifit.assessment.learning_path import load_path_rules

    return _cached("path", instrument_paths().learning_path, load_path_rules)


def assessment_get(*, token: str) -> Assessment | None:
    """Return the result behind a private link, or None (also for malformed tokens)."""
    if not token or len(token) < 20 or len(token) > 64:
        return None
    return Assessment.objects.select_related("previous").filter(token=token).first()


def claimed_checks_by_owner() -> dict[int, Any]:
    """Return ``{user id: completed_at}`` of the first completed check each account has claimed.

    Anonymous (unclaimed) checks are not counted, whatever e-mail address was typed in them. The programme maps
    accounts to its verified businesses (``digifit.programme.selectors.completed_checks``); this app knows
    nothing about businesses.
    """
    rows = (
        Assessment.objects.filter(owner__isnull=False, claimed_at__isnull=False)
        .values("owner_id")
        .annotate(first=Min("completed_at"))
        .order_by("owner_id")
    )
    return {row["owner_id"]: row["first"] for row in rows}


def assessment_list_for_owner(*, owner) -> list[Assessment]:
    """The results ``owner`` (an account) has claimed, oldest first."""
    if owner is None or getattr(owner, "pk", None) is None:
        return []
    return list(Assessment.objects.filter(owner=owner).order_by("completed_at", "id"))


def benchmark_wave_get():
    """Return the latest survey wave with complete submissions of the peer questionnaire, or None.

    The questionnaire is the setting ``DIGIFIT_CHECK_PEER_FORM`` (default ``future_of_business``).
    """
    from digifit.survey.models import Submission, Wave

    form_id = getattr(settings, "DIGIFIT_CHECK_PEER_FORM", "future_of_business")
    with_data = Submission.objects.filter(status=Submission.Status.COMPLETE).values("wave_id")
    return (
        Wave.objects.select_related("questionnaire")
        .filter(questionnaire__form_id=form_id, pk__in=with_data)
        .order_by("-opens_at", "-id")
        .first()
    )


# ----------------------------------------------------------------------------------------- programme


class ProgrammeCatalogue:
    """The learning path's catalogue, backed by the module of ``DIGIFIT_CHECK_CATALOGUE``."""

    def __init__(self, module) -> None:
        self.module = module

    def trainings(self, *, sector, topics, language):
        return list(self.module.training_list(sector=sector, topics=list(topics), language=language))

    def sessions(self, *, sector, limit):
        return list(self.module.session_upcoming_list(sector=sector, limit=limit))

    def topic_labels(self) -> dict[str, str]:
        """``{topic code: name}`` when the module provides ``topic_labels()``, else empty."""
        labels = getattr(self.module, "topic_labels", None)
        return dict(labels()) if callable(labels) else {}


def programme_catalogue() -> ProgrammeCatalogue | None:
    """Return the learning path's catalogue, or None while none is configured or importable.

    The catalogue is the module named by the setting ``DIGIFIT_CHECK_CATALOGUE`` (default
    ``digifit.programme.selectors``), which must provide ``training_list`` and ``session_upcoming_list``. It is
    named in the settings, not imported here: the programme depends on this app, never the other way round.
    """
    import importlib

    name = getattr(settings, "DIGIFIT_CHECK_CATALOGUE", "") or ""
    if not name:
        return None
    try:
        module = importlib.import_module(name)
    except ImportError:
        return None
    if not all(hasattr(module, n) for n in ("training_list", "session_upcoming_list")):
        return None
    return ProgrammeCatalogue(module)


def session_register_url(session: Any) -> str | None:
    """Return the address where a business registers for a coaching session, or None.

    The programme's session page (``programme:session``) registers a signed-in business with one button (and
    sends others to its sign-up first); a dedicated ``programme:session_register`` is preferred if it exists.
    """
    from django.urls import NoReverseMatch, reverse

    for name in ("programme:session_register", "programme:session"):
        try:
            return reverse(name, args=[session.pk])
        except (NoReverseMatch, AttributeError):
            continue
    return None


def claim_url(assessment: Assessment) -> str | None:
    """Return the address where a business claims this result (``programme:check_claim``), or None.

    Claiming needs a business account with a confirmed address, which is the programme's to check; this app
    only links to the page (by URL name, without importing the programme).
    """
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse("programme:check_claim", args=[assessment.token])
    except NoReverseMatch:
        return None


def learning_path_get(*, assessment: Assessment, language: str | None = None):
    """Return the learning path of a result (:class:`digifit.assessment.learning_path.LearningPath`)."""
    from digifit.assessment.learning_path import recommend

    return recommend(assessment.result, path_rules_get(), programme_catalogue(), language=language)
