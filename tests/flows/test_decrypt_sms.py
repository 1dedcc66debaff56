"""Masked buyers reached by decrypting their OAID for one send: scenes, batches, quota, routes."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import text
from sqlmodel import select

from aftercare.rules.notices import IM_HANDOFF
from aftercare.settings import get_settings
from aftercare.store.contacts import opt_out
from flows.care_messages import care_messages
from flows.dispatch_messages import dispatch_messages
from flows.logistics_check import logistics_check
from flows.unpaid_reminders import unpaid_order_reminders
from models import Order, OutboxMessage, Shop
from models.db import session_scope
from tests.conftest import ANCHOR

pytestmark = pytest.mark.usefixtures("prefect_server")


@pytest.fixture
def decrypting(settings, monkeypatch):
    """The shops may decrypt (after-sales and care scenes); none has the platform's SMS."""
    monkeypatch.setenv("AFTERCARE_CHANNELS__DECRYPT", "true")
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def xiaoya(url) -> list[OutboxMessage]:
    with session_scope(url) as session:
        return list(
            session.exec(
                select(OutboxMessage)
                .join(Shop, Shop.id == OutboxMessage.shop_id)
                .where(Shop.code == "xiaoya")
            )
        )


def buyers_phone(sandbox, url, message: OutboxMessage) -> str:
    with session_scope(url) as session:
        tid = session.get(Order, message.order_id).tid
    return sandbox.world.trade(int(tid)).buyer.phone


def test_after_sales_and_care_texts_reach_masked_buyers_once_and_the_number_is_kept_nowhere(
    decrypting, sandbox
):
    url = decrypting.database_url
    logistics_check(as_of=ANCHOR)
    care_messages(as_of=ANCHOR)
    unpaid_order_reminders(as_of=ANCHOR)
    by_oaid = [m for m in xiaoya(url) if m.channel == "oaid_sms"]
    assert by_oaid and all(m.phone is None for m in by_oaid)
    assert {m.purpose.split("_")[0] for m in by_oaid} <= {"logistics", "care"}
    # A payment reminder has no decryption scene: it stays with the agents.
    unpaid = [m for m in xiaoya(url) if m.purpose.startswith("unpaid_")]
    assert unpaid and all(m.status == "suppressed" and "IM" in (m.reason or "") for m in unpaid)

    decryption = sandbox.taobao.oaid_decryption
    dispatch_messages(as_of=ANCHOR)
    dispatch_messages(as_of=ANCHOR)  # nothing twice, nothing decrypted twice
    sent = [m for m in xiaoya(url) if m.channel == "oaid_sms" and m.status == "sent"]
    assert sent and all(m.provider_message_id.startswith("decrypted:") for m in sent)
    delivered = {r.out_id: r for r in sandbox.sms.sent}
    assert Counter(r.out_id for r in sandbox.sms.sent).most_common(1)[0][1] == 1
    for message in sent:
        assert delivered[message.out_id].phone == buyers_phone(sandbox, url, message)
    # Batches of at most 20 (the platform refuses more), one count per decrypted OAID.
    used = sum(decryption.used.values())
    assert used == len(sent) and decryption.calls <= -(-used // 20) + 2
    with session_scope(url) as session:
        counted = session.execute(text("select sum(used) from oaid_decryptions")).scalar()
        assert counted == used
        shop_id = session.exec(select(Shop.id).where(Shop.code == "xiaoya")).one()
        # The shop's own rows (the same buyer may shop, unmasked, at another of the shops).
        dump = "\n".join(
            str(row)
            for table in ("outbox", "orders", "customers", "cases")
            for row in session.execute(
                text(f"select * from {table} where shop_id = :shop"), {"shop": shop_id}
            )
        )
    for message in sent:
        assert buyers_phone(sandbox, url, message) not in dump, "a decrypted number was stored"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_daily_quota_stops_decrypting_and_the_rest_go_to_the_agents(
    decrypting, sandbox, monkeypatch
):
    monkeypatch.setenv("AFTERCARE_CHANNELS__DECRYPT_DAILY_QUOTA", "3")
    get_settings.cache_clear()
    url = get_settings().database_url
    logistics_check(as_of=ANCHOR)
    care_messages(as_of=ANCHOR)
    dispatch_messages(as_of=ANCHOR)
    routed = [m for m in xiaoya(url) if m.channel == "oaid_sms"]
    assert len(routed) > 3
    sent = [m for m in routed if m.status == "sent"]
    assert len(sent) == 3 and sum(sandbox.taobao.oaid_decryption.used.values()) == 3
    waiting = [m for m in routed if m.status == "pending"]  # e.g. one notice per parcel
    assert not waiting, [m.reason for m in waiting]
    handed = [m for m in routed if m.reason and "quota" in m.reason]
    assert handed and all(
        m.status == "suppressed" and m.reason.endswith(IM_HANDOFF) for m in handed
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_routes_follow_the_shops_order_and_an_opt_out_behind_the_oaid_holds(
    decrypting, sandbox, monkeypatch
):
    monkeypatch.setenv("AFTERCARE_CHANNELS__OAID_SMS", "true")
    monkeypatch.setenv(
        "AFTERCARE_CHANNELS__ROUTES_BY_SHOP", '{"xiaoya": ["decrypt_sms", "oaid_sms"]}'
    )
    get_settings.cache_clear()
    url = get_settings().database_url
    logistics_check(as_of=ANCHOR)
    care_messages(as_of=ANCHOR)
    routed = [m for m in xiaoya(url) if m.channel == "oaid_sms"]
    assert len(routed) >= 2
    # One buyer opted out by the number only the platform knows for us.
    opted = routed[0]
    phone = buyers_phone(sandbox, url, opted)
    with session_scope(url) as session:
        opt_out(session=session, kind="phone", value=phone, source="sms reply", now=ANCHOR)
        session.execute(
            text("update outbox set category = 'marketing' where id = :id"), {"id": opted.id}
        )
    dispatch_messages(as_of=ANCHOR)
    after = {m.id: m for m in xiaoya(url)}
    assert after[opted.id].status == "suppressed" and "opted out" in after[opted.id].reason
    sent = [after[m.id] for m in routed if m.id != opted.id and after[m.id].status == "sent"]
    assert sent and all(m.provider_message_id.startswith("decrypted:") for m in sent)
    assert not sandbox.taobao.oaid_sms.sent_by_oaid, "decryption came first, as the shop set"
    assert opted.out_id not in {r.out_id for r in sandbox.sms.sent}, "nor by another route"
    assert all(after[m.id].status in ("sent", "suppressed") for m in routed)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_virtual_number_falls_through_to_the_next_route(decrypting, sandbox, monkeypatch):
    monkeypatch.setenv("AFTERCARE_CHANNELS__OAID_SMS", "true")
    monkeypatch.setenv("AFTERCARE_CHANNELS__ROUTES", '["decrypt_sms", "oaid_sms"]')
    get_settings.cache_clear()
    url = get_settings().database_url
    sandbox.taobao.oaid_decryption.virtual_rate = 1.0
    try:
        logistics_check(as_of=ANCHOR)
        care_messages(as_of=ANCHOR)
        dispatch_messages(as_of=ANCHOR)
    finally:
        sandbox.taobao.oaid_decryption.virtual_rate = 0.0
    sent = [m for m in xiaoya(url) if m.channel == "oaid_sms" and m.status == "sent"]
    assert sent and not any(m.provider_message_id.startswith("decrypted:") for m in sent)
    assert sandbox.taobao.oaid_sms.sent_by_oaid == len(sent)
