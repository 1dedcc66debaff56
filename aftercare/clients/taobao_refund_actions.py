"""The seller's actions on a refund, each passing the refund_version it was decided on.

None is idempotent and none can be looked up after a lost answer: a failure that may have
been processed is raised (never retried here); the caller re-reads the refund instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from aftercare.clients import fields
from aftercare.clients.errors import MalformedResponse, RequestRejected
from aftercare.clients.taobao import TaobaoClient

PROVIDER = "taobao"
# The platform's answer when the refund changed since it was read (compare-and-set).
VERSION_CHANGED = "isv.refund-version-changed"


@dataclass(frozen=True, slots=True)
class ReturnAddress:
    """Where returned goods go: the shop's after-sales address."""

    name: str
    address: str
    mobile: str


def agree_refund(
    client: TaobaoClient, session: str, refund_id: str, amount: str, version: int
) -> None:
    """Agree to refund `amount` (taobao.rp.refunds.agree, one refund)."""
    inner = client.call(
        "taobao.rp.refunds.agree",
        session,
        {"refund_infos": f"{refund_id}|{amount}|{version}"},
        idempotent=False,
    )
    results = (inner.get("results") or {}).get("refund_mapping_result") or []
    if not isinstance(results, list) or not results:
        raise MalformedResponse("refunds.agree: no result", provider=PROVIDER)
    result = results[0]
    if not isinstance(result, dict):
        raise MalformedResponse("refunds.agree: unreadable result", provider=PROVIDER)
    if result.get("succ") is not True:
        raise RequestRejected(
            fields.lenient_text(result.get("message")) or "refused",
            provider=PROVIDER,
            code=fields.lenient_text(result.get("code")),
        )


def agree_return(
    client: TaobaoClient, session: str, refund_id: str, version: int, to: ReturnAddress
) -> None:
    """Agree that the buyer returns the goods to the shop (taobao.rp.returngoods.agree)."""
    client.call(
        "taobao.rp.returngoods.agree",
        session,
        {
            "refund_id": refund_id,
            "refund_version": str(version),
            "name": to.name,
            "address": to.address,
            "mobile": to.mobile,
        },
        idempotent=False,
    )


def refuse_refund(
    client: TaobaoClient, session: str, refund_id: str, version: int, reason: str
) -> None:
    """Refuse a refund with the reason the buyer sees (taobao.refund.refuse)."""
    client.call(
        "taobao.refund.refuse",
        session,
        {"refund_id": refund_id, "refund_version": str(version), "refuse_message": reason},
        idempotent=False,
    )


@dataclass(frozen=True, slots=True)
class RefundDetail:
    """What the seller may do on a refund now, and where an intercept stands."""

    allowed: frozenset[str]
    intercept_status: str | None


def refund_detail(client: TaobaoClient, session: str, refund_id: str) -> RefundDetail:
    """The seller's options now (taobao.refund.detail.get); read, so safe to repeat."""
    inner = client.call("taobao.refund.detail.get", session, {"refund_id": refund_id})
    body = inner.get("refund_detail")
    if not isinstance(body, dict):
        raise MalformedResponse("refund.detail.get: no refund_detail", provider=PROVIDER)
    allowed = fields.lenient_text(body.get("allowed_operations")) or ""
    return RefundDetail(
        frozenset(part.strip() for part in allowed.split(",") if part.strip()),
        fields.lenient_text(body.get("intercept_status")),
    )


def intercept_parcel(client: TaobaoClient, session: str, refund_id: str, version: int) -> None:
    """Ask the courier to stop the parcel in transit (taobao.rp.refund.intercept)."""
    client.call(
        "taobao.rp.refund.intercept",
        session,
        {"refund_id": refund_id, "refund_version": str(version)},
        idempotent=False,
    )
