"""A lesson's video link as a privacy-friendly embed: nothing loads from the platform until the person clicks.

:func:`embed` maps a YouTube or Vimeo link to the platform's player address without tracking cookies
(``youtube-nocookie.com``, Vimeo's ``dnt=1``). The lesson page shows a placeholder with the platform's name;
``learning/lesson.js`` puts the player in only on click. Other links (a local video file, another platform)
are offered as a plain link.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlparse

#: the player origins the lesson page's Content-Security-Policy allows as frames
FRAME_ORIGINS = ("https://www.youtube-nocookie.com", "https://player.vimeo.com")
_ID = re.compile(r"^[A-Za-z0-9_-]{6,20}$")


@dataclass(frozen=True)
class Embed:
    platform: str
    src: str


def embed(url: str) -> Embed | None:
    """The player of a YouTube or Vimeo link, or None for any other link.

    >>> embed("https://www.youtube.com/watch?v=dQw4w9WgXcQ").src
    'https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ'
    >>> embed("https://vimeo.com/76979871").src
    'https://player.vimeo.com/video/76979871?dnt=1'
    >>> embed("https://example.org/film.mp4") is None
    True
    """
    parts = urlparse(url or "")
    host = (parts.hostname or "").removeprefix("www.").removeprefix("m.")
    video_id = ""
    if host == "youtube.com":
        video_id = (parse_qs(parts.query).get("v") or [""])[0]
        if parts.path.startswith("/embed/"):
            video_id = parts.path.split("/")[2]
    elif host == "youtu.be":
        video_id = parts.path.strip("/")
    if video_id:
        return Embed("YouTube", f"https://www.youtube-nocookie.com/embed/{video_id}") if _ID.match(video_id) else None
    if host == "vimeo.com" and parts.path.strip("/").isdigit():
        return Embed("Vimeo", f"https://player.vimeo.com/video/{parts.path.strip('/')}?dnt=1")
    return None
