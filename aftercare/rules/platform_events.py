"""What a message from the shop platform asks us to re-read (it names things, never states)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Reread(StrEnum):
    """What applying a message re-reads from the platform."""

    TRADE = "trade"
    RATING = "rating"
    REFUND = "refund"
    NOTHING = "nothing"


RATED = "taobao_trade_TradeRated"
AUTH_CANCELLED = "taobao_top_AuthCancel"
# Recorded on the messages applied without a re-read, so staff can see why.
NOT_FOLLOWED = {Reread.NOTHING: "nothing to re-read for this topic"}
AUTH_CANCELLED_OUTCOME = (
    "the seller cancelled the app's authorisation: renew its session key "
    "(AFTERCARE_TAOBAO_SESSIONS)"
)


def reread_of(topic: str) -> Reread:
    """Name what a topic's message asks to re-read."""
    if topic == RATED:
        return Reread.RATING
    if topic.startswith(("taobao_trade_", "pdd_trade_")):
        return Reread.TRADE
    if topic.startswith(("taobao_refund_", "pdd_refund_")):
        return Reread.REFUND
    return Reread.NOTHING


@dataclass(frozen=True, slots=True)
class Trigger:
    """One stored message as the rules see it."""

    id: int
    topic: str
    shop_id: int | None
    tid: str | None
    refund_id: str | None = None

    def subject(self, what: Reread) -> str | None:
        """The id a re-read of `what` needs: the refund's for a refund, else the trade's."""
        return self.refund_id if what is Reread.REFUND else self.tid


def plan_rereads(triggers: Iterable[Trigger]) -> dict[tuple[int, Reread, str], list[int]]:
    """Group messages by (shop, what, id): ten messages about one trade make one re-read."""
    plan: dict[tuple[int, Reread, str], list[int]] = defaultdict(list)
    for trigger in triggers:
        what = reread_of(trigger.topic)
        subject = trigger.subject(what)
        if what is not Reread.NOTHING and trigger.shop_id and subject:
            plan[(trigger.shop_id, what, subject)].append(trigger.id)
    return dict(plan)


def outcome_without_reread(trigger: Trigger) -> str:
    """Why a message is applied without re-reading anything."""
    if trigger.topic == AUTH_CANCELLED:
        return AUTH_CANCELLED_OUTCOME
    what = reread_of(trigger.topic)
    if what in NOT_FOLLOWED:
        return NOT_FOLLOWED[what]
    if trigger.shop_id is None:
        return "the message names no shop we serve"
    return "the message names no refund" if what is Reread.REFUND else "the message names no trade"


def due_minutes(due: list[datetime], now: datetime, horizon: timedelta) -> list[datetime]:
    """The whole minutes (rounded up) at which work falls due, after now and within the horizon."""
    minutes = set()
    for moment in due:
        if now < moment <= now + horizon:
            floor = moment.replace(second=0, microsecond=0)
            minutes.add(floor if floor == moment else floor + timedelta(minutes=1))
    return sorted(minutes)
