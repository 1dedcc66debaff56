"""How queued staff alert lines are gathered into robot digests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


class AlertLine(Protocol):
    """What a digest needs of a queued line."""

    id: int | None
    topic: str
    heading: str
    line: str


@dataclass(frozen=True, slots=True)
class Digest:
    """One robot message: a heading and the lines it gathers."""

    title: str
    text: str
    ids: tuple[int, ...]


def digests(lines: Sequence[AlertLine], per_digest: int) -> list[Digest]:
    """Gather lines by topic and heading, oldest first, at most per_digest lines a message.

    A heading may say {topic} and {count}: "{topic} 新中差评 {count} 条".
    """
    groups: dict[tuple[str, str], list[AlertLine]] = {}
    for line in lines:
        groups.setdefault((line.topic, line.heading), []).append(line)
    found = []
    for (topic, heading), members in groups.items():
        for start in range(0, len(members), per_digest):
            chunk = members[start : start + per_digest]
            title = heading.format(topic=topic, count=len(chunk))
            text = f"### {title}\n\n" + "\n".join(m.line for m in chunk)
            found.append(Digest(title, text, tuple(m.id or 0 for m in chunk)))
    return found
