"""Reading a shop's member-centre export (会员资料): birthday, grade, tags, marketing consent."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from aftercare.clients.fields import storable
from aftercare.clock import parse_china_time
from aftercare.phones import PhoneRefused, normalise_phone

# Member-centre grades are small numbers (普通会员 ... 至尊VIP); a larger one is a broken cell.
MAX_GRADE = 100
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
    # A NUL cannot be stored in PostgreSQL text: one in a cell must not fail the whole import.
    reader = csv.DictReader(io.StringIO(storable(text.lstrip("\ufeff"))))
    try:
        columns = reader.fieldnames or []
    except csv.Error as error:
        return [], [("file", f"unreadable header: {error}")]
    missing = [c for c in ("buyer_nick", "mobile", "marketing_consent") if c not in columns]
    if missing:
        return [], [("file", f"missing columns: {', '.join(missing)}")]
    members: list[dict[str, Any]] = []
    problems: list[tuple[str, str]] = []
    for number, row in _rows(reader, problems):
        nick = (row.get("buyer_nick") or "").strip()
        if not nick:
            problems.append((f"line {number}", "no buyer_nick: row skipped"))
            continue
        key = f"line {number} ({nick[:40]})"
        mobile = _mobile(row.get("mobile"), key, problems)
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


def _rows(
    reader: csv.DictReader[str], problems: list[tuple[str, str]]
) -> Iterator[tuple[int, dict[str | Any, Any]]]:
    """Yield (line number, row); a row the csv module cannot read is recorded and skipped."""
    rows = iter(reader)
    number = 1
    while True:
        number += 1
        before = reader.reader.line_num  # the underlying reader's: DictReader's lags on errors
        try:
            yield number, next(rows)
        except StopIteration:
            return
        except csv.Error as error:  # e.g. a field beyond the csv module's size limit
            problems.append((f"line {number}", f"unreadable row: {error}: skipped"))
            if reader.reader.line_num == before:  # nothing consumed: the rest is unreadable too
                return


def _mobile(value: str | None, key: str, problems: list[tuple[str, str]]) -> str | None:
    if not value or not value.strip():
        return None
    try:
        return normalise_phone(value)
    except PhoneRefused as refused:
        problems.append((key, f"invalid mobile ({refused}): kept without a phone"))
        return None


def _day(value: str | None, key: str, problems: list[tuple[str, str]]) -> date | None:
    if not value or not value.strip():
        return None
    try:
        day = datetime.strptime(value.strip(), "%Y-%m-%d").date()
    except ValueError:
        problems.append((key, f"unreadable birthday {value!r:.40}: ignored"))
        return None
    if not date(1900, 1, 1) <= day <= date.today():
        problems.append((key, f"implausible birthday {value!r:.40}: ignored"))
        return None
    return day


def _grade(value: str | None, key: str, problems: list[tuple[str, str]]) -> int | None:
    if not value or not value.strip():
        return None
    try:
        grade = int(value)
    except ValueError:
        problems.append((key, f"unreadable grade {value!r:.40}: ignored"))
        return None
    if not 0 <= grade <= MAX_GRADE:
        problems.append((key, f"implausible grade {grade}: ignored"))
        return None
    return grade


def _moment(value: str | None, key: str, problems: list[tuple[str, str]]) -> datetime | None:
    if not value or not value.strip():
        return None
    try:
        return parse_china_time(value)
    except (ValueError, OverflowError):  # OverflowError: a year-1 time shifted to UTC
        problems.append((key, f"unreadable consent_at {value!r:.40}: ignored"))
        return None
