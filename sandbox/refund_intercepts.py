"""Intercepting a refunded order's parcel in transit, and what the seller may do now.

`taobao.refund.detail.get` names the actions open to the seller now (`allowed_operations`,
e.g. "agree,refuse,intercept"; the field's shape is our reading) and the intercept's state:
the intercept is offered while the refund waits for the seller and the parcel is on its way
(shipped, not signed). `taobao.rp.refund.intercept` (refund_id, refund_version) asks the
courier to stop it: INTERCEPTING for a day, then INTERCEPT_SUCCESS (coming back to the
shop) or INTERCEPT_FAILED (one in three: already out for delivery).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from .refunds import Refund, Refunds, refused
from .top import TopError, id_param
from .world import WAIT_BUYER_CONFIRM_GOODS

RESULT_AFTER = timedelta(days=1)


def intercept_status(refund: Refund, now: datetime) -> str | None:
    """Where the intercept stands at `now` (None: never asked)."""
    if refund.intercept is None:
        return None
    asked, outcome = refund.intercept
    if now < asked + RESULT_AFTER:
        return "INTERCEPTING"
    return "INTERCEPT_SUCCESS" if outcome == "success" else "INTERCEPT_FAILED"


def operations(desk: Refunds, refund: Refund, now: datetime) -> list[str]:
    """The actions open to the seller now."""
    seen = refund.at(now)
    status = seen[1] if seen else ""
    if status != "WAIT_SELLER_AGREE":
        return ["confirm_receipt", "refuse"] if status == "WAIT_SELLER_CONFIRM_GOODS" else []
    allowed = ["agree", "refuse"]
    trade = desk.world.trade_at(refund.trade.tid, now)
    in_transit = trade is not None and trade.status == WAIT_BUYER_CONFIRM_GOODS
    if in_transit and refund.intercept is None:
        allowed.append("intercept")
    return allowed


def detail(desk: Refunds, shop: Any, params: dict[str, str]) -> dict[str, Any]:
    """`taobao.refund.detail.get`: the seller's options now, and the intercept's state."""
    refund = desk.refunds.get(id_param(params, "refund_id"))
    now = desk.now()
    if refund is None or refund.trade.shop != shop.code or refund.at(now) is None:
        raise TopError(15, "Remote service error", "isv.refund-not-exist", "退款不存在")
    body: dict[str, Any] = {
        "refund_id": refund.refund_id,
        "allowed_operations": ",".join(operations(desk, refund, now)),
    }
    state = intercept_status(refund, now)
    if state:
        body["intercept_status"] = state
    return {"refund_detail": body}


def intercept(desk: Refunds, shop: Any, params: dict[str, str]) -> dict[str, Any]:
    """`taobao.rp.refund.intercept`: ask the courier to stop the parcel (version checked)."""
    refund, now, _ = desk.current(
        shop, id_param(params, "refund_id"), params.get("refund_version", "")
    )
    if "intercept" not in operations(desk, refund, now):
        raise refused("isv.intercept-not-allowed", "当前不可拦截")
    refund.intercept = (now, "failed" if refund.refund_id % 3 == 0 else "success")
    return {"is_success": True}
