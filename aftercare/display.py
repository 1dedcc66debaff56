"""Showing outside text (buyers' words, platform titles) to staff: artifacts and robot alerts.

Prefect renders markdown artifacts, and every text cell of a table artifact, as markdown, and
lets some HTML through (links, images); DingTalk robots render markdown too. Outside text is
therefore put on one line, bounded, and made inert before it joins our own markdown.
"""

from __future__ import annotations

import re

from aftercare.templates import visible

# Every ASCII punctuation character may be backslash-escaped in CommonMark (and GFM): escaped,
# none can open markup, HTML, a table cell, an autolink (http:, www., a@b) or an entity.
_PUNCTUATION = re.compile(r"""([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~])""")
_SPACES = re.compile(r"\s+")
# DingTalk documents no escapes: the characters that start markup become full-width look-alikes.
_ROBOT_INERT = str.maketrans("<>[]()*_#`|!\\~", "＜＞［］（）＊＿＃｀｜！＼～")
ELLIPSIS = "…"


def one_line(value: object, limit: int) -> str:
    """Return the text on one line: hidden characters and line breaks as single spaces, bounded.

    Longer text is cut to `limit` characters, the last one an ellipsis.
    """
    text = _SPACES.sub(" ", visible(str(value))).strip()
    if len(text) > limit:
        return text[: max(limit - 1, 0)].rstrip() + ELLIPSIS
    return text


def markdown_text(value: object, limit: int = 200) -> str:
    """Return outside text safe inside markdown (and table cells): one line, literal, bounded."""
    return _PUNCTUATION.sub(r"\\\1", one_line(value, limit))


def robot_text(value: object, limit: int = 60) -> str:
    """Return outside text safe inside a robot's markdown alert: one line, inert, bounded."""
    return one_line(value, limit).translate(_ROBOT_INERT)
