"""The push inbox: store verified pushes, claim them in batches, mark them processed."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, or_, update
from sqlmodel import Session, col, select

from aftercare import bounded_json
from models import Shipment, TrackingPush
from models.db import claim_rows, insert_ignore


def push_digest(param: str) -> str:
    """Return the SHA-256 of a push's signed param, which identifies the push."""
    return hashlib.sha256(param.encode("utf-8", "surrogatepass")).hexdigest()


def store_push(*, session: Session, param: str, now: datetime) -> int | None:
    """Store one verified push as received; return its id, or None when it came before."""
    inserted = insert_ignore(session, TrackingPush, [_push_row(param, now)], keys=["digest"])
    return int(inserted[0]) if inserted else None


def store_pushes(*, session: Session, pushes: list[tuple[str, datetime]]) -> int:
    """Store verified pushes (param, received at) in one go; return how many were new."""
    # Kuaidi100 pushes again when our answer was lost: the same signed param is kept once.
    rows = {row["digest"]: row for row in (_push_row(p, at) for p, at in pushes)}
    return len(insert_ignore(session, TrackingPush, list(rows.values()), keys=["digest"]))


def _push_row(param: str, now: datetime) -> dict[str, Any]:
    head: dict[str, Any] = {}
    try:
        body = bounded_json.loads(param)
        last = body.get("lastResult") if isinstance(body, dict) else None
        head = {
            "status": str(body.get("status", ""))[:20],
            "courier": str((last or {}).get("com", ""))[:30] if isinstance(last, dict) else "",
            "waybill": str((last or {}).get("nu", ""))[:64] if isinstance(last, dict) else "",
        }
    except (ValueError, AttributeError):  # kept all the same: the drain records the reason
        head = {}
    row = {"courier": "", "waybill": "", "status": "", **head}
    return row | {"received_at": now, "param": param, "digest": push_digest(param)}


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
    return claim_rows(
        session,
        TrackingPush,
        candidates=waiting_pushes_query(now, limit),
        due=_waiting(now),
        values={"claimed_by": owner, "claimed_until": now + lease},
    )


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
