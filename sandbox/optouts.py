"""Buyers who get a marketing SMS sometimes text back to opt out (回T退订)."""

from __future__ import annotations

import random
from datetime import timedelta

from .sms import SmsRecord, SmsTemplate
from .uplink import SmsUplink

MARKETING = "marketing"
# What buyers actually type back; all of them mean "unsubscribe".
OPT_OUT_WORDS = ("TD", "T", "退订", "td", "回T退订")
DEFAULT_OPT_OUT_RATE = 0.05
REPLY_AFTER_MIN = timedelta(minutes=1)
REPLY_AFTER_MAX = timedelta(minutes=30)


class OptOutResponder:
    """Let a buyer answer a marketing SMS with an opt-out, 1-30 simulated minutes after it.

    The draw depends only on the seed, the phone and the SMS's OutId, never on thread timing.
    """

    def __init__(
        self,
        uplink: SmsUplink,
        seed: int,
        rate: float = DEFAULT_OPT_OUT_RATE,
        *,
        dest_codes: dict[str, str] | None = None,
    ) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"opt-out reply rate must be within [0, 1], got {rate!r}")
        self.uplink = uplink
        self.seed = seed
        self.rate = rate
        self.dest_codes = dict(dest_codes or {})

    def on_sms(self, record: SmsRecord, template: SmsTemplate) -> None:
        """React to one accepted SMS: a marketing one may draw an opt-out reply."""
        if template.kind != MARKETING:
            return
        rng = random.Random(f"{self.seed}:opt-out:{record.phone}:{record.out_id}")
        if rng.random() >= self.rate:
            return
        content = rng.choice(OPT_OUT_WORDS)
        low, high = (int(d.total_seconds()) for d in (REPLY_AFTER_MIN, REPLY_AFTER_MAX))
        at = record.sent_at + timedelta(seconds=rng.randint(low, high))
        self.uplink.add(
            record.phone,
            content,
            sign_name=record.sign_name,
            dest_code=self.dest_codes.get(record.sign_name, ""),
            at=at,
            reply_to=record.out_id,
        )
