"""Reading a shop's member-centre export (会员资料): birthday, grade, tags, marketing consent."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aftercare.clients.fields import storable
from aftercare.clock import CHINA, parse_china_time
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


# The member centre exports Chinese headers; other tools export these English ones.
HEADERS = {
    **{c: c for c in COLUMNS},
    "会员名": "buyer_nick",
    "买家昵称": "buyer_nick",
    "买家会员名": "buyer_nick",
    "淘宝昵称": "buyer_nick",
    "昵称": "buyer_nick",
    "姓名": "name",
    "真实姓名": "name",
    "手机": "mobile",
    "手机号": "mobile",
    "手机号码": "mobile",
    "生日": "birthday",
    "出生日期": "birthday",
    "会员等级": "grade",
    "等级": "grade",
    "标签": "tags",
    "会员标签": "tags",
    "是否同意营销": "marketing_consent",
    "营销授权": "marketing_consent",
    "同意营销": "marketing_consent",
    "授权时间": "consent_at",
    "同意时间": "consent_at",
}
CONSENT_WORDS = ("1", "true", "yes", "y", "是", "同意", "已同意", "已授权")
# Spreadsheet day numbers count from 1899-12-30 (Excel's, with its 1900 leap-year quirk).
EXCEL_EPOCH = date(1899, 12, 30)
DAY_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")


def read_members_file(
    data: bytes, filename: str
) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """Read an export as the member centre gives it: .xlsx, or CSV in UTF-8 or GBK."""
    if filename.lower().endswith((".xlsx", ".xlsm")):
        return parse_members_xlsx(data)
    for encoding in ("utf-8-sig", "gb18030"):  # gb18030 reads every GBK file
        try:
            return parse_members_csv(data.decode(encoding))
        except UnicodeDecodeError:
            continue
    return [], [("file", "neither UTF-8 nor GBK text: save the export as CSV or .xlsx")]


def parse_members_xlsx(data: bytes) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """Parse the first sheet of an .xlsx export (Excel dates and numbers as Excel keeps them)."""
    from openpyxl import load_workbook

    try:
        sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, ())
    except Exception as error:  # a damaged or foreign file: one reason, not a traceback
        return [], [("file", f"unreadable .xlsx: {type(error).__name__}")]
    columns = [str(cell).strip() if cell is not None else "" for cell in header]
    table = (
        (number, dict(zip(columns, row, strict=False)))
        for number, row in enumerate(rows, start=2)
        if any(cell not in (None, "") for cell in row)
    )
    return _parse_table(columns, table)


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
    problems: list[tuple[str, str]] = []
    members, more = _parse_table(list(columns), _rows(reader, problems))
    return members, problems + more


def _parse_table(
    columns: list[str], rows: Iterable[tuple[int, dict[Any, Any]]]
) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """Turn rows keyed by the file's headers (English or Chinese) into members."""
    named = {column: HEADERS.get(column.strip().lower()) for column in columns}
    present = {name for name in named.values() if name}
    missing = [c for c in ("buyer_nick", "mobile", "marketing_consent") if c not in present]
    if missing:
        return [], [("file", f"missing columns: {', '.join(missing)}")]
    members: list[dict[str, Any]] = []
    problems: list[tuple[str, str]] = []
    for number, raw in rows:
        row = {named[k]: v for k, v in raw.items() if named.get(k)}
        nick = _text(row.get("buyer_nick"))
        if not nick:
            problems.append((f"line {number}", "no buyer_nick: row skipped"))
            continue
        key = f"line {number} ({nick[:40]})"
        members.append(
            {
                # Cut to the column's size, then trimmed: a cut can end on a space.
                "buyer_nick": nick[:100].rstrip(),
                "name": _text(row.get("name"))[:60].rstrip() or None,
                "phone": _mobile(row.get("mobile"), key, problems),
                "birthday": _day(row.get("birthday"), key, problems),
                "grade": _grade(row.get("grade"), key, problems),
                "tags": "|".join(t.strip() for t in _text(row.get("tags")).split("|") if t.strip())[
                    :200
                ],
                "consent": _text(row.get("marketing_consent")).lower() in CONSENT_WORDS,
                "consent_at": _moment(row.get("consent_at"), key, problems),
            }
        )
    return members, _one_per_row(problems)


def _one_per_row(problems: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Join the reasons of one row: the record of rejects keeps one reason per row."""
    joined: dict[str, list[str]] = {}
    for key, reason in problems:
        joined.setdefault(key, []).append(reason)
    return [(key, "; ".join(reasons)) for key, reasons in joined.items()]


def _text(value: Any) -> str:
    """Return a cell as text: numbers without a trailing .0, nothing as ''."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return storable(str(value)).strip()


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


def _mobile(value: Any, key: str, problems: list[tuple[str, str]]) -> str | None:
    text = _text(value)
    if not text:
        return None
    try:
        return normalise_phone(text)
    except PhoneRefused as refused:
        problems.append((key, f"invalid mobile ({refused}): kept without a phone"))
        return None


def _day(value: Any, key: str, problems: list[tuple[str, str]]) -> date | None:
    day = _read_day(value)
    if day is None:
        if _text(value):
            problems.append((key, f"unreadable birthday {_text(value)!r:.40}: ignored"))
        return None
    if not date(1900, 1, 1) <= day <= date.today():
        problems.append((key, f"implausible birthday {_text(value)!r:.40}: ignored"))
        return None
    return day


def _read_day(value: Any) -> date | None:
    """Read a day as exports write it: a date cell, an Excel day number, or text."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _text(value)
    if not text:
        return None
    if text.replace(".", "", 1).isdigit() and len(text) < 8:  # an Excel day number: 45000
        try:
            return EXCEL_EPOCH + timedelta(days=int(float(text)))
        except OverflowError:
            return None
    for layout in DAY_FORMATS:
        try:
            return datetime.strptime(text, layout).date()
        except ValueError:
            continue
    return None


def _grade(value: Any, key: str, problems: list[tuple[str, str]]) -> int | None:
    text = _text(value)
    if not text:
        return None
    try:
        grade = int(text)
    except ValueError:
        problems.append((key, f"unreadable grade {text!r:.40}: ignored"))
        return None
    if not 0 <= grade <= MAX_GRADE:
        problems.append((key, f"implausible grade {grade}: ignored"))
        return None
    return grade


def _moment(value: Any, key: str, problems: list[tuple[str, str]]) -> datetime | None:
    if isinstance(value, datetime):  # an Excel time cell: the shop's wall clock
        return value.replace(tzinfo=CHINA).astimezone(UTC) if value.tzinfo is None else value
    text = _text(value)
    if not text:
        return None
    try:
        return parse_china_time(text.replace("/", "-"))
    except (ValueError, OverflowError):  # OverflowError: a year-1 time shifted to UTC
        problems.append((key, f"unreadable consent_at {text!r:.40}: ignored"))
        return None
