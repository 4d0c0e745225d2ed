"""References the expression evaluator does not read itself, rewritten into ones it does.

pyxform accepts two kinds of reference that digifit's evaluator has no syntax for:

* ``${last-saved#q}`` — the value of ``q`` in the last form this device saved (ODK Collect). digifit's
  evaluators see it as the empty string: the respondent's previous submission is not looked up yet
  (docs/xlsform-support.md says so).
* relative paths — ``../q``, ``../../q``, ``current()/../q`` — a field seen from the current node. Field
  names are unique in an XLSForm and digifit's evaluator resolves ``${q}`` in the enclosing scopes (a
  repeat instance first, then the top level), which is what the relative path names in a form pyxform
  accepts: they are rewritten to ``${q}``.

A path that ends in something else (``../q/x``, ``current()`` alone) is left as written; the compiler then
decides.
"""

from __future__ import annotations

import functools
import re

__all__ = ["LAST_SAVED", "last_saved_names", "rewrite_references"]

LAST_SAVED = "last-saved#"
_RE_LAST_SAVED = re.compile(r"\$\{last-saved#([A-Za-z_][A-Za-z0-9_.\-]*)\}")
_RE_RELATIVE = re.compile(
    r"""(?P<string>'[^']*'|"[^"]*")"""
    r"|(?:current\(\s*\)\s*/\s*)?(?:\.\.\s*/\s*)+(?P<name>[A-Za-z_][A-Za-z0-9_\-]*)(?![A-Za-z0-9_.\-]*\s*[/(\[])"
)


@functools.lru_cache(maxsize=1024)
def rewrite_references(source: str) -> str:
    """Return ``source`` with ``${last-saved#q}`` as ``''`` and relative paths as ``${name}``.

    >>> rewrite_references("../q + ${last-saved#age}")
    "${q} + ''"
    >>> rewrite_references("current()/../q = '../x'")
    "${q} = '../x'"
    """
    text = _RE_LAST_SAVED.sub("''", source)

    def one(m: re.Match[str]) -> str:
        return m.group(0) if m.group("string") is not None else "${" + m.group("name") + "}"

    return _RE_RELATIVE.sub(one, text)


def last_saved_names(source: str) -> list[str]:
    """The field names ``source`` reads as ``${last-saved#name}``."""
    return _RE_LAST_SAVED.findall(source)
