"""A lesson's Markdown as safe HTML: markdown-it-py renders (raw HTML in the source is not passed through),
nh3 (ammonia) keeps only the tags and attributes below and makes every link ``rel="noopener noreferrer"``.

Two layers on purpose: the renderer already escapes raw HTML, and the sanitiser still removes anything a
future renderer option or plugin might let through (``javascript:`` links, event handlers, ``style``).
"""

from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt

TAGS = frozenset(
    [
        "p",
        "br",
        "hr",
        "h2",
        "h3",
        "h4",
        "strong",
        "em",
        "code",
        "pre",
        "blockquote",
        "ul",
        "ol",
        "li",
        "a",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "img",
    ]
)
ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = frozenset({"https", "http", "mailto"})


@lru_cache(maxsize=1)
def _renderer() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")


def render(text: str) -> str:
    """Return ``text`` (Markdown) as sanitised HTML.

    >>> render("**fett** <script>x()</script> [a](javascript:alert(1))")
    '<p><strong>fett</strong> &lt;script&gt;x()&lt;/script&gt; [a](javascript:alert(1))</p>\\n'
    """
    html = _renderer().render(text or "")
    return nh3.clean(
        html, tags=set(TAGS), attributes=ATTRIBUTES, url_schemes=set(URL_SCHEMES), link_rel="noopener noreferrer"
    )
