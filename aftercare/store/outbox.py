"""The outbox: queueing customer messages once, claiming them to send, recording the result."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, delete, func, update
from sqlmodel import Session, col, select

from aftercare.rules.notices import OAID_SMS, SMS, channel_for
from aftercare.templates import render
from models import ContactGap, OptOut, Order, OutboxMessage, OutboxStatus, Shop
from models.db import claim_rows, insert_ignore

RETRYABLE = (OutboxStatus.PENDING, OutboxStatus.FAILED)
# How a failure reads when the message may have reached the buyer: an operator's resend
# leaves it alone, since sending it again could text the buyer twice.
UNCONFIRMABLE = "whether it was sent cannot be confirmed any more"


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who a message is for and whether it may be sent at all."""

    shop_id: int
    customer_id: int | None
    order_id: int | None
    phone: str | None
    blocked_because: str | None = None
    oaid: str | None = None  # set where the shop may text by OAID


def message_row(
    *,
    key: str,
    template: str,
    params: dict[str, object],
    recipient: Recipient,
    now: datetime,
    case_id: int | None = None,
    suppressed_because: str | None = None,
    urgent: bool = False,
) -> dict[str, Any]:
    """Build an outbox row; a reason not to send makes it a recorded, suppressed message."""
    approved, clean, text = render(template, params)
    # A recipient who cannot be reached is the more fundamental reason; it is shown first.
    reason = recipient.blocked_because or suppressed_because
    by_oaid = channel_for(recipient.phone, False, recipient.oaid) == OAID_SMS
    return {
        "idempotency_key": key,
        "out_id": key,
        "shop_id": recipient.shop_id,
        "customer_id": recipient.customer_id,
        "order_id": recipient.order_id,
        "case_id": case_id,
        "purpose": template,
        "category": approved.kind,
        "urgent": urgent,
        "channel": OAID_SMS if by_oaid else SMS,
        # A masked number is no address: the platform finds the number behind the OAID.
        "phone": None if by_oaid else recipient.phone,
        "oaid": recipient.oaid if by_oaid else None,
        "template_code": approved.code,
        "params": json.dumps(clean, ensure_ascii=False, sort_keys=True),
        "text": text,
        "status": OutboxStatus.SUPPRESSED if reason else OutboxStatus.PENDING,
        "reason": reason,
        "retryable": reason is None,
        "created_at": now,
        "next_attempt_at": None if reason else now,
        "expires_at": None,
        "precheck": None,
    }


def enqueue(*, session: Session, rows: list[dict[str, Any]]) -> int:
    """Queue messages; a key already queued is left as it is. Returns how many were new."""
    return len(insert_ignore(session, OutboxMessage, rows, keys=["idempotency_key"]))


def _due_to_send(now: datetime) -> ColumnElement[bool]:
    return and_(col(OutboxMessage.status).in_(RETRYABLE), col(OutboxMessage.next_attempt_at) <= now)


def due_messages_query(now: datetime, limit: int) -> Select[Any]:
    """Select the ids of messages due to be sent, oldest first, in the order of ix_outbox_due."""
    return (
        select(OutboxMessage.id)
        .where(_due_to_send(now))
        .order_by(col(OutboxMessage.next_attempt_at))
        .limit(limit)
    )


def count_due(*, session: Session, now: datetime, limit: int) -> int:
    """Count the messages due to be sent, up to `limit` (the index answers it)."""
    due = due_messages_query(now, limit).subquery()
    return int(session.exec(select(func.count()).select_from(due)).one())


def claim_batch(
    *,
    session: Session,
    now: datetime,
    owner: str,
    lease: timedelta,
    limit: int,
    world: datetime | None = None,
) -> list[OutboxMessage]:
    """Take up to `limit` messages that are due, marking them as being sent by `owner`.

    `world` is the world's time of the claim: the provider's day a lost answer is looked up on.
    """
    return claim_rows(
        session,
        OutboxMessage,
        candidates=due_messages_query(now, limit),
        due=_due_to_send(now),
        values={
            "status": OutboxStatus.SENDING,
            "claimed_by": owner,
            "claimed_until": now + lease,
            "attempts": OutboxMessage.attempts + 1,
            "last_attempt_at": now,
            "attempted_at": world or now,
        },
    )


