"""Sending the outbox through the SMS provider, exactly once per idempotency key."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from prefect import get_run_logger

from aftercare.clients.errors import AuthenticationError, ProviderError
from aftercare.clock import SendingClock
from aftercare.decryption import PhoneBook, wanted_for
from aftercare.privacy import mask_phone
from aftercare.rules.dispatch import Hold, after_send_failure, hold_at_send, send_window
from aftercare.sending import send_message
from aftercare.settings import Settings, get_settings
from aftercare.shop_context import shop_context
from aftercare.store import outbox
from aftercare.store.batch_writer import BatchWriter
from aftercare.store.dispatch import record_failure, record_hold
from models import OutboxMessage
from models.db import session_scope
from tasks import limits
from tasks.policy import pipeline_task
from tasks.prechecks import live_check


@pipeline_task("send-messages", run_name="send-messages-batch-{batch_no}")
def send_messages(as_of: datetime, batch_no: int, limit: int) -> dict[str, int]:
    """Claim one batch of due messages and send each; every outcome is recorded."""
    settings = get_settings()
    owner = f"send-{uuid.uuid4().hex[:12]}"
    lease = timedelta(minutes=settings.dispatch.lease_minutes)
    gap = timedelta(minutes=settings.care.min_gap_minutes)
    clock = SendingClock(as_of, settings.simulated_now)
    with session_scope(settings.database_url) as session:
        batch = outbox.claim_batch(
            session=session, now=as_of, owner=owner, lease=lease, limit=limit, world=clock.world()
        )
        shops = outbox.senders(session=session, shop_ids={m.shop_id for m in batch})
        # The order's trade id: for the live re-check, and for texting by OAID.
        tids = outbox.order_tids(session=session, order_ids={m.order_id or 0 for m in batch})
        # One message at a time per phone: each non-urgent one reserves its phone for the
        # minimum gap, or waits until the gap after the last message has passed.
        gaps, deferred = outbox.reserve_gaps(
            session=session, batch=batch, owner=owner, now=as_of, gap=gap
        )
    counts: Counter[str] = Counter(claimed=len(batch))
    if deferred:
        counts["deferred_min_gap"] = deferred
    sendable = [
        m for m in batch if m.urgent or not gap or (m.id or 0) in gaps or not outbox.gap_subject(m)
    ]
    contexts = {i: shop_context(settings, s.shop_code, s.timezone) for i, s in shops.items()}
    wanted = wanted_for(sendable, tids, contexts)  # numbers decrypted on first need, 20 a call
    phones = PhoneBook(settings.database_url, limits.taobao(settings), wanted, clock.world)
    with BatchWriter(settings.database_url) as writer:
        for position, message in enumerate(sendable):
            sender = shops[message.shop_id]
            try:
                outcome: str | Hold | None = _hold(settings, message, sender, tids, clock.now())
                if outcome is None:  # sent, failed, or held after all (no route to the buyer)
                    tid = tids.get(message.order_id or 0)
                    outcome = _send_one(
                        settings, message, sender, tid, owner, writer, as_of, clock, phones
                    )
                if isinstance(outcome, Hold):
                    writer.add(
                        partial(record_hold, message_id=message.id or 0, owner=owner, hold=outcome)
                    )
                    outcome = outcome.outcome
            except AuthenticationError:
                writer.flush()
                with session_scope(settings.database_url) as session:
                    rest = [m.id or 0 for m in sendable[position + 1 :]]
                    outbox.defer_all(session=session, message_ids=rest, owner=owner, until=as_of)
                raise
            taken = gaps.get(message.id or 0)
            if taken is not None and outcome not in ("sent", "unknown"):
                # Nothing went out: the phone's gap is given back for the next message.
                writer.add(partial(outbox.give_back_gap, taken=taken))
            counts[outcome] += 1
    return dict(counts)


def _hold(
    settings: Settings, message: OutboxMessage, sender: outbox.Sender, tids: dict[int, str],
    now: datetime,
) -> Hold | None:  # fmt: skip
    """Return why a message is not sent at `now`, the moment it would leave; None: send it."""
    opted_out = False
    if message.category == "marketing":
        with session_scope(settings.database_url) as session:
            opted_out = outbox.opted_out_phone(session=session, phone=message.phone)
    window = send_window(
        settings.quiet_hours, message.category, ZoneInfo(sender.timezone or settings.timezone)
    )
    hold = hold_at_send(expires_at=message.expires_at, window=window, opted_out=opted_out, now=now)
    if hold is None and message.precheck is not None:
        tid = tids.get(message.order_id or 0)
        hold = live_check(settings, message.precheck, sender.shop_code, tid, now)
    return hold


def _send_one(
    settings: Settings,
    message: OutboxMessage,
    sender: outbox.Sender,
    tid: str | None,
    owner: str,
    writer: BatchWriter,
    now: datetime,
    clock: SendingClock,
    phones: PhoneBook,
) -> str | Hold:
    message_id = message.id or 0
    attempted_at = clock.world()  # the provider's day, should the answer be lost
    try:
        biz_id = send_message(
            message, sign_name=sender.sign_name, tid=tid, phones=phones,
            shop=shop_context(settings, sender.shop_code, sender.timezone),
            sms=limits.sms(settings), taobao=limits.taobao(settings),
        )  # fmt: skip
    except ProviderError as error:
        failure = after_send_failure(error, message.attempts, settings.dispatch, now)
        writer.add(
            partial(
                record_failure, message_id=message_id, owner=owner, failure=failure,
                reason=error.reason, now=now, attempted_at=attempted_at,
            )
        )  # fmt: skip
        get_run_logger().warning(
            "message %s to %s: %s (%s)",
            message.id, mask_phone(message.phone), failure.outcome, error.reason,
        )  # fmt: skip
        if isinstance(error, AuthenticationError):
            raise
        return failure.outcome
    if isinstance(biz_id, Hold):
        return biz_id
    writer.add(
        partial(outbox.mark_sent, message_id=message_id, owner=owner, provider_id=biz_id, now=now)
    )
    return "sent"
