"""dispatch-messages: exactly once per key through retries, re-runs, overlaps and lost answers."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlmodel import select

from aftercare.store.outbox import Recipient, enqueue, message_row
from flows.dispatch_messages import dispatch_messages
from flows.logistics_check import logistics_check
from models import OutboxMessage, Shop
from models.db import session_scope
from sandbox import FaultConfig
from tests.conftest import ANCHOR

pytestmark = pytest.mark.usefixtures("prefect_server")


def outbox(url):
    with session_scope(url) as session:
        return session.exec(select(OutboxMessage)).all()


def queue_messages(url, count, *, template_code=None, phone_base=13900000000):
    """Queue `count` notices for the sishi shop, straight through the outbox API."""
    with session_scope(url) as session:
        shop = session.exec(select(Shop).where(Shop.code == "sishi")).one()
        rows = []
        for n in range(count):
            row = message_row(
                key=f"test:notice:{n}",
                template="logistics_stalled_minor",
                params={"shop": shop.name, "courier": "圆通速递", "waybill": f"YT{n:013d}"},
                recipient=Recipient(shop.id, None, None, str(phone_base + n)),
                now=ANCHOR,
            )
            if template_code:
                row["template_code"] = template_code
            rows.append(row)
        enqueue(session=session, rows=rows)


def sent_per_key(sandbox):
    return Counter(sms.out_id for sms in sandbox.sms_sent)


def test_every_pending_notice_is_sent_once_and_a_rerun_sends_nothing(settings, sandbox):
    logistics_check(as_of=ANCHOR)
    pending = {m.idempotency_key for m in outbox(settings.database_url) if m.status == "pending"}
    assert pending

    first = dispatch_messages(as_of=ANCHOR)
    assert first["sent"] == len(pending)
    assert sent_per_key(sandbox) == Counter(dict.fromkeys(pending, 1))
    rows = {m.idempotency_key: m for m in outbox(settings.database_url)}
    assert all(rows[k].status == "sent" and rows[k].provider_message_id for k in pending)
    texts = {sms.out_id: sms.content for sms in sandbox.sms_sent}
    assert all(texts[k] == rows[k].text for k in pending), "the buyer reads what we recorded"

    second = dispatch_messages(as_of=ANCHOR + timedelta(minutes=5))
    assert second.get("sent", 0) == 0
    assert len(sandbox.sms_sent) == len(pending)


def test_two_overlapping_runs_never_send_a_message_twice(settings, sandbox):
    queue_messages(settings.database_url, 600)
    sandbox.faults.set("sms", FaultConfig(latency_ms=2))
    results: list[dict] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(dispatch_messages(as_of=ANCHOR))
        except BaseException as error:  # collected for the assertion below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    counts = sent_per_key(sandbox)
    assert len(counts) == 600 and set(counts.values()) == {1}
    assert sum(r.get("sent", 0) for r in results) == 600
    assert all(m.status == "sent" for m in outbox(settings.database_url))


def test_lost_answers_are_checked_with_the_provider_before_any_resend(settings, sandbox):
    queue_messages(settings.database_url, 20)
    # The provider sends every message, then the answer never reaches us.
    sandbox.faults.set("sms", FaultConfig(process_then_fail_rate=1.0, timeout_seconds=0.3))
    first = dispatch_messages(as_of=ANCHOR)
    assert first.get("unknown") == 20 and first.get("sent", 0) == 0
    assert len(sandbox.sms_sent) == 20
    assert all(m.status == "sending" for m in outbox(settings.database_url))

    sandbox.faults.clear()
    second = dispatch_messages(as_of=ANCHOR + timedelta(minutes=1))
    assert second.get("confirmed_sent") == 20 and second.get("sent", 0) == 0
    rows = outbox(settings.database_url)
    assert all(m.status == "sent" and m.sent_at for m in rows)
    assert set(sent_per_key(sandbox).values()) == {1}, "nothing was sent twice"


def test_a_message_never_sent_is_not_held_back_by_its_own_gap(settings, sandbox):
    queue_messages(settings.database_url, 3)
    # The connection drops before the provider sends anything: the outcome is unknown.
    sandbox.faults.set("sms", FaultConfig(drop_rate=1.0))
    first = dispatch_messages(as_of=ANCHOR)
    assert first.get("unknown") == 3 and not sandbox.sms_sent

    sandbox.faults.clear()
    second = dispatch_messages(as_of=ANCHOR + timedelta(minutes=5))
    assert second.get("requeued") == 3
    assert second.get("sent") == 3, "the phone's gap was reserved by a send that never happened"
    assert set(sent_per_key(sandbox).values()) == {1}


def test_refused_messages_fail_with_the_reason_and_are_not_retried(settings, sandbox):
    queue_messages(settings.database_url, 3, template_code="SMS_000000000")
    result = dispatch_messages(as_of=ANCHOR)
    assert result.get("failed") == 3
    rows = outbox(settings.database_url)
    assert all(m.status == "failed" and not m.retryable for m in rows)
    assert all("SMS_TEMPLATE_ILLEGAL" in (m.reason or "") for m in rows)
    dispatch_messages(as_of=ANCHOR + timedelta(hours=1))
    assert len(sandbox.sms_sent) == 0


def test_throttled_messages_are_recorded_and_sent_on_a_later_run(settings, sandbox):
    queue_messages(settings.database_url, 5)
    sandbox.faults.set("sms", FaultConfig(busy_rate=1.0))
    result = dispatch_messages(as_of=ANCHOR)
    assert result.get("failed_retrying") == 5
    rows = outbox(settings.database_url)
    assert all(m.status == "failed" and m.retryable and m.last_error for m in rows)
    assert all(m.next_attempt_at > ANCHOR for m in rows)

    sandbox.faults.clear()
    assert dispatch_messages(as_of=ANCHOR + timedelta(minutes=1)).get("sent", 0) == 0, "not yet due"
    later = dispatch_messages(as_of=ANCHOR + timedelta(minutes=10))
    assert later.get("sent") == 5
    assert set(sent_per_key(sandbox).values()) == {1}


@pytest.mark.parametrize(
    ("remaining", "sizes"),
    [(1, [1]), (200, [200]), (201, [101, 100]), (400, [200, 200]), (10_000, [200, 200])],
)
def test_a_run_never_claims_more_than_it_may_send(remaining, sizes):
    from flows.dispatch_messages import batch_sizes

    assert batch_sizes(remaining, 200, 2) == sizes
