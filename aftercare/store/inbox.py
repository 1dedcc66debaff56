"""The push inbox: store verified pushes, claim them in batches, mark them processed."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, insert, or_, update
from sqlmodel import Session, col, select

from models import Shipment, TrackingPush
from models.db import claim


def store_push(*, session: Session, param: str, now: datetime) -> int:
    """Store one verified push as received; return its id."""
    head: dict[str, Any] = {}
    try:
        body = json.loads(param)
        last = body.get("lastResult") if isinstance(body, dict) else None
        head = {
            "status": str(body.get("status", ""))[:20],
            "courier": str((last or {}).get("com", ""))[:30] if isinstance(last, dict) else "",
            "waybill": str((last or {}).get("nu", ""))[:64] if isinstance(last, dict) else "",
        }
    except (ValueError, AttributeError):  # kept all the same: the drain records the reason
        head = {}
    result = session.execute(
        insert(TrackingPush)
        .values(received_at=now, param=param, **head)
        .returning(col(TrackingPush.id))
    )
    return int(result.scalar_one())


def _waiting(now: datetime) -> Any:
    return and_(
        col(TrackingPush.processed_at).is_(None),
        or_(col(TrackingPush.claimed_until).is_(None), col(TrackingPush.claimed_until) < now),
    )


def waiting_pushes_query(now: datetime, limit: int) -> Select[Any]:
    """Select the ids of pushes waiting for the drain, oldest first."""
    return select(TrackingPush.id).where(_waiting(now)).order_by(col(TrackingPush.id)).limit(limit)


def claim_pushes(
    *, session: Session, now: datetime, owner: str, lease: timedelta, limit: int
) -> list[TrackingPush]:
    """Take a batch of waiting pushes for this drain (others skip them)."""
    ids = claim(
        session,
        TrackingPush,
        candidates=waiting_pushes_query(now, limit),
        due=_waiting(now),
        values={"claimed_by": owner, "claimed_until": now + lease},
    )
    if not ids:
        return []
    return list(session.exec(select(TrackingPush).where(col(TrackingPush.id).in_(ids))))


def finish_pushes(
    *, session: Session, errors: dict[int, str | None], owner: str, now: datetime
) -> None:
    """Mark pushes processed, with the reason for those that could not be used."""
    for push_id, error in errors.items():
        session.execute(
            update(TrackingPush)
            .where(col(TrackingPush.id) == push_id, col(TrackingPush.claimed_by) == owner)
            .values(processed_at=now, claimed_until=None, error=(error or None) and error[:500])
        )


def shipments_by_waybill(
    *, session: Session, keys: set[tuple[str, str]]
) -> dict[tuple[str, str], int]:
    """Find shipment ids by (Kuaidi100 courier code, waybill)."""
    if not keys:
        return {}
    rows = session.exec(
        select(Shipment.id, Shipment.courier, Shipment.waybill).where(
            col(Shipment.waybill).in_({w for _, w in keys})
        )
    ).all()
    return {(c or "", w): i for i, c, w in rows if i is not None and (c or "", w) in keys}


def mark_aborted(*, session: Session, shipment_ids: list[int], resubscribe_at: datetime) -> None:
    """Remember that Kuaidi100 stopped pushing; the subscription is renewed at resubscribe_at."""
    if shipment_ids:
        session.execute(
            update(Shipment)
            .where(col(Shipment.id).in_(shipment_ids))
            .values(subscription="aborted", subscribe_due_at=resubscribe_at)
        )
