"""Server-side metadata in a submission's answers: the values only the server knows.

An XLSForm often carries its metadata as hidden (or calculated) fields — ``wave`` with a default such as
``2026-1``, the form's ``version``, the ``instanceID``, a received timestamp. Whatever a client sends for
these (usually the form's default, which is stale as soon as the next wave opens) is replaced by the
server's value on every path that stores answers (web form, JSON API, OpenRosa, drafts and edits), so the
detail page, the exports and the webhook payloads show the server's values:

============================================  ================================================================
field name (top level, hidden or calculate)   value
============================================  ================================================================
``wave``                                      the name of the submission's wave (a submission without a wave
                                              keeps what the client sent: the server has no value for it)
``version``, ``form_version``                 the stored questionnaire version's ``version`` string
``instanceID``, ``instance_id``               ``uuid:<instance id>``
``submitted_at``, ``received_at``             the time the server received the complete submission (ISO
                                              8601, UTC); dropped while the submission is a draft
============================================  ================================================================

Questions a respondent sees (any other type) are never touched, whatever their name.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

#: Field types that carry metadata rather than a respondent's answer.
METADATA_TYPES = frozenset({"hidden", "calculate"})

WAVE_NAMES = ("wave",)
VERSION_NAMES = ("version", "form_version")
INSTANCE_NAMES = ("instanceID", "instance_id")
RECEIVED_NAMES = ("submitted_at", "received_at")


def server_field_names(schema: Mapping[str, Any]) -> dict[str, str]:
    """The top-level metadata fields of ``schema`` the server fills, by name → kind."""
    kinds = {
        **dict.fromkeys(WAVE_NAMES, "wave"),
        **dict.fromkeys(VERSION_NAMES, "version"),
        **dict.fromkeys(INSTANCE_NAMES, "instance"),
        **dict.fromkeys(RECEIVED_NAMES, "received"),
    }
    return {
        f["name"]: kinds[f["name"]]
        for f in schema.get("fields", [])
        if f.get("repeat") is None and f.get("type") in METADATA_TYPES and f["name"] in kinds
    }


def server_fields_apply(
    schema: Mapping[str, Any],
    answers: Mapping[str, Any],
    *,
    wave_name: str | None,
    version: str,
    instance_id: uuid.UUID,
    received_at: dt.datetime | None,
) -> dict[str, Any]:
    """Return ``answers`` with the server's metadata values in place of what the client sent."""
    values = {
        "wave": wave_name or None,
        "version": version or None,
        "instance": f"uuid:{instance_id}",
        "received": received_at.astimezone(dt.UTC).isoformat(timespec="seconds") if received_at else None,
    }
    out = dict(answers)
    for name, kind in server_field_names(schema).items():
        value = values[kind]
        if kind == "wave" and value is None:
            continue
        if value is None:
            out.pop(name, None)
        else:
            out[name] = value
    return out


__all__ = ["METADATA_TYPES", "server_field_names", "server_fields_apply"]