def _in_doubt(now: datetime) -> ColumnElement[bool]:
    return and_(
        col(OutboxMessage.status) == OutboxStatus.SENDING, col(OutboxMessage.claimed_until) < now
    )


def in_doubt_query(now: datetime, limit: int) -> Select[Any]:
    """Select the ids of messages whose lease ran out mid-send, oldest lease first."""
    return (
        select(OutboxMessage.id)
        .where(_in_doubt(now))
        .order_by(col(OutboxMessage.claimed_until))
        .limit(limit)
    )


def in_doubt(
    *, session: Session, now: datetime, owner: str, lease: timedelta, limit: int
) -> list[OutboxMessage]:
    """Take messages whose sender vanished or lost the answer, to ask the provider about them."""
    return claim_rows(
        session,
        OutboxMessage,
        candidates=in_doubt_query(now, limit),
        due=_in_doubt(now),
        values={"claimed_by": owner, "claimed_until": now + lease},
    )


def _finish(session: Session, message_id: int, owner: str, **values: Any) -> bool:
    # Only the claim holder may settle a message: a late answer of a dead lease changes nothing.
    result = session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.id) == message_id,
            col(OutboxMessage.claimed_by) == owner,
            col(OutboxMessage.status) == OutboxStatus.SENDING,
        )
        .values(**{"claimed_by": None, "claimed_until": None, **values})
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def mark_sent(
    *, session: Session, message_id: int, owner: str, provider_id: str | None, now: datetime
) -> bool:
    """Record a message as sent with the provider's id."""
    return _finish(
        session,
        message_id,
        owner,
        status=OutboxStatus.SENT,
        provider_message_id=provider_id,
        sent_at=now,
        next_attempt_at=None,
        last_error=None,
    )


def mark_failed(
    *,
    session: Session,
    message_id: int,
    owner: str,
    error: str,
    retry_at: datetime | None,
) -> bool:
    """Record a failure; with retry_at the next run tries again from then, else it stays failed."""
    return _finish(
        session,
        message_id,
        owner,
        status=OutboxStatus.FAILED,
        last_error=error[:500],
        reason=error[:500],
        retryable=retry_at is not None,
        next_attempt_at=retry_at,
    )


def mark_unknown(
    *,
    session: Session,
    message_id: int,
    owner: str,
    error: str,
    check_at: datetime,
    attempted_at: datetime | None = None,
) -> None:
    """Keep a message whose outcome is unknown as sending, to be checked with the provider."""
    values: dict[str, Any] = {
        "claimed_until": check_at,
        "last_error": f"outcome unknown: {error}"[:500],
    }
    if attempted_at is not None:
        values["attempted_at"] = attempted_at
    session.execute(
        update(OutboxMessage)
        .where(col(OutboxMessage.id) == message_id, col(OutboxMessage.claimed_by) == owner)
        .values(**values)
    )


def keep_in_doubt(
    *, session: Session, message_id: int, owner: str, reason: str, check_at: datetime
) -> bool:
    """Leave a message in doubt (sending, unclaimed) with why, to be looked up again later."""
    return _finish(
        session,
        message_id,
        owner,
        claimed_until=check_at,
        last_error=f"in doubt, not resent: {reason}"[:500],
    )


def requeue(*, session: Session, message_id: int, owner: str, now: datetime) -> bool:
    """Queue a message again after the provider confirmed it never sent it."""
    return _finish(session, message_id, owner, status=OutboxStatus.PENDING, next_attempt_at=now)


@dataclass(frozen=True, slots=True)
class Sender:
    """What sending for a shop needs: its SMS signature, code and time zone."""

    sign_name: str
    shop_code: str
    timezone: str | None


