"""TOP refunds: parsing `taobao.refunds.receive.get` and `taobao.refund.get` answers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from aftercare.clients import fields
from aftercare.clients.errors import MalformedResponse
from aftercare.clients.listing import readable

PROVIDER = "taobao"
REFUND_FIELDS = (
    "refund_id,tid,oid,title,buyer_nick,total_fee,refund_fee,status,order_status,"
    "has_good_return,good_status,reason,created,modified,refund_version,refund_phase,"
    "refund_remind_timeout,company_name,sid"
)


@dataclass(frozen=True, slots=True)
class RefundRecord:
    """A refund as the platform has it now, with the seller's deadline where one runs."""

    refund_id: str
    tid: str
    oid: str | None
    status: str
    has_good_return: bool
    good_status: str | None
    reason: str
    refund_fee: Decimal
    created: datetime
    modified: datetime
    version: int
    seller_deadline: datetime | None
    return_company: str | None
    return_waybill: str | None
    title: str
    # The platform's own words where they differ from the status above (Pinduoduo's codes).
    raw_status: str | None = None


@dataclass(frozen=True, slots=True)
class RefundPage:
    """One page of refunds and (refund_id, reason) of those that could not be read."""

    refunds: tuple[RefundRecord, ...]
    total_results: int | None
    rejected: tuple[tuple[str, str], ...] = ()


def parse_refund(raw: Any) -> RefundRecord:
    """Read one refund; MalformedResponse when its id, trade, status or times are missing."""
    try:
        if not isinstance(raw, dict):
            raise TypeError("refund is not an object")
        timeout = raw.get("refund_remind_timeout") or {}
        if not isinstance(timeout, dict):
            raise TypeError("refund_remind_timeout is not an object")
        deadline = (
            fields.optional_china_time(timeout.get("timeout"))
            if timeout.get("exist_timeout") is True
            else None
        )
        status = fields.text(raw["status"]).strip()
        if not status.isupper() or len(status) > 40:
            raise ValueError(f"status {status[:40]!r}")
        return RefundRecord(
            refund_id=fields.identifier(raw["refund_id"]),
            tid=fields.identifier(raw["tid"]),
            oid=None if raw.get("oid") in (None, "") else fields.identifier(raw["oid"]),
            status=status,
            has_good_return=raw.get("has_good_return") is True,
            good_status=fields.optional_text(raw.get("good_status")),
            reason=(fields.optional_text(raw.get("reason")) or "")[:200],
            refund_fee=fields.amount(raw.get("refund_fee")),
            created=fields.china_time(raw["created"]),
            modified=fields.china_time(raw["modified"]),
            version=fields.integer(raw.get("refund_version") or 0),
            seller_deadline=deadline,
            return_company=fields.optional_text(raw.get("company_name")),
            return_waybill=(fields.optional_text(raw.get("sid")) or "").strip()[:40] or None,
            title=(fields.optional_text(raw.get("title")) or "")[:120],
        )
    except (KeyError, TypeError, ValueError) as error:
        key = raw.get("refund_id") if isinstance(raw, dict) else None
        raise MalformedResponse(
            f"unreadable refund {fields.lenient_text(key) or '?'}: {type(error).__name__} {error}",
            provider=PROVIDER,
        ) from None


def parse_refund_page(inner: Any) -> RefundPage:
    """Parse a refunds.receive.get answer; one unreadable refund does not cost the page."""
    if not isinstance(inner, dict):
        raise MalformedResponse("refunds answer is not an object", provider=PROVIDER)
    listing = inner.get("refunds") or {}
    if isinstance(listing, dict):
        listing = listing.get("refund") or []
    if not isinstance(listing, list):
        raise MalformedResponse("refunds is not a list", provider=PROVIDER)
    refunds, rejected = readable(listing, parse_refund, "refund_id")
    total = inner.get("total_results")
    return RefundPage(
        tuple(refunds), None if total is None else fields.integer(total), tuple(rejected)
    )
