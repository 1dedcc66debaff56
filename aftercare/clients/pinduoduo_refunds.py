"""Pinduoduo after-sales read as refunds in Taobao's words (`pdd.refund.list.increment.get`).

The platform's `after_sales_status` codes are translated by a table the shop can correct
(`AFTERCARE_REFUNDS__PINDUODUO_STATUSES`): the codes are documented, what each means for the
seller's turn is our reading. A code missing from the table makes that refund unreadable,
recorded with the reason, never guessed. Pinduoduo has no refund version: the update time,
in milliseconds, stands in for it (a newer answer is never replaced by an older one).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aftercare.clients import fields
from aftercare.clients.errors import MalformedResponse
from aftercare.clients.taobao_refunds import RefundRecord
from aftercare.rules.refunds import WITH_RETURN

PROVIDER = "pinduoduo"
# after_sales_type: 3 is 退货退款 (the goods come back); 2 is 仅退款.
RETURN_TYPES = frozenset({3})


def status_of(code: int, returning: bool, statuses: dict[str, str]) -> str:
    """The Taobao word for a code; ValueError naming the setting when the table lacks it."""
    key = f"{code}{WITH_RETURN}" if returning else str(code)
    found = statuses.get(key) or statuses.get(str(code))
    if found is None:
        raise ValueError(
            f"after_sales_status {code} is not in AFTERCARE_REFUNDS__PINDUODUO_STATUSES"
        )
    return found


def parse_after_sale(
    raw: Any, statuses: dict[str, str], deadline: datetime | None = None
) -> RefundRecord:
    """One after-sale of the increment list; MalformedResponse when it cannot be read."""
    try:
        if not isinstance(raw, dict):
            raise TypeError("after-sale is not an object")
        code = fields.integer(raw["after_sales_status"])
        kind = fields.integer(raw.get("after_sales_type") or 0)
        waybill = (fields.optional_text(raw.get("tracking_number")) or "").strip()[:40] or None
        goods_back = kind in RETURN_TYPES
        status = status_of(code, goods_back and waybill is not None, statuses)
        updated = fields.china_time(raw["updated_time"])
        return RefundRecord(
            refund_id=fields.identifier(raw["id"]),
            tid=order_sn(raw["order_sn"]),
            oid=None,
            status=status,
            has_good_return=goods_back,
            good_status="BUYER_RETURNED_GOODS" if goods_back and waybill else None,
            reason=(fields.optional_text(raw.get("after_sale_reason")) or "")[:200],
            refund_fee=fields.amount(yuan(raw.get("refund_amount"))),
            created=fields.china_time(raw["created_time"]),
            modified=updated,
            version=int(updated.timestamp() * 1000),
            seller_deadline=deadline,
            return_company=None,
            return_waybill=waybill if goods_back else None,
            title=(fields.optional_text(raw.get("goods_name")) or "")[:120],
            raw_status=f"after_sales_status={code};after_sales_type={kind}",
        )
    except (KeyError, TypeError, ValueError) as error:
        key = raw.get("id") if isinstance(raw, dict) else None
        raise MalformedResponse(
            f"unreadable after-sale {fields.lenient_text(key) or '?'}: "
            f"{type(error).__name__} {error}",
            provider=PROVIDER,
        ) from None


def expire_time(inner: Any) -> datetime | None:
    """The seller's deadline of `pdd.refund.information.get` (only while it is their turn)."""
    if not isinstance(inner, dict) or inner.get("expire_time") in (None, "", 0):
        return None
    try:
        return datetime.fromtimestamp(fields.integer(inner["expire_time"]), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        raise MalformedResponse("unreadable expire_time", provider=PROVIDER) from None


def order_sn(value: Any) -> str:
    """An order number as the platform writes it; ValueError when it cannot be one."""
    sn = fields.text(value).strip()
    if not sn or len(sn) > 32:
        raise ValueError("bad order_sn")
    return sn


def yuan(value: Any) -> Any:
    """An amount in yuan as text; a JSON number is read with two decimals (never 19.899999)."""
    return f"{value:.2f}" if isinstance(value, float) else value
