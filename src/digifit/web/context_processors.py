"""Template context shared by every page."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def vendor_assets(request: HttpRequest) -> dict[str, bool]:
    """Tell templates whether the npm-installed Pico CSS and HTMX are present.

    Pages still render (unstyled, without HTMX enhancements) when ``make install`` has not fetched them.
    """
    vendor = settings.VENDOR_DIR
    return {
        "has_pico": (vendor / "pico.min.css").is_file(),
        "has_htmx": (vendor / "htmx.min.js").is_file(),
    }


def navigation(request: HttpRequest) -> dict[str, object]:
    """The navigation entries and the home of the user's role (see :mod:`digifit.web.home`), computed only
    when a template uses them."""
    from django.utils.functional import SimpleLazyObject

    from digifit.web.home import home_url, nav_entries

    user = getattr(request, "user", None)
    return {
        "demo_mailbox": getattr(settings, "DIGIFIT_DEMO_MAILBOX", False),
        "nav": SimpleLazyObject(lambda: nav_entries(user)),
        "home_url": SimpleLazyObject(lambda: home_url(user) if getattr(user, "is_authenticated", False) else "/"),
        "coaching_url": SimpleLazyObject(coaching_url),
    }


def coaching_url() -> str:
    """The public navigation's "Live coaching": the weekly series' page, or the catalogue while there is none."""
    from django.urls import reverse

    from digifit.programme.selectors import series_list

    series = series_list().first()
    return reverse("programme:series", args=[series.slug]) if series else reverse("programme:catalogue")
