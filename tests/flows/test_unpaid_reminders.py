"""unpaid-order-reminders end to end: sandbox over HTTP, real Prefect server, both databases."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlmodel import select

from aftercare.settings import get_settings
from flows.dispatch_messages import dispatch_messages
from flows.unpaid_reminders import unpaid_order_reminders
from models import Order, OutboxMessage, ReminderConversion, Shop
from models.db import session_scope
from tests.conftest import ANCHOR

pytestmark = pytest.mark.usefixtures("prefect_server")
UNPAID = "WAIT_BUYER_PAY"


def reminders(url):
    with session_scope(url) as session:
        rows = session.exec(
            select(OutboxMessage, Order.tid, Shop.code)
            .join(Order, Order.id == OutboxMessage.order_id)
            .join(Shop, Shop.id == OutboxMessage.shop_id)
            .where(OutboxMessage.purpose.like("unpaid_%"))  # type: ignore[attr-defined]
        ).all()
    return [(message, int(tid), code) for message, tid, code in rows]


def run_concurrently(*calls):
    errors: list[BaseException] = []

    def run(call):
        try:
            call()
        except BaseException as error:  # collected for the assertion below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors


def test_due_reminders_are_queued_once_per_buyer_and_every_skip_has_a_reason(settings, sandbox):
    summary = unpaid_order_reminders(as_of=ANCHOR)
    rows = reminders(settings.database_url)
    assert summary["orders_due"] > 0 and rows
    stages = Counter(m.purpose.split("@")[0] for m, _, _ in rows)
    assert {"unpaid_automatic", "unpaid_pre_close", "unpaid_group_buy"} <= set(stages)

    queued = [(m, tid, shop) for m, tid, shop in rows if m.status == "pending"]
    assert queued
    for message, tid, _ in queued:
        assert sandbox.world.trade_at(tid, ANCHOR).status == UNPAID
        assert message.precheck == "order_unpaid" and message.text.startswith("亲")
    phones = Counter(m.phone for m, _, _ in queued)
    assert max(phones.values()) == 1, "one reminder per phone per day"
    for message, _, shop in rows:
        if message.status == "suppressed":
            assert message.reason, "every decision not to send has its reason"
        if shop == "xiaoya":
            assert message.status == "suppressed" and "masked" in message.reason
    reasons = " | ".join(m.reason or "" for m, _, _ in rows)
    assert "paid another order" in reasons
    # A buyer due twice the same day (two unpaid orders, two shops) is reminded once.
    reachable = Counter(
        m.phone for m, _, _ in rows if m.status == "pending" or "already" in (m.reason or "")
    )
    for phone, count in reachable.items():
        if count > 1:
            assert sum(1 for m, _, _ in rows if m.phone == phone and m.status == "pending") == 1

    sent = dispatch_messages(as_of=ANCHOR)
    assert sent["sent"] == len(queued)
    assert Counter(sms.phone for sms in sandbox.sms_sent).most_common(1)[0][1] == 1

    again = unpaid_order_reminders(as_of=ANCHOR + timedelta(minutes=5))
    assert again["queued"] == 0, "a re-run queues nothing new"


def test_orders_paid_between_sync_and_send_are_never_chased(settings, sandbox):
    unpaid_order_reminders(as_of=ANCHOR)
    queued = [(m, tid) for m, tid, _ in reminders(settings.database_url) if m.status == "pending"]
    assert len(queued) >= 2
    paid = {tid for _, tid in queued[::2]}
    for tid in paid:  # the buyer pays after our sync, before the dispatcher runs
        sandbox.world.pay(tid, ANCHOR - timedelta(seconds=30))

    dispatched = dispatch_messages(as_of=ANCHOR)
    assert dispatched["suppressed_by_live_check"] == len(paid)
    assert dispatched["sent"] == len(queued) - len(paid)
    after = {tid: m for m, tid, _ in reminders(settings.database_url)}
    for tid in paid:
        assert after[tid].status == "suppressed" and "live check" in after[tid].reason
    texted = {sms.phone for sms in sandbox.sms_sent}
    assert not texted & {after[tid].phone for tid in paid}


def test_two_overlapping_runs_remind_no_buyer_twice(settings, sandbox):
    run_concurrently(
        lambda: unpaid_order_reminders(as_of=ANCHOR), lambda: unpaid_order_reminders(as_of=ANCHOR)
    )
    run_concurrently(
        lambda: dispatch_messages(as_of=ANCHOR), lambda: dispatch_messages(as_of=ANCHOR)
    )
    rows = reminders(settings.database_url)
    assert len({m.idempotency_key for m, _, _ in rows}) == len(rows)
    per_phone = Counter(sms.phone for sms in sandbox.sms_sent)
    assert per_phone and max(per_phone.values()) == 1
    assert len(sandbox.sms_sent) == sum(1 for m, _, _ in rows if m.status == "sent")


def test_payments_after_a_reminder_are_attributed_to_it(settings, sandbox):
    unpaid_order_reminders(as_of=ANCHOR)
    dispatch_messages(as_of=ANCHOR)
    later = ANCHOR + timedelta(hours=12)
    sandbox.clock.set(later)
    summary = unpaid_order_reminders(as_of=later)

    converted = {c.tid for c in sandbox.world.conversions if c.paid_at <= later}
    assert converted, "the sandbox's buyers paid some reminded orders"
    with session_scope(settings.database_url) as session:
        recorded = session.exec(
            select(Order.tid, ReminderConversion).join(
                ReminderConversion, ReminderConversion.order_id == Order.id
            )
        ).all()
    # Every payment the reminders brought about is credited; so is any other payment made
    # within the attribution window after a reminder, as shop CRMs count it.
    assert converted <= {int(tid) for tid, _ in recorded}
    for _, conversion in recorded:
        assert (
            conversion.reminded_at
            <= conversion.paid_at
            <= conversion.reminded_at + timedelta(hours=24)
        )
    assert summary["new_conversions"] == len(recorded)
    assert summary["recovered_amount_today"] == sum(c.amount for _, c in recorded)


def test_quiet_hours_defer_to_the_morning_skip_per_shop_and_drop_after_the_grace(
    settings, sandbox, monkeypatch
):
    monkeypatch.setenv("AFTERCARE_REMINDERS__SHOPS", '{"mumu": {"quiet_hours_policy": "skip"}}')
    get_settings.cache_clear()
    night = ANCHOR + timedelta(hours=13, minutes=30)  # 23:30 in Shanghai
    sandbox.clock.set(night)
    unpaid_order_reminders(as_of=night)
    rows = reminders(settings.database_url)
    morning = ANCHOR + timedelta(hours=23)  # 09:00 next day in Shanghai
    deferred = [m for m, _, _ in rows if m.status == "pending"]
    assert deferred
    for message in deferred:
        assert message.next_attempt_at == morning
        assert message.expires_at <= morning + timedelta(minutes=60)
    mumu = [m for m, _, shop in rows if shop == "mumu"]
    assert mumu and all(m.status == "suppressed" for m in mumu)
    assert any("quiet hours" in (m.reason or "") for m in mumu)

    assert dispatch_messages(as_of=night + timedelta(minutes=5)).get("claimed", 0) == 0
    too_late = morning + timedelta(minutes=65)
    sandbox.clock.set(too_late)
    dropped = dispatch_messages(as_of=too_late)
    assert dropped.get("expired") == len(deferred) and not sandbox.sms_sent
    for message, _, _ in reminders(settings.database_url):
        if message.idempotency_key in {d.idempotency_key for d in deferred}:
            assert message.status == "suppressed" and "missed its send window" in message.reason


def test_deferred_reminders_go_out_when_the_window_opens(settings, sandbox):
    night = ANCHOR + timedelta(hours=13, minutes=30)
    sandbox.clock.set(night)
    unpaid_order_reminders(as_of=night)
    deferred = [m for m, _, _ in reminders(settings.database_url) if m.status == "pending"]
    opening = ANCHOR + timedelta(hours=23, minutes=5)
    sandbox.clock.set(opening)
    result = dispatch_messages(as_of=opening)
    assert result["sent"] + result.get("suppressed_by_live_check", 0) == len(deferred)
    assert result["sent"] > 0


def test_a_buyer_sharing_a_blurred_nick_with_one_who_paid_is_still_reminded(settings, sandbox):
    from sandbox.planted import plant

    # TOP blurs nicks: two different buyers both show as t**8; the first one has just paid.
    paid = plant(sandbox.world, "rating", shop="sishi", nick="t**8")
    unpaid = plant(sandbox.world, "hostile", shop="sishi", nick="t**8")
    assert (
        sandbox.world.trade(paid["tid"]).buyer.uid != sandbox.world.trade(unpaid["tid"]).buyer.uid
    )
    unpaid_order_reminders(as_of=ANCHOR)
    with session_scope(settings.database_url) as session:
        message = session.exec(
            select(OutboxMessage)
            .join(Order, Order.id == OutboxMessage.order_id)  # type: ignore[arg-type]
            .where(Order.tid == str(unpaid["tid"]))
        ).one()
        buyers = session.exec(
            select(Order.customer_id).where(
                Order.tid.in_([str(paid["tid"]), str(unpaid["tid"])])  # type: ignore[attr-defined]
            )
        ).all()
    assert len(set(buyers)) == 2, "two buyers, not one merged by nick"
    assert message.status == "pending", message.reason
