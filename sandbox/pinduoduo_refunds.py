"""Pinduoduo's after-sales over the world's refunds: the increment list and one after-sale.

`pdd.refund.list.increment.get` lists a shop's after-sales updated in at most 30 minutes
(`start_updated_at`/`end_updated_at`, Unix seconds; `after_sales_status` and
`after_sales_type` 1 for all), paged, money in yuan as text, times as Beijing time.
`pdd.refund.information.get` reads one (`after_sales_id`, `order_sn`): money in fen, times
as Unix seconds, and `expire_time` only while the seller must act. Statuses are the
documented codes: 2 refund / 3 return waiting on the seller (3 again once the goods are on
their way back, with the return waybill), 6 refused, 7 waiting for the buyer to send the
goods, 10 refunded, 11 withdrawn by the buyer.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from .refunds import Refund, Refunds
from .wire import china_time
from .world import Trade

MAX_WINDOW = timedelta(minutes=30)
CODES = {
    "WAIT_BUYER_RETURN_GOODS": 7, "WAIT_SELLER_CONFIRM_GOODS": 3, "SELLER_REFUSE_BUYER": 6,
    "CLOSED": 11, "SUCCESS": 10,
}  # fmt: skip


def order_sn(trade: Trade) -> str:
    """An order number in Pinduoduo's shape: the order day, a dash, digits."""
    return f"{trade.created.astimezone(UTC):%y%m%d}-{trade.tid}"


class BadParameter(ValueError):
    """A parameter the gateway refuses, with its message."""


def code_of(refund: Refund, status: str) -> int:
    """The after_sales_status code of a desk status."""
    if status == "WAIT_SELLER_AGREE":
        return 3 if refund.has_good_return else 2
    return CODES[status]


def increment(desk: Refunds, shop: str, params: dict[str, str], now: datetime) -> dict[str, Any]:
    """The increment list's body; BadParameter for a window or page the gateway refuses."""
    try:
        start = datetime.fromtimestamp(int(params["start_updated_at"]), UTC)
        end = datetime.fromtimestamp(int(params["end_updated_at"]), UTC)
        page = int(params.get("page", "1"))
        size = int(params.get("page_size", "100"))
        int(params["after_sales_status"]), int(params["after_sales_type"])
    except (KeyError, ValueError):
        raise BadParameter("参数错误") from None
    if not start <= end or end - start > MAX_WINDOW:
        raise BadParameter("时间跨度不能超过30分钟")
    if page < 1 or not 1 <= size <= 100:
        raise BadParameter("page_size最大100")
    listed = []
    for refund in desk.refunds.values():
        seen = refund.at(now)
        if refund.trade.shop == shop and seen and start <= seen[0] <= end:
            listed.append((seen[0], refund))
    listed.sort(key=lambda item: (item[0], item[1].refund_id))
    chosen = listed[(page - 1) * size : page * size]
    return {"total_count": len(listed), "refund_list": [render(r, now) for _, r in chosen]}


def information(desk: Refunds, shop: str, params: dict[str, str], now: datetime) -> dict[str, Any]:
    """One after-sale as `pdd.refund.information.get` has it; LookupError when not the shop's."""
    key = params.get("after_sales_id", "")
    refund = desk.refunds.get(int(key)) if key.isdigit() else None
    seen = refund.at(now) if refund is not None and refund.trade.shop == shop else None
    if refund is None or seen is None or order_sn(refund.trade) != params.get("order_sn"):
        raise LookupError("售后单不存在")
    status = seen[1]
    deadline = refund.deadlines.get(status)
    waiting = status in ("WAIT_SELLER_AGREE", "WAIT_SELLER_CONFIRM_GOODS")
    return {
        "id": refund.refund_id,
        "order_sn": order_sn(refund.trade),
        "after_sales_status": code_of(refund, status),
        "after_sales_type": 3 if refund.has_good_return else 2,
        "after_sales_reason": refund.reason,
        "refund_amount": int(Decimal(refund.refund_fee) * 100),
        "shipping_status": 1 if refund.trade.consign_time else 0,
        "recreated_at": int(refund.created.timestamp()),
        "express_no": _return_waybill(refund, now) or "",
        "speed_refund_flag": 0,
        "expire_time": int(deadline.timestamp()) if waiting and deadline else None,
    }


def render(refund: Refund, now: datetime) -> dict[str, Any]:
    """An after-sale as the increment list renders it."""
    seen = refund.at(now)
    assert seen is not None
    modified, status = seen
    line = refund.trade.lines[0]
    body: dict[str, Any] = {
        "id": refund.refund_id,
        "order_sn": order_sn(refund.trade),
        "after_sales_status": code_of(refund, status),
        "after_sales_type": 3 if refund.has_good_return else 2,
        "after_sale_reason": refund.reason,
        "refund_amount": refund.refund_fee,
        "order_amount": refund.trade.payment,
        "goods_name": line.title,
        "goods_number": str(line.num),
        "goods_price": str(line.price),
        "created_time": china_time(refund.created),
        "updated_time": china_time(modified),
        "speed_refund_flag": 0,
    }
    waybill = _return_waybill(refund, now)
    if waybill:
        body["tracking_number"] = waybill
    return body


def _return_waybill(refund: Refund, now: datetime) -> str | None:
    parcel = refund.return_parcel
    return parcel[2] if parcel is not None and parcel[0] <= now else None
