"""Every buyer message's idempotency key, one function per kind of message.

A key is `<pipeline>:<shop>:<what it is about>:<which message>`. What it is about is named by
ids that say nothing about the buyer (order number, courier and waybill, review id, member
record id), so a key outlives the retention purge without keeping personal data.
"""

from __future__ import annotations


def logistics_notice(shop: str, courier: str, waybill: str, kind: str, severity: str) -> str:
    """The buyer's notice of one anomaly of a parcel, at one severity."""
    return f"logistics:{shop}:{courier}:{waybill}:{kind}:{severity}"


def unpaid_reminder(shop: str, tid: str, stage: str) -> str:
    """One reminder stage of an unpaid order."""
    return f"unpaid:{shop}:{tid}:{stage}"


def review_first_contact(shop: str, oid: str) -> str:
    """The first message about a neutral or bad review."""
    return f"review:{shop}:{oid}:first-contact"


def review_followup(shop: str, oid: str, message: str, attempt: int) -> str:
    """A later message about a review, after the agent's attempt-th contact."""
    return f"review:{shop}:{oid}:{message}:{attempt}"


def order_care(shop: str, tid: str, touchpoint: str) -> str:
    """A care notice about an order (shipped, delivered, revisit, receipt thanks)."""
    return f"care:{shop}:{tid}:{touchpoint}"


def birthday_greeting(shop: str, member: int, year: int) -> str:
    """A member's birthday greeting of one year."""
    return f"care:{shop}:member-{member}:birthday:{year}"


def holiday_greeting(shop: str, member: int, holiday: str, year: int) -> str:
    """A member's greeting for one holiday of one year."""
    return f"care:{shop}:member-{member}:holiday:{holiday}:{year}"


def new_product_preview(shop: str, member: int, campaign: str) -> str:
    """A member's preview of one campaign's new product."""
    return f"care:{shop}:member-{member}:new_product:{campaign}"


def refund_opened(shop: str, refund_id: str) -> str:
    """The buyer's first word from the shop on a refund request."""
    return f"refund:{shop}:{refund_id}:opened"


def reship(shop: str, courier: str, waybill: str) -> str:
    """The buyer's word of a new parcel sent in place of one lost, short or wrong."""
    return f"reship:{shop}:{courier}:{waybill}:sent"
