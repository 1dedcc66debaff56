"""dispatch-messages keeps its promises on replays, failed lookups and the clock at sending."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from aftercare.clock import pin_world_clock
from aftercare.store.outbox import Recipient, enqueue, message_row
from flows.dispatch_messages import dispatch_messages
from flows.resend_failed_messages import resend_failed_messages
from models import OutboxMessage, Shop
from models.db import session_scope
from sandbox import FaultConfig
from tests.conftest import ANCHOR

pytestmark = pytest.mark.usefixtures("prefect_server")

# 21:59:50 and 23:30 in Shanghai on the anchor's day.
BEFORE_TEN_PM = datetime(2026, 11, 20, 13, 59, 50, tzinfo=UTC)
HALF_PAST_ELEVEN = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)


def rows(url):
    with session_scope(url) as session:
        return {m.idempotency_key: m for m in session.exec(select(OutboxMessage)).all()}


def queue(url, count, *, template="logistics_stalled_minor", first=0, now=ANCHOR):
    """Queue `count` messages for the sishi shop, one phone each."""
    with session_scope(url) as session:
        shop = session.exec(select(Shop).where(Shop.code == "sishi")).one()
        params = {"shop": shop.name, "courier": "圆通速递", "waybill": "YT0000000000001"}
        if template == "care_new_product":
            params = {"shop": shop.name, "product": "羊毛围巾"}
        enqueue(
            session=session,
            rows=[
                message_row(
                    key=f"test:{template}:{n}",
                    template=template,
                    params=params,
                    recipient=Recipient(shop.id, None, None, str(13900000000 + n)),
                    now=now,
                )
                for n in range(first, first + count)
            ],
        )


def sent_per_key(sandbox):
    return Counter(sms.out_id for sms in sandbox.sms_sent)


def test_a_replay_looks_up_a_lost_answer_on_the_day_the_message_really_left(settings, sandbox):
    queue(settings.database_url, 10)
    # A replay of the anchor's day, run three days later: the texts leave on the later day.
    sandbox.clock.set(ANCHOR + timedelta(days=3))
    sandbox.faults.set("sms", FaultConfig(process_then_fail_rate=1.0, timeout_seconds=0.3))
    first = dispatch_messages(as_of=ANCHOR)
    assert first.get("unknown") == 10 and len(sandbox.sms_sent) == 10

    sandbox.faults.clear()
    second = dispatch_messages(as_of=ANCHOR + timedelta(minutes=15))
    assert second.get("confirmed_sent") == 10, second
    assert set(sent_per_key(sandbox).values()) == {1}, "a replay sent a message twice"
    assert all(m.status == "sent" for m in rows(settings.database_url).values())


def test_a_failed_lookup_leaves_that_message_in_doubt_and_the_rest_are_sent(settings, sandbox):
    queue(settings.database_url, 6)
    sandbox.faults.set("sms", FaultConfig(process_then_fail_rate=1.0, timeout_seconds=0.3))
    assert dispatch_messages(as_of=ANCHOR).get("unknown") == 6
    sandbox.faults.clear()
    sandbox.sms.lookup_faults.update({"13900000000": "unreadable", "13900000001": "refused"})
    queue(settings.database_url, 3, first=100)

    result = dispatch_messages(as_of=ANCHOR + timedelta(minutes=15))
    assert result.get("lookup_failed") == 2 and result.get("confirmed_sent") == 4, result
    assert result.get("sent") == 3, "new messages went out beside the failed lookups"
    messages = rows(settings.database_url)
    for n in (0, 1):
        doubtful = messages[f"test:logistics_stalled_minor:{n}"]
        assert doubtful.status == "sending" and doubtful.claimed_by is None
        assert "in doubt, not resent" in (doubtful.last_error or "")
    assert set(sent_per_key(sandbox).values()) == {1}

    sandbox.sms.lookup_faults.clear()
    later = dispatch_messages(as_of=ANCHOR + timedelta(hours=1))
    assert later.get("confirmed_sent") == 2, later
    assert set(sent_per_key(sandbox).values()) == {1}
    assert all(m.status == "sent" for m in rows(settings.database_url).values())


def test_a_message_whose_send_can_no_longer_be_confirmed_is_never_resent(settings, sandbox):
    queue(settings.database_url, 2)
    sandbox.faults.set("sms", FaultConfig(process_then_fail_rate=1.0, timeout_seconds=0.3))
    dispatch_messages(as_of=ANCHOR)
    sandbox.faults.clear()
    sandbox.clock.set(ANCHOR + timedelta(days=45))  # beyond the provider's 30 days of records

    result = dispatch_messages(as_of=ANCHOR + timedelta(days=45))
    assert result.get("unconfirmable") == 2 and not result.get("sent")
    assert all(
        m.status == "failed" and not m.retryable and "cannot be confirmed" in (m.reason or "")
        for m in rows(settings.database_url).values()
    )
    assert len(sandbox.sms_sent) == 2

    # An operator resends the window's failures: these may have reached the buyer, so they
    # stay failed, and the run says why it left them.
    later = ANCHOR + timedelta(days=45, minutes=5)
    counts = resend_failed_messages(start=ANCHOR, end=later, as_of=later, dry_run=False)
    assert counts.get("left failed (may have been sent)") == 2, counts
    assert not any(k.startswith("requeued") for k in counts), counts
    assert len(sandbox.sms_sent) == 2
    assert {m.status for m in rows(settings.database_url).values()} == {"failed"}


def test_a_replay_run_late_at_night_texts_nobody(settings, sandbox):
    queue(settings.database_url, 5)
    sandbox.clock.set(HALF_PAST_ELEVEN)  # the operator replays the morning at 23:30
    result = dispatch_messages(as_of=ANCHOR)
    assert result.get("deferred_quiet_hours") == 5 and not result.get("sent"), result
    assert not sandbox.sms_sent
    opening = datetime(2026, 11, 21, 1, 0, tzinfo=UTC)  # 09:00 next morning in Shanghai
    assert all(m.next_attempt_at == opening for m in rows(settings.database_url).values())


def test_a_run_started_before_ten_pm_stops_texting_at_ten(settings, sandbox):
    queue(settings.database_url, 12)
    # The world's clock moves on a second each time it is read while the run sends.
    ticks = itertools.count()
    pin_world_clock(lambda: BEFORE_TEN_PM + timedelta(seconds=next(ticks)))
    result = dispatch_messages(as_of=BEFORE_TEN_PM)
    sent, deferred = result.get("sent", 0), result.get("deferred_quiet_hours", 0)
    assert sent + deferred == 12 and sent >= 1 and deferred >= 1, result
    assert len(sandbox.sms_sent) == sent


def test_marketing_stops_at_nine_pm_and_notices_go_on(settings, sandbox):
    queue(settings.database_url, 2, template="care_new_product")
    queue(settings.database_url, 2, first=10)
    half_past_nine = datetime(2026, 11, 20, 13, 30, tzinfo=UTC)
    sandbox.clock.set(half_past_nine)
    result = dispatch_messages(as_of=half_past_nine)
    assert result.get("sent") == 2 and result.get("deferred_quiet_hours") == 2, result
    assert all(key.startswith("test:logistics") for key in sent_per_key(sandbox))
