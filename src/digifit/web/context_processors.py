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