def requeue_failed(
    *,
    session: Session,
    start: datetime,
    end: datetime,
    purposes: list[str],
    now: datetime,
    dry_run: bool,
) -> dict[str, int]:
    """Queue again the messages that failed in a window, except those that may have left."""
    failed = [
        col(OutboxMessage.status) == OutboxStatus.FAILED,
        col(OutboxMessage.last_attempt_at) >= start,
        col(OutboxMessage.last_attempt_at) <= end,
    ]
    if purposes:
        failed.append(col(OutboxMessage.purpose).in_(purposes))
    maybe_sent = func.coalesce(OutboxMessage.reason, "").startswith(UNCONFIRMABLE)
    counts: dict[str, int] = {}
    for purpose, unsure in session.exec(select(OutboxMessage.purpose, maybe_sent).where(*failed)):
        label = (
            "left failed (may have been sent)"
            if unsure
            else (f"{'would requeue' if dry_run else 'requeued'} {purpose}")
        )
        counts[label] = counts.get(label, 0) + 1
    if not dry_run:
        session.execute(
            update(OutboxMessage)
            .where(*failed, ~maybe_sent)
            .values(
                status=OutboxStatus.PENDING,
                retryable=True,
                next_attempt_at=now,
                reason="queued again by an operator",
            )
        )
    return counts


def senders(*, session: Session, shop_ids: set[int]) -> dict[int, Sender]:
    """Return the sender details of each shop."""
    if not shop_ids:
        return {}
    shops = session.exec(select(Shop).where(col(Shop.id).in_(shop_ids))).all()
    return {s.id: Sender(s.sms_sign_name, s.code, s.timezone) for s in shops if s.id is not None}


def order_tids(*, session: Session, order_ids: set[int]) -> dict[int, str]:
    """Return the platform trade id of each order."""
    if not order_ids:
        return {}
    rows = session.exec(select(Order.id, Order.tid).where(col(Order.id).in_(order_ids))).all()
    return {order_id: tid for order_id, tid in rows if order_id is not None}


def mark_suppressed(*, session: Session, message_id: int, owner: str, reason: str) -> bool:
    """Record that a claimed message will not be sent, and why."""
    return _finish(
        session,
        message_id,
        owner,
        status=OutboxStatus.SUPPRESSED,
        reason=reason[:500],
        retryable=False,
        next_attempt_at=None,
        attempts=OutboxMessage.attempts - 1,
    )


def defer(*, session: Session, message_id: int, owner: str, until: datetime) -> bool:
    """Put a claimed message back untouched, due again at `until`."""
    return _finish(
        session,
        message_id,
        owner,
        status=OutboxStatus.PENDING,
        attempts=OutboxMessage.attempts - 1,
        next_attempt_at=until,
    )


def defer_all(*, session: Session, message_ids: list[int], owner: str, until: datetime) -> None:
    """Put claimed messages back untouched (a batch stopped before reaching them)."""
    for message_id in message_ids:
        defer(session=session, message_id=message_id, owner=owner, until=until)


