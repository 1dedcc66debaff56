"""The problem register (登记表格): who is answerable for each kind, and the summaries
purchasing reads (lost parcels by month, quality by week, per item)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from aftercare.clock import CHINA

# Who answers for a kind of problem, where the kind says it (a lost parcel: its courier).
ANSWERABLE = {
    "short_shipped": "仓库（打包）",
    "wrong_item": "仓库（打包）",
    "quality": "采购（供应商）",
    "out_of_stock": "采购（库存）",
}
LOST = "lost_parcel"
QUALITY = "quality"


@dataclass(frozen=True, slots=True)
class Entry:
    """One registered problem, as the summaries see it."""

    kind: str
    item: str
    amount: Decimal
    answerable: str | None
    occurred_at: datetime
    photos: int = 0  # links kept with it


def answerable(kind: str, courier: str | None) -> str | None:
    """Who is answerable for a problem of this kind, where known."""
    if kind == LOST:
        return courier
    return ANSWERABLE.get(kind)


def month_of(moment: datetime) -> tuple[datetime, datetime]:
    """The Beijing calendar month around `moment`, as [start, end) instants."""
    local = moment.astimezone(CHINA)
    start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    following = (start + timedelta(days=32)).replace(day=1)
    return start, following


def week_of(moment: datetime) -> tuple[datetime, datetime]:
    """The Beijing week (Monday to Sunday) around `moment`, as [start, end) instants."""
    local = moment.astimezone(CHINA)
    day: date = local.date() - timedelta(days=local.weekday())
    start = datetime(day.year, day.month, day.day, tzinfo=CHINA)
    return start, start + timedelta(days=7)


def summary(
    entries: Iterable[Entry], kind: str, start: datetime, end: datetime
) -> list[dict[str, object]]:
    """Per item (and who is answerable) in [start, end): how many, how much; most first."""
    counts: dict[tuple[str, str], list[Entry]] = defaultdict(list)
    for entry in entries:
        if entry.kind == kind and start <= entry.occurred_at < end:
            counts[(entry.item, entry.answerable or "-")].append(entry)
    rows = [
        {"商品": item, "责任方": who, "件数": len(found),
         "金额": str(sum(e.amount for e in found)), "照片": sum(e.photos for e in found)}
        for (item, who), found in counts.items()
    ]  # fmt: skip
    return sorted(rows, key=lambda r: (-int(str(r["件数"])), str(r["商品"])))
