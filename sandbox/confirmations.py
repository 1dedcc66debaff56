"""Receipt confirmation (确认收货): when a delivered trade becomes TRADE_FINISHED.

A buyer confirms receipt by hand 12 h to 4 days after the signed scan; otherwise Taobao
confirms for them at consign_time + 10 days, or one minute after delivery when the parcel
arrives later than that. Parcels that are never signed for never confirm.

Taobao opens rating only once a trade is finished, and the buyers' ratings were drawn before
this lifecycle existed (they must not change for a seed). So a buyer whose first rating comes
before the automatic confirmation confirmed by hand, shortly before rating; the others confirm
by hand with a smaller chance, which brings the overall share near `MANUAL_SHARE`.

Until it is confirmed a trade stays WAIT_BUYER_CONFIRM_GOODS, signed for or not:
TRADE_BUYER_SIGNED is Taobao's cash-on-delivery status and nothing here sells cash on delivery.
Each draw depends only on the seed and the tid, so confirmations can be worked out lazily.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import NamedTuple

from .scenarios import SIGNED, SIGNED_LATER
from .shipment import ShipmentScenario

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

AUTO_CONFIRM_AFTER = 10 * DAY  # after consign_time (surface mail would be 30 days)
AUTO_AFTER_DELIVERY = MINUTE  # when the parcel arrives after the 10 days ran out
MANUAL_FROM = 12 * HOUR  # after the signed scan
MANUAL_TO = 4 * DAY
# A buyer rates at least this long after confirming.
RATE_GAP = 10 * MINUTE
# The share of delivered trades confirmed by hand the sandbox aims at.
MANUAL_SHARE = 0.65
# About 57% of delivered trades are rated before the automatic confirmation (so confirmed by
# hand); this chance for the rest makes the overall share about MANUAL_SHARE.
LATE_RATER_MANUAL_SHARE = 0.19
SIGNED_STATE = 3  # Kuaidi100 state of a signed scan (301 signed, 303 signed by someone else)


class Confirmation(NamedTuple):
    """When a delivered trade is confirmed, and whether Taobao did it (auto) or the buyer."""

    at: datetime
    auto: bool


def signed_at(shipment: ShipmentScenario) -> datetime | None:
    """Return when the parcel is signed for (maybe after the anchor), None if it never is."""
    if shipment.scenario in SIGNED:
        return shipment.key_time  # the timeline's signed scan is at exactly this time
    if shipment.scenario not in SIGNED_LATER:
        return None
    for event in reversed(shipment.events):
        if event.state == SIGNED_STATE:
            return event.time
    return None


def plan_confirmation(
    seed: int,
    tid: int,
    consign_time: datetime,
    shipment: ShipmentScenario,
    first_rating: datetime | None,
) -> Confirmation | None:
    """Decide when a shipped trade is confirmed; None for parcels never signed for."""
    signed = signed_at(shipment)
    if signed is None:
        return None
    auto_at = max(consign_time + AUTO_CONFIRM_AFTER, signed + AUTO_AFTER_DELIVERY)
    rng = random.Random(f"{seed}:confirm:{tid}")
    roll, spread = rng.random(), rng.random()
    earliest, latest = signed + MANUAL_FROM, signed + MANUAL_TO
    if first_rating is not None and first_rating < auto_at + RATE_GAP:
        manual = True
        latest = min(latest, first_rating - RATE_GAP)
    elif first_rating is None:
        manual = roll < MANUAL_SHARE
    else:
        manual = roll < LATE_RATER_MANUAL_SHARE
    if manual:
        # A rating within 12 h of delivery (never drawn so far) pulls the confirmation before it.
        earliest = max(min(earliest, latest), signed + MINUTE)
        at = earliest + max(latest - earliest, timedelta(0)) * spread
        at = at.replace(microsecond=0)
        if at < auto_at:
            return Confirmation(at, auto=False)
    return Confirmation(auto_at.replace(microsecond=0), auto=True)
