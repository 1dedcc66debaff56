"""Platform actions on refunds: the candidates, and each action claimed once before it runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import case, delete, func, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from aftercare.rules.refunds import SELLER_TURN
from models import Refund, RefundAction, Shipment, Shop
from models.db import insert_ignore

MOVING = ("info_received", "in_transit", "out_for_delivery")


@dataclass(frozen=True, slots=True)
class ActionCandidate:
    """A refund waiting for the seller's answer, as stored."""

    shop_id: int
    shop_code: str
    refund_id: str
    kind: str
    status: str
    has_good_return: bool
    fee: Decimal
    version: int
    platform: str = "taobao"
    tid: str = ""
    seller_deadline: datetime | None = None
    # When the order's parcel was signed for, as our tracking saw it (None: not known).
    delivered_at: datetime | None = None
    in_transit: bool = False  # our tracking saw it moving, not signed for nor coming back


def waiting_for_answer(
    *, session: Session, shops: list[str] | None = None, refund_id: str | None = None
) -> list[ActionCandidate]:
    """Refunds waiting for the seller: to agree or refuse, or to confirm the goods came back
    (soonest deadline first)."""
    delivered = (
        select(
            Shipment.order_id,
            func.max(Shipment.delivered_at).label("delivered_at"),
            # Seen moving by our tracking (a parcel never checked is not known to be moving).
            func.sum(case((col(Shipment.status).in_(MOVING), 1), else_=0)).label("parcels"),
            func.sum(case((col(Shipment.status).in_(("returned", "refused")), 1), else_=0)).label(
                "back"
            ),
        )
        # Only the parcels of refunds in the seller's turn: not the whole shipments table.
        .where(
            col(Shipment.order_id).in_(
                select(Refund.order_id).where(col(Refund.status).in_(SELLER_TURN))
            )
        )
        .group_by(col(Shipment.order_id))
        .subquery()
    )
    query = (
        sa_select(  # five columns: past what sqlmodel's select types
            Refund,
            col(Shop.code),
            col(Shop.platform),
            delivered.c.delivered_at,
            delivered.c.parcels,
            delivered.c.back,
        )
        .join(Shop, col(Shop.id) == Refund.shop_id)
        .outerjoin(delivered, delivered.c.order_id == Refund.order_id)
        .where(col(Refund.status).in_(SELLER_TURN))
        .order_by(col(Refund.seller_deadline))
    )
    if shops:
        query = query.where(col(Shop.code).in_(shops))
    if refund_id is not None:
        query = query.where(col(Refund.refund_id) == refund_id)
    return [
        ActionCandidate(
            r.shop_id, code, r.refund_id, r.kind, r.status, r.has_good_return, r.refund_fee,
            r.version, platform, r.tid, r.seller_deadline, delivered_at,
            bool(parcels) and delivered_at is None and not back,
        )
        for r, code, platform, delivered_at, parcels, back in session.execute(query).all()
    ]  # fmt: skip


def stuck_actions(*, session: Session, claimed_before: datetime) -> list[tuple[str, RefundAction]]:
    """(shop code, action) of answers claimed but never finished: the process died between
    the claim and the outcome, so whether the platform took it is for a person to check."""
    rows = session.exec(
        select(Shop.code, RefundAction)
        .join(Shop, col(Shop.id) == RefundAction.shop_id)
        .where(RefundAction.status == "claimed", col(RefundAction.updated_at) < claimed_before)
        .order_by(col(RefundAction.updated_at))
    ).all()
    return [(code, action) for code, action in rows]


def claim_action(
    *,
    session: Session,
    shop_id: int,
    refund_id: str,
    action: str,
    version: int,
    now: datetime,
    actor: str = "pipeline",
) -> bool:
    """Claim an action on a refund; False when it was claimed (or done) before."""
    row = {
        "shop_id": shop_id, "refund_id": refund_id, "action": action, "version": version,
        "status": "claimed", "reason": None, "created_at": now, "updated_at": now,
        "actor": actor[:40],
    }  # fmt: skip
    return bool(
        insert_ignore(session, RefundAction, [row], keys=["shop_id", "refund_id", "action"])
    )


def finish_action(
    *,
    session: Session,
    shop_id: int,
    refund_id: str,
    action: str,
    status: str,
    reason: str | None,
    now: datetime,
) -> None:
    """Record how an action ended: done, or failed with its reason (never tried again)."""
    session.execute(
        update(RefundAction)
        .where(
            col(RefundAction.shop_id) == shop_id,
            col(RefundAction.refund_id) == refund_id,
            col(RefundAction.action) == action,
        )
        .values(status=status, reason=(reason or None) and reason[:500], updated_at=now)
    )


def release_action(*, session: Session, shop_id: int, refund_id: str, action: str) -> None:
    """Give a claim back: the refund changed before anything was done, decide again later."""
    session.execute(
        delete(RefundAction).where(
            col(RefundAction.shop_id) == shop_id,
            col(RefundAction.refund_id) == refund_id,
            col(RefundAction.action) == action,
            col(RefundAction.status) == "claimed",
        )
    )


def intercepts_waiting(*, session: Session) -> list[tuple[str, RefundAction]]:
    """(shop code, action) of intercepts asked whose result is not on record yet."""
    rows = session.exec(
        select(Shop.code, RefundAction)
        .join(Shop, col(Shop.id) == RefundAction.shop_id)
        .where(
            RefundAction.action == "intercept",
            RefundAction.status == "done",
            col(RefundAction.reason).is_(None),
        )
    ).all()
    return [(code, action) for code, action in rows]
