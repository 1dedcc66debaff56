"""Reading a shop's member-centre export (会员资料): birthday, grade, tags, marketing consent."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any

from aftercare.clock import parse_china_time
from aftercare.rules.notices import MOBILE

COLUMNS = (
    "buyer_nick",
    "name",
    "mobile",
    "birthday",
    "grade",
    "tags",
    "marketing_consent",
    "consent_at",
)


def parse_members_csv(text: str) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """Parse the export; a bad field is dropped with a recorded reason, the row and file go on.

    Returns the members and (row key, reason) pairs for what was dropped or refused.
    """
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [
        c
        for c in ("buyer_nick", "mobile", "marketing_consent")
        if c not in (reader.fieldnames or [])
    ]
    if missing:
        return [], [("file", f"missing columns: {', '.join(missing)}")]
    members, problems = [], []
    for number, row in enumerate(reader, start=2):
        nick = (row.get("buyer_nick") or "").strip()
        if not nick:
            problems.append((f"line {number}", "no buyer_nick: row skipped"))
            continue
        key = f"line {number} ({nick})"
        mobile = (row.get("mobile") or "").strip() or None
        if mobile and not MOBILE.match(mobile):
            problems.append((key, "invalid mobile: kept without a phone"))
            mobile = None
        members.append(
            {
                "buyer_nick": nick[:100],
                "name": (row.get("name") or "").strip()[:60] or None,
                "phone": mobile,
                "birthday": _day(row.get("birthday"), key, problems),
                "grade": _grade(row.get("grade"), key, problems),
                "tags": "|".join(
                    t.strip() for t in (row.get("tags") or "").split("|") if t.strip()
                )[:200],
                "consent": (row.get("marketing_consent") or "").strip()
                in ("1", "true", "yes", "是"),
                "consent_at": _moment(row.get("consent_at"), key, problems),
            }
        )
    return members, problems


def _day(value: str | None, key: str, problems: list[tuple[str, str]]) -> date | None:
    if not value or not value.strip():
        return None
    try:
        day = datetime.strptime(value.strip(), "%Y-%m-%d").date()
    except ValueError:
        problems.append((key, f"unreadable birthday {value!r}: ignored"))
        return None
    if not 1900 <= day.year <= date.today().year:
        problems.append((key, f"implausible birthday {value!r}: ignored"))
        return None
    return day


def _grade(value: str | None, key: str, problems: list[tuple[str, str]]) -> int | None:
    if not value or not value.strip():
        return None
    try:
        return int(value)
    except ValueError:
        problems.append((key, f"unreadable grade {value!r}: ignored"))
        return None


def _moment(value: str | None, key: str, problems: list[tuple[str, str]]) -> datetime | None:
    if not value or not value.strip():
        return None
    try:
        return parse_china_time(value)
    except ValueError:
        problems.append((key, f"unreadable consent_at {value!r}: ignored"))
        return None
