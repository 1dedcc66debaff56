"""A masked buyer with an open refund is told on the refund itself; without one, by an agent."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from aftercare.rules.notices import IM_HANDOFF
from aftercare.settings import get_settings
from aftercare.store.operator import im_handoffs
from flows.dispatch_messages import dispatch_messages
from flows.logistics_check import logistics_check
from flows.refunds_and_returns import refunds_and_returns
from models import Order, OutboxMessage, Shop
from models.db import session_scope
from tests.conftest import ANCHOR

pytestmark = [
    pytest.mark.usefixtures("prefect_server"),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


@pytest.fixture
def refund_route(settings, monkeypatch):
    """小雅家居 reaches its masked buyers only through their refunds."""
    monkeypatch.setenv("AFTERCARE_CHANNELS__ROUTES_BY_SHOP", '{"xiaoya": ["refund_message"]}')
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def xiaoya_notices(url) -> list[OutboxMessage]:
    with session_scope(url) as session:
        return list(
            session.exec(
                select(OutboxMessage)
                .join(Shop, Shop.id == OutboxMessage.shop_id)
                .where(Shop.code == "xiaoya", OutboxMessage.channel == "oaid_sms")
            )
        )


def test_the_refund_carries_the_notice_once_and_no_refund_means_an_agent(refund_route, sandbox):
    url = refund_route.database_url
    logistics_check(as_of=ANCHOR)
    queued = [m for m in xiaoya_notices(url) if m.status == "pending"]
    assert len(queued) >= 2, "parcel notices to masked buyers wait for a route"
    told, untold = queued[0], queued[1]
    with session_scope(url) as session:
        tid = session.get(Order, told.order_id).tid
    refund = sandbox.taobao.refunds.open_refund(int(tid), "未收到货", ANCHOR - timedelta(hours=1))
    refunds_and_returns(as_of=ANCHOR)

    dispatch_messages(as_of=ANCHOR)
    dispatch_messages(as_of=ANCHOR)  # nothing twice
    after = {m.id: m for m in xiaoya_notices(url)}
    assert after[told.id].status == "sent"
    assert after[told.id].provider_message_id.startswith("refund-message:")
    on_refund = [text for _, text in refund.messages]
    assert on_refund.count(told.text) == 1, "on the refund, once"
    # Beside it, the shop's answer to the request itself (refund_lost_parcel), once too.
    assert len(on_refund) == len(set(on_refund)) == 2
    assert after[untold.id].status == "suppressed"
    assert "no open refund on the order" in after[untold.id].reason
    assert after[untold.id].reason.endswith(IM_HANDOFF)
    with session_scope(url) as session:
        handoffs = {h.message_id for h in im_handoffs(session=session, shop="xiaoya", limit=500)}
    assert untold.id in handoffs and told.id not in handoffs
    assert not any(r.out_id == told.out_id for r in sandbox.sms.sent), "no SMS besides"
