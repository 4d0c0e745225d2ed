"""``choice_filter`` expressions: which choices of a list a select offers, given the answers so far.

In a choice filter a bare name is a column of the choices sheet (``country = ${country}`` keeps the regions
whose ``country`` column equals the answer to ``${country}``; ``name`` is the choice's own name). The
expression evaluator only reads ``${field}`` references, so a filter is rewritten once: every bare column
name becomes the reference ``${_choice.<column>}``, and :func:`choice_scope` supplies those values for one
choice. Function names (followed by ``(``), the operators ``and``/``or``/``div``/``mod``, quoted strings and
``${...}`` references are left alone.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping

from digifit.forms.model import Choice

__all__ = ["CHOICE_PREFIX", "choice_columns", "choice_scope", "rewrite_choice_filter"]

CHOICE_PREFIX = "_choice."
_OPERATORS = frozenset({"and", "or", "div", "mod"})
_TOKEN = re.compile(
    r"""(?P<string>'[^']*'|"[^"]*")"""
    r"|(?P<ref>\$\{[^}]*\})"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_.\-]*(?::[A-Za-z_][A-Za-z0-9_.\-]*)?)(?P<call>\s*\()?"
    r"|(?P<other>.)",
    re.DOTALL,
)


@functools.lru_cache(maxsize=512)
def _rewrite(source: str) -> tuple[str, frozenset[str]]:
    out: list[str] = []
    columns: set[str] = set()
    for m in _TOKEN.finditer(source):
        name = m.group("name")
        if name is not None and not m.group("call") and name not in _OPERATORS:
            columns.add(name)
            out.append("${" + CHOICE_PREFIX + name + "}")
        else:
            out.append(m.group(0))
    return "".join(out), frozenset(columns)


def rewrite_choice_filter(source: str) -> str:
    """Return ``source`` with bare choice-column names turned into ``${_choice.<column>}`` references.

    >>> rewrite_choice_filter("country = ${country} and starts-with(name, 'de_')")
    "${_choice.country} = ${country} and starts-with(${_choice.name}, 'de_')"
    """
    return _rewrite(source)[0]


def choice_columns(source: str) -> frozenset[str]:
    """Return the choices-sheet columns a filter reads (``name``, ``country`` ...)."""
    return _rewrite(source)[1]


def choice_scope(choice: Choice, language: str | None = None) -> Mapping[str, str]:
    """The ``${_choice.<column>}`` values of one choice: its extra columns, ``name`` and ``label``."""
    scope = {CHOICE_PREFIX + key: value for key, value in choice.columns.items()}
    scope[CHOICE_PREFIX + "name"] = choice.name
    label = choice.label.get(language or "", None) or next(iter(choice.label.values()), "")
    scope[CHOICE_PREFIX + "label"] = label
    return scope
