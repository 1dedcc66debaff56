"""The lead's daily figures: per shop and for the team, per day, with the service levels kept."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

# Buyers hear about a parcel's problem within a day of the case opening (the team's promise).
NOTICE_WITHIN = timedelta(hours=24)
TEAM = "全部店铺"


@dataclass(frozen=True, slots=True)
class CaseFact:
    """One case as the report needs it."""

    shop: str
    kind: str  # "review" or a logistics anomaly kind
    opened_at: datetime
    closed_at: datetime | None
    deadline_at: datetime | None
    first_notice_at: datetime | None  # the first buyer message about it that left


@dataclass(frozen=True, slots=True)
class MessageFact:
    """One outbox message as the report needs it."""

    shop: str
    purpose: str
    status: str
    at: datetime  # sent_at when sent, else when it was decided


@dataclass(frozen=True, slots=True)
class PaymentFact:
    """One order paid after a reminder."""

    shop: str
    paid_at: datetime
    amount: Decimal


@dataclass(slots=True)
class DayFigures:
    """One shop's (or the team's) figures for one local day."""

    day: date
    anomalies_opened: int = 0
    anomalies_closed: int = 0
    anomalies_noticed_in_time: int = 0  # of those opened: the buyer told within NOTICE_WITHIN
    reviews_opened: int = 0
    reviews_closed: int = 0
    reviews_closed_in_time: int = 0  # of those closed: before the platform's deadline
    reminders_sent: int = 0
    paid_after_reminder: int = 0
    recovered: Decimal = field(default_factory=lambda: Decimal(0))
    messages_sent: int = 0
    messages_held: int = 0

    @property
    def notice_rate(self) -> float | None:
        """Share of the day's anomalies whose buyer heard within a day; None without any."""
        return _share(self.anomalies_noticed_in_time, self.anomalies_opened)

    @property
    def review_rate(self) -> float | None:
        """Share of the day's closed review cases closed before their deadline."""
        return _share(self.reviews_closed_in_time, self.reviews_closed)

    @property
    def conversion(self) -> float | None:
        """Orders paid after a reminder per reminder sent."""
        return _share(self.paid_after_reminder, self.reminders_sent)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def report_days(last: date, days: int) -> list[date]:
    """Return the `days` local days ending with `last`, oldest first."""
    return [last - timedelta(days=n) for n in range(days - 1, -1, -1)]


def daily_trend(
    days: list[date],
    zone: ZoneInfo,
    cases: Iterable[CaseFact],
    messages: Iterable[MessageFact],
    payments: Iterable[PaymentFact],
) -> dict[str, list[DayFigures]]:
    """Return each shop's figures per day, and the team's under TEAM, oldest day first."""
    books: dict[str, dict[date, DayFigures]] = {}

    def book(shop: str, moment: datetime | None) -> list[DayFigures]:
        if moment is None:
            return []
        day = moment.astimezone(zone).date()
        if not days or not days[0] <= day <= days[-1]:
            return []
        pages = []
        for name in (shop, TEAM):
            shelf = books.setdefault(name, {d: DayFigures(d) for d in days})
            pages.append(shelf[day])
        return pages

    for case in cases:
        review = case.kind == "review"
        for page in book(case.shop, case.opened_at):
            if review:
                page.reviews_opened += 1
            else:
                page.anomalies_opened += 1
                notice = case.first_notice_at
                if notice is not None and notice - case.opened_at <= NOTICE_WITHIN:
                    page.anomalies_noticed_in_time += 1
        for page in book(case.shop, case.closed_at):
            if review:
                page.reviews_closed += 1
                deadline = case.deadline_at
                if deadline is None or (case.closed_at and case.closed_at <= deadline):
                    page.reviews_closed_in_time += 1
            else:
                page.anomalies_closed += 1
    for message in messages:
        for page in book(message.shop, message.at):
            if message.status == "sent":
                page.messages_sent += 1
                page.reminders_sent += message.purpose.startswith("unpaid_")
            elif message.status == "suppressed":
                page.messages_held += 1
    for payment in payments:
        for page in book(payment.shop, payment.paid_at):
            page.paid_after_reminder += 1
            page.recovered += payment.amount
    empty = {d: DayFigures(d) for d in days}
    return {name: list(books.get(name, empty).values()) for name in {*books, TEAM}}
