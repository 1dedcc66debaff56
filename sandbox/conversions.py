"""Buyers who get an unpaid-order reminder (催付) SMS sometimes pay: the world reacts to texts."""

from __future__ import annotations

import logging
import random
import threading
from collections import Counter
from datetime import timedelta

from .shops import SHOPS, mask_phone
from .sms import SmsRecord, SmsTemplate
from .world import Trade, World

log = logging.getLogger(__name__)

# Templates whose name (in aftercare/templates/sms.toml) starts with this are reminders;
# "unpaid_automatic@mumu" is the mumu shop's variant of "unpaid_automatic".
REMINDER_PREFIX = "unpaid_"
DEFAULT_CONVERSION_RATE = 0.35
PAY_AFTER_MIN = timedelta(minutes=5)
PAY_AFTER_MAX = timedelta(minutes=600)

_SHOP_BY_SIGN = {shop.sign_name: code for code, shop in SHOPS.items()}


def is_reminder(template: SmsTemplate) -> bool:
    """Tell whether a template is an unpaid-order reminder."""
    return template.name.startswith(REMINDER_PREFIX)


def reminder_shop(template: SmsTemplate, sign_name: str) -> str | None:
    """Return the shop a reminder speaks for: the template's @shop suffix, else its signature."""
    _, _, suffix = template.name.partition("@")
    if suffix in SHOPS:
        return suffix
    return _SHOP_BY_SIGN.get(sign_name)


class ReminderResponder:
    """Let reminded buyers pay, each reminder with a seeded chance, 5-600 simulated minutes on.

    Each draw depends only on the seed, the trade and how many reminders it got before, so
    the outcome does not depend on thread timing.
    """

    def __init__(self, world: World, seed: int, rate: float = DEFAULT_CONVERSION_RATE) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"reminder conversion rate must be within [0, 1], got {rate!r}")
        self.world = world
        self.seed = seed
        self.rate = rate
        self._guard = threading.Lock()
        self._reminded: Counter[int] = Counter()

    def reset(self) -> None:
        """Forget how often each trade was reminded (conversions already made stay)."""
        with self._guard:
            self._reminded.clear()

    def on_sms(self, record: SmsRecord, template: SmsTemplate) -> None:
        """React to one accepted SMS: a reminder may make the buyer pay an open order."""
        if not is_reminder(template):
            return
        for trade in self._reminded_trades(record, template):
            with self._guard:
                count = self._reminded[trade.tid]
                self._reminded[trade.tid] = count + 1
            rng = random.Random(f"{self.seed}:reminder:{trade.tid}:{count}")
            if rng.random() >= self.rate:
                continue
            span = int((PAY_AFTER_MAX - PAY_AFTER_MIN).total_seconds())
            paid_at = record.sent_at + PAY_AFTER_MIN + timedelta(seconds=rng.randint(0, span))
            if self.world.convert(trade.tid, paid_at, reminded_at=record.sent_at):
                log.debug("buyer %s pays %s at %s", mask_phone(record.phone), trade.tid, paid_at)

    def _reminded_trades(self, record: SmsRecord, template: SmsTemplate) -> list[Trade]:
        """Find the open orders a reminder is about: named in its params, else of its shop."""
        open_trades = self.world.unpaid_of_phone(record.phone, record.sent_at)
        if not open_trades:
            return []
        values = " ".join(record.params.values())
        named = [t for t in open_trades if str(t.tid) in values]
        if named:
            return named
        shop = reminder_shop(template, record.sign_name)
        same_shop = [t for t in open_trades if t.shop == shop]
        return same_shop or open_trades
