"""Platform actions on refunds: the candidates, and each action claimed once before it runs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from aftercare.rules.refunds import WAIT_SELLER_AGREE
from models import Refund, RefundAction, Shop
from models.db import insert_ignore


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


def waiting_for_answer(*, session: Session) -> list[ActionCandidate]:
    """Refunds whose buyer waits for the seller to agree or refuse."""
    rows = session.exec(
        select(Refund, Shop.code, Shop.platform)
        .join(Shop, col(Shop.id) == Refund.shop_id)
        .where(Refund.status == WAIT_SELLER_AGREE)
        .order_by(col(Refund.seller_deadline))
    ).all()
    return [
        ActionCandidate(
            r.shop_id, code, r.refund_id, r.kind, r.status, r.has_good_return, r.refund_fee,
            r.version, platform,
        )
        for r, code, platform in rows
    ]  # fmt: skip


def claim_action(
    *, session: Session, shop_id: int, refund_id: str, action: str, version: int, now: datetime
) -> bool:
    """Claim an action on a refund; False when it was claimed (or done) before."""
    row = {
        "shop_id": shop_id, "refund_id": refund_id, "action": action, "version": version,
        "status": "claimed", "reason": None, "created_at": now, "updated_at": now,
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
