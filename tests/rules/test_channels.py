"""Which channel reaches a buyer: the number itself, else the platform by OAID, else an agent."""

from datetime import UTC, datetime

import pytest

from aftercare.rules.care import Reachability, care_blocker
from aftercare.rules.notices import MASKED, NO_PHONE, OAID_SMS, SMS, channel_for, sms_blocker
from aftercare.store.outbox import Recipient, message_row

MASKED_NUMBER = "138****8000"


@pytest.mark.parametrize(
    ("phone", "masked", "oaid", "channel"),
    [
        ("13800138000", False, None, SMS),
        ("13800138000", False, "1OAID", SMS),  # a number we may text is used as it is
        (MASKED_NUMBER, True, "1OAID", OAID_SMS),
        (None, False, "1OAID", OAID_SMS),
        ("12345", False, "1OAID", OAID_SMS),
        (MASKED_NUMBER, True, None, None),
        (None, False, None, None),
    ],
)
def test_the_channel_follows_what_reaches_the_buyer(phone, masked, oaid, channel):
    assert channel_for(phone, masked, oaid) == channel


def test_an_oaid_lifts_only_the_unreachable_number():
    assert sms_blocker(MASKED_NUMBER, True, True) == MASKED
    assert sms_blocker(None, False, True) == NO_PHONE
    assert sms_blocker(MASKED_NUMBER, True, True, "1OAID") is None
    assert sms_blocker(MASKED_NUMBER, True, False, "1OAID") == "the shop has SMS notices turned off"
    no_consent = Reachability(MASKED_NUMBER, True, True, consent=False, opted_out=False, oaid="1O")
    assert care_blocker(True, no_consent) == "no marketing consent on record"
    opted = Reachability(None, False, True, consent=True, opted_out=True, oaid="1O")
    assert care_blocker(True, opted) == "the buyer opted out of marketing messages"
    assert care_blocker(False, Reachability(None, False, True, False, False, "1O")) is None


def test_a_message_routed_by_oaid_carries_no_number():
    row = message_row(
        key="k",
        template="logistics_stalled_minor",
        params={"shop": "小雅家居", "courier": "中通", "waybill": "ZT1"},
        recipient=Recipient(1, 2, 3, MASKED_NUMBER, None, "1OAID"),
        now=datetime(2026, 11, 20, 2, tzinfo=UTC),
    )
    assert (row["channel"], row["phone"], row["oaid"], row["status"]) == (
        OAID_SMS,
        None,
        "1OAID",
        "pending",
    )
    plain = message_row(
        key="k2",
        template="logistics_stalled_minor",
        params={"shop": "丝施", "courier": "中通", "waybill": "ZT1"},
        recipient=Recipient(1, 2, 3, "13800138000", None, "1OAID"),
        now=datetime(2026, 11, 20, 2, tzinfo=UTC),
    )
    assert (plain["channel"], plain["phone"], plain["oaid"]) == (SMS, "13800138000", None)