def cancel_for_cases(*, session: Session, case_ids: list[int], reason: str, now: datetime) -> int:
    """Suppress the unsent messages of closed cases, with the reason; return how many.

    A message already being sent is left alone: the provider may have it.
    """
    if not case_ids:
        return 0
    result = session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.case_id).in_(case_ids),
            col(OutboxMessage.status).in_(RETRYABLE),
        )
        .values(
            status=OutboxStatus.SUPPRESSED,
            reason=reason[:500],
            retryable=False,
            next_attempt_at=None,
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def counts_by_status(*, session: Session, since: datetime | None = None) -> dict[str, int]:
    """Count messages by status (created since a time, if given)."""
    query = select(OutboxMessage.status, func.count()).group_by(col(OutboxMessage.status))
    if since is not None:
        query = query.where(col(OutboxMessage.created_at) >= since)
    return {status: count for status, count in session.exec(query).all()}


@dataclass(frozen=True, slots=True)
class GapTaken:
    """A phone reserved for one message; what it was before, to give it back if unused."""

    key: str
    at: datetime
    previous: datetime | None


def take_gap(*, session: Session, phone: str, now: datetime, gap: timedelta) -> GapTaken | datetime:
    """Reserve the phone for a message now, or return when the gap after the last one ends.

    The conditional update is atomic, so two dispatchers cannot both pass for the same phone.
    """
    key = hashlib.sha256(f"phone:{phone}".encode()).hexdigest()
    previous = session.exec(select(ContactGap.last_at).where(ContactGap.subject == key)).first()
    if previous is None:
        if insert_ignore(session, ContactGap, [{"subject": key, "last_at": now}], ["subject"]):
            return GapTaken(key, now, None)
    else:
        moved = session.execute(
            update(ContactGap)
            .where(col(ContactGap.subject) == key, col(ContactGap.last_at) <= now - gap)
            .values(last_at=now)
        ).rowcount  # type: ignore[attr-defined]
        if moved:
            return GapTaken(key, now, previous)
    last = session.exec(select(ContactGap.last_at).where(ContactGap.subject == key)).one()
    return last + gap


def gap_subject(message: OutboxMessage) -> str | None:
    """Whom the minimum gap between messages protects: the phone, or the buyer's OAID."""
    if message.phone:
        return message.phone
    return f"oaid:{message.oaid}" if message.oaid else None


def reserve_gaps(
    *, session: Session, batch: list[OutboxMessage], owner: str, now: datetime, gap: timedelta
) -> tuple[dict[int, GapTaken], int]:
    """Reserve each non-urgent message's phone for the gap; defer those whose phone is busy.

    Returns the reservations by message id and how many messages were deferred.
    """
    taken: dict[int, GapTaken] = {}
    deferred = 0
    for message in batch:
        subject = gap_subject(message)
        if message.urgent or not gap or not subject:
            continue
        reserved = take_gap(session=session, phone=subject, now=now, gap=gap)
        if isinstance(reserved, datetime):
            defer(session=session, message_id=message.id or 0, owner=owner, until=reserved)
            deferred += 1
        else:
            taken[message.id or 0] = reserved
    return taken, deferred


def give_back_gap(*, session: Session, taken: GapTaken) -> None:
    """Undo a reservation whose message was not sent after all."""
    if taken.previous is None:
        session.execute(
            delete(ContactGap).where(
                col(ContactGap.subject) == taken.key, col(ContactGap.last_at) == taken.at
            )
        )
    else:
        session.execute(
            update(ContactGap)
            .where(col(ContactGap.subject) == taken.key, col(ContactGap.last_at) == taken.at)
            .values(last_at=taken.previous)
        )


def release_gap(*, session: Session, phone: str, at: datetime, gap: timedelta) -> None:
    """Free a phone reserved at `at` by a message the provider confirmed it never sent.

    The reservation is set back to "last messaged a gap before `at`": whatever came before it
    was at least that long ago, and a later reservation (another message) is left alone.
    """
    key = hashlib.sha256(f"phone:{phone}".encode()).hexdigest()
    session.execute(
        update(ContactGap)
        .where(col(ContactGap.subject) == key, col(ContactGap.last_at) == at)
        .values(last_at=at - gap)
    )


def opted_out_phone(*, session: Session, phone: str | None) -> bool:
    """Tell whether a phone asked for no more marketing."""
    if not phone:
        return False
    found = session.exec(
        select(OptOut.id).where(OptOut.kind == "phone", OptOut.value == phone)
    ).first()
    return found is not None


def existing_keys(*, session: Session, keys: list[str]) -> set[str]:
    """Return which of these idempotency keys are in the outbox already (decided before)."""
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        found.update(
            session.exec(
                select(OutboxMessage.idempotency_key).where(
                    col(OutboxMessage.idempotency_key).in_(chunk)
                )
            ).all()
        )
    return found


def out_id(message: OutboxMessage) -> str:
    """What the provider knows the message by (rows queued before out_id existed: the key)."""
    return message.out_id or message.idempotency_key


def params(message: OutboxMessage) -> dict[str, str]:
    """The template parameters of a queued message."""
    loaded = json.loads(message.params or "{}")
    return {str(k): str(v) for k, v in loaded.items()}
