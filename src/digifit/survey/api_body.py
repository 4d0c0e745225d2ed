"""What the JSON API accepts as a request body, checked before any field is read.

A JSON body must

* come with ``Content-Type: application/json`` (or a ``+json`` type), in UTF-8 — anything else is **415**:
  a browser can send ``text/plain`` or a form across sites without asking, JSON it cannot;
* be well-formed UTF-8 JSON — else **400**;
* be nested at most :data:`MAX_DEPTH` levels (objects and arrays) — else **400** (deeper than Python's
  recursion limit, the parser stops by itself; below it, a walk without recursion measures the depth);
* hold only valid Unicode text: no lone surrogate (``"\\ud800"``, which no database can store) and no NUL
  character, in keys or values — else **400**, naming the field.

django-ninja turns any error of :meth:`StrictJsonParser.parse_body` into its own 400 "Cannot parse request
body"; :class:`BodyRefused` rides along as that error's ``__cause__``, and the API's error handler answers with
its status and message (see ``digifit.survey.api``).
"""

from __future__ import annotations

import json
from typing import Any

from ninja.parser import Parser

from digifit.survey.text_check import text_problem

MAX_DEPTH = 64
JSON_TYPES = ("application/json",)


class BodyRefused(Exception):
    """A request body the API does not read: ``status`` (400 or 415), the ``field`` and ``code`` at fault."""

    def __init__(self, status: int, code: str, message: str, field: str = "body") -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.field = field
        self.message = message


def text_check(value: Any, *, max_depth: int = MAX_DEPTH) -> None:
    """Raise :class:`BodyRefused` (400) at the first key or string with a lone surrogate or a NUL, or when
    objects and arrays nest deeper than ``max_depth``."""
    found = text_problem(value, max_depth=max_depth)
    if found is None:
        return
    where, what = found
    if what.startswith("the value is nested"):
        raise BodyRefused(400, "depth", f"the JSON is nested deeper than {max_depth} levels")
    raise BodyRefused(400, "unicode", f"{what}; send valid UTF-8 text", where or "body")


class StrictJsonParser(Parser):
    """django-ninja's parser, refusing what the module docstring lists."""

    def parse_body(self, request) -> Any:
        media_type = (request.content_type or "").lower()
        json_suffix = media_type.startswith("application/") and media_type.endswith("+json")
        if media_type not in JSON_TYPES and not json_suffix:
            raise BodyRefused(
                415,
                "media_type",
                f"send the body as JSON with 'Content-Type: application/json' (got {media_type or 'none'!r})",
                "Content-Type",
            )
        charset = (request.content_params or {}).get("charset", "utf-8").lower()
        if charset not in ("utf-8", "utf8"):
            raise BodyRefused(415, "media_type", f"send JSON in UTF-8 (got charset {charset!r})", "Content-Type")
        try:
            text = request.body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BodyRefused(400, "unicode", f"the body is not UTF-8 (byte {exc.start})") from exc
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BodyRefused(
                400, "json", f"the body is not valid JSON (line {exc.lineno}, column {exc.colno})"
            ) from exc
        except RecursionError as exc:  # the C parser stops at Python's recursion limit (~1,000 levels)
            raise BodyRefused(400, "depth", f"the JSON is nested deeper than {MAX_DEPTH} levels") from exc
        text_check(data)
        return data


__all__ = ["MAX_DEPTH", "BodyRefused", "StrictJsonParser", "text_check"]
