"""Text a database can store: no lone surrogate (``"\\ud800"`` — valid in a JSON escape and in a Python
string, but not Unicode: it cannot be encoded as UTF-8, so SQLite and PostgreSQL both fail on it) and no NUL
character (PostgreSQL refuses it in text and in ``jsonb``).

:func:`text_problem` walks a JSON-like value with its own stack (no recursion, so a deep value cannot exhaust
Python's) and returns the first offending key or string, and, with ``max_depth``, nesting that is too deep.

Examples
--------
>>> text_problem({"a": ["ok", "bad\\ud800"]})
('a.1', 'the text holds a lone surrogate (U+D800), which is not valid Unicode')
>>> text_problem({"a": [[1]]}, max_depth=2)
('a.0', 'the value is nested deeper than 2 levels')
>>> text_problem({"a": "fine"}) is None
True
"""

from __future__ import annotations

from typing import Any


def _problem(text: str) -> str | None:
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:
            return f"a lone surrogate (U+{ord(text[exc.start]):04X}), which is not valid Unicode"
    return "a NUL character" if "\x00" in text else None


def text_problem(value: Any, *, max_depth: int | None = None) -> tuple[str, str] | None:
    """Return ``(where, what)`` for the first bad key, string or nesting in ``value``, or None.

    ``where`` is the dotted path (``data.tools.0.tool_name``; ``""`` for ``value`` itself); containers count as
    one level each, ``value`` being level 1.
    """
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, ())]
    while stack:
        item, where = stack.pop()
        path = ".".join(str(p) for p in where)
        if isinstance(item, str):
            problem = _problem(item)
            if problem:
                return path, f"the text holds {problem}"
        elif isinstance(item, (dict, list, tuple)):
            if max_depth is not None and len(where) >= max_depth:
                return path, f"the value is nested deeper than {max_depth} levels"
            if isinstance(item, dict):
                for key, sub in item.items():
                    problem = _problem(key) if isinstance(key, str) else None
                    if problem:
                        return path, f"a key holds {problem}"
                    stack.append((sub, (*where, key)))
            else:
                stack.extend((sub, (*where, i)) for i, sub in enumerate(item))
    return None


__all__ = ["text_problem"]
