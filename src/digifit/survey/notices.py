"""What a stored form offers ODK clients but not the web form, in one line per row for the survey manager.

``digifit.forms`` records these as :class:`~digifit.forms.model.Notice` (row, field, feature); the schema
stores them under ``web_notices``; this module words them in the active language (upload page, CLI).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

__all__ = ["notice_lines"]


def _line(notice: Mapping[str, Any]) -> str:
    feature = str(notice.get("feature") or "")
    where = {"row": notice.get("row") or "?", "name": notice.get("name") or ""}
    if feature == "last-saved":
        return (
            _(
                "survey row %(row)s (%(name)s): ${last-saved#…} is empty in the web form; ODK Collect fills it "
                "from the last saved form."
            )
            % where
        )
    kind = feature.removeprefix("type:")
    return _(
        "survey row %(row)s (%(name)s): the question type “%(type)s” needs ODK Collect; the web form shows a "
        "notice instead of a widget."
    ) % {**where, "type": kind}


def notice_lines(schema: Mapping[str, Any] | None) -> list[str]:
    """One translated line per web-form gap recorded in a version's ``schema``."""
    return [_line(n) for n in (schema or {}).get("web_notices", ())]
