"""The staff alert queue: lines queued once, claimed in digests, posted or retried."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from models import StaffAlert
from models.db import claim_rows, insert_ignore


def queue_alerts(*, session: Session, rows: list[dict[str, Any]], now: datetime) -> int:
    """Queue lines (dedupe_key, topic, heading, line); a key queued before is left alone."""
    full = [
        {**row, "status": "pending", "attempts": 0, "created_at": now, "next_attempt_at": now}
        for row in rows
    ]
    return len(insert_ignore(session, StaffAlert, full, keys=["dedupe_key"]))


def claim_due(
    *, session: Session, now: datetime, owner: str, lease: timedelta, limit: int
) -> list[StaffAlert]:
    """Take up to `limit` due lines, oldest first; a run that dies gives them back by the lease."""
    due = col(StaffAlert.next_attempt_at) <= now
    return claim_rows(
        session,
        StaffAlert,
        candidates=select(StaffAlert.id)
        .where(due)
        .order_by(col(StaffAlert.next_attempt_at), col(StaffAlert.id))
        .limit(limit),
        due=due,
        values={"next_attempt_at": now + lease, "claimed_by": owner},
    )


def mark_posted(*, session: Session, ids: list[int], owner: str, now: datetime) -> None:
    """Record lines as posted."""
    session.execute(
        update(StaffAlert)
        .where(col(StaffAlert.id).in_(ids), col(StaffAlert.claimed_by) == owner)
        .values(status="posted", posted_at=now, next_attempt_at=None, claimed_by=None)
    )


def mark_failed(
    *, session: Session, ids: list[int], owner: str, error: str, retry_at: datetime
) -> None:
    """Record a failed post; the lines are due again at retry_at."""
    session.execute(
        update(StaffAlert)
        .where(col(StaffAlert.id).in_(ids), col(StaffAlert.claimed_by) == owner)
        .values(
            attempts=StaffAlert.attempts + 1,
            last_error=error[:500],
            next_attempt_at=retry_at,
            claimed_by=None,
        )
    )


def give_back(*, session: Session, ids: list[int], owner: str, now: datetime) -> None:
    """Return claimed lines unposted (the run's share of the robot's minute was used up)."""
    session.execute(
        update(StaffAlert)
        .where(col(StaffAlert.id).in_(ids), col(StaffAlert.claimed_by) == owner)
        .values(next_attempt_at=now, claimed_by=None)
    )
