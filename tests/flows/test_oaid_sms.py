"""Buyers whose number is masked, texted by OAID through the platform: exactly once."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlmodel import select

from aftercare.rules.dispatch import NO_LOOKUP
from aftercare.settings import get_settings
from flows.care_messages import care_messages
from flows.dispatch_messages import dispatch_messages
from flows.logistics_check import logistics_check
from flows.unpaid_reminders import unpaid_order_reminders
from models import Order, OutboxMessage, Shop
from models.db import session_scope
from sandbox import FaultConfig
from tests.conftest import ANCHOR

pytestmark = pytest.mark.usefixtures("prefect_server")


@pytest.fixture
def oaid_sms(settings, monkeypatch):
    """Every shop has the platform's SMS service: masked buyers are texted by OAID."""
    monkeypatch.setenv("AFTERCARE_CHANNELS__OAID_SMS", "true")
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def messages_of(url, shop: str) -> list[OutboxMessage]:
    with session_scope(url) as session:
        return list(
            session.exec(
                select(OutboxMessage)
                .join(Shop, Shop.id == OutboxMessage.shop_id)
                .where(Shop.code == shop)
            )
        )


def test_a_masked_buyer_is_reminded_by_oaid_once_and_never_by_a_number(oaid_sms, sandbox):
    url = oaid_sms.database_url
    unpaid_order_reminders(as_of=ANCHOR)
    masked = [m for m in messages_of(url, "xiaoya") if m.purpose.startswith("unpaid_")]
    assert masked, "the shop whose app cannot decrypt numbers has reminders"
    routed = [m for m in masked if m.channel == "oaid_sms"]
    assert routed and all(m.phone is None and m.oaid for m in routed)
    assert not any(m.reason and "masked" in m.reason for m in masked), "no longer a dead end"

    dispatch_messages(as_of=ANCHOR)
    dispatch_messages(as_of=ANCHOR)  # a second run sends nothing again
    sent = {m.id: m for m in messages_of(url, "xiaoya") if m.status == "sent"}
    assert sent
    delivered = Counter(record.out_id for record in sandbox.sms.sent)
    for message in sent.values():
        assert delivered[message.out_id] == 1, "each message reached the buyer exactly once"
    # The platform found the real number behind each OAID: the trade's own buyer.
    with session_scope(url) as session:
        tids = {o.id: o.tid for o in session.exec(select(Order))}
    by_out_id = {record.out_id: record for record in sandbox.sms.sent}
    for message in sent.values():
        buyer = sandbox.world.trade(int(tids[message.order_id])).buyer
        assert by_out_id[message.out_id].phone == buyer.phone


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_oaid_text_whose_answer_is_lost_is_never_sent_again(oaid_sms, sandbox):
    url = oaid_sms.database_url
    logistics_check(as_of=ANCHOR)
    care_messages(as_of=ANCHOR)
    routed = [m for m in messages_of(url, "xiaoya") if m.channel == "oaid_sms"]
    assert routed
    # The platform sends every text, then the connection drops before its answer.
    sandbox.faults.set("taobao", FaultConfig(process_then_fail_rate=1.0, timeout_seconds=0.2))
    dispatch_messages(as_of=ANCHOR)
    sandbox.faults.clear()
    for minutes in (1, 2, 3):  # later runs settle what is in doubt, then find nothing to send
        dispatch_messages(as_of=ANCHOR + timedelta(minutes=minutes))
    after = {m.id: m for m in messages_of(url, "xiaoya") if m.channel == "oaid_sms"}
    delivered = Counter(record.out_id for record in sandbox.sms.sent)
    lost = [m for m in after.values() if m.last_error and NO_LOOKUP in m.last_error]
    assert lost, "answers were lost"
    for message in lost:
        assert message.status == "failed" and not message.retryable
        assert delivered[message.out_id] == 1, "sent once by the platform, never again by us"
    assert all(n == 1 for n in delivered.values())
