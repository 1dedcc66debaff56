"""Recording the dispatcher's decisions about claimed messages."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session

from aftercare.rules.dispatch import Hold, SendFailure, Settlement
from aftercare.store import outbox
from models import OutboxMessage


def record_hold(*, session: Session, message_id: int, owner: str, hold: Hold) -> None:
    """Defer a held message until its time, fail it to retry later, or suppress it."""
    if hold.until is not None:
        outbox.defer(session=session, message_id=message_id, owner=owner, until=hold.until)
    elif hold.retry_at is not None:
        outbox.mark_failed(
            session=session,
            message_id=message_id,
            owner=owner,
            error=hold.reason or "",
            retry_at=hold.retry_at,
        )
    else:
        outbox.mark_suppressed(
            session=session, message_id=message_id, owner=owner, reason=hold.reason or ""
        )


def record_failure(
    *,
    session: Session,
    message_id: int,
    owner: str,
    failure: SendFailure,
    reason: str,
    now: datetime,
    attempted_at: datetime,
) -> None:
    """Record a failed send: in doubt (ask the provider first) or failed, maybe to retry."""
    if failure.outcome == "unknown":
        outbox.mark_unknown(
            session=session,
            message_id=message_id,
            owner=owner,
            error=reason,
            check_at=now,
            attempted_at=attempted_at,
        )
    else:
        outbox.mark_failed(
            session=session,
            message_id=message_id,
            owner=owner,
            error=reason,
            retry_at=failure.retry_at,
        )


def record_settlement(
    *,
    session: Session,
    message: OutboxMessage,
    owner: str,
    settled: Settlement,
    now: datetime,
    check_at: datetime,
    horizon_days: int,
    gap: timedelta,
) -> None:
    """Record what the provider's listing said of a message in doubt."""
    message_id = message.id or 0
    if settled.outcome == "unconfirmable":
        reason = settled.reason or (
            f"{outbox.UNCONFIRMABLE} (the provider lists sends of the last {horizon_days} "
            "days); not resent"
        )
        outbox.mark_failed(
            session=session, message_id=message_id, owner=owner, error=reason, retry_at=None
        )
    elif settled.outcome == "lookup_failed":
        outbox.keep_in_doubt(
            session=session,
            message_id=message_id,
            owner=owner,
            reason=settled.reason or "",
            check_at=check_at,
        )
    elif settled.outcome == "confirmed_sent":
        outbox.mark_sent(
            session=session,
            message_id=message_id,
            owner=owner,
            provider_id=settled.provider_id,
            now=now,
        )
    else:
        requeued = outbox.requeue(session=session, message_id=message_id, owner=owner, now=now)
        if requeued and message.phone and message.last_attempt_at and not message.urgent:
            # Never sent: the phone it reserved must not hold its own resend back.
            outbox.release_gap(
                session=session, phone=message.phone, at=message.last_attempt_at, gap=gap
            )
