"""After-sales cases: reading what is on file and writing changes with their history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select as sa_select  # more than four columns
from sqlalchemy import update
from sqlmodel import Session, col, select

from aftercare.rules.anomalies import AnomalyKind, Severity, ShipmentFacts
from aftercare.rules.cases import CaseChange, ExistingCase
from aftercare.rules.playbook import play_for
from aftercare.rules.tracking import ShipmentStatus
from aftercare.store.outbox import cancel_for_cases
from models import AfterSalesCase, CaseEvent, Order, Shipment, Shop
from models.db import insert_ignore


@dataclass(frozen=True, slots=True)
class ParcelForReview:
    """A parcel with its order, shop and cases on file: everything the case rules need."""

    shipment_id: int
    order_id: int
    customer_id: int
    shop_id: int
    shop_code: str
    shop_name: str
    sms_sign_name: str
    sms_enabled: bool
    courier_name: str
    waybill: str
    phone: str | None
    phone_masked: bool
    facts: ShipmentFacts
    cases: dict[AnomalyKind, ExistingCase]
    oaid: str | None = None

    @property
    def business_key(self) -> str:
        """Identify the parcel across databases: shop, courier and waybill."""
        return f"{self.shop_code}:{self.courier_name}:{self.waybill}"

    def case_key(self, kind: AnomalyKind) -> str:
        """Return the unique key of this parcel's case of one kind."""
        return f"logistics:{self.business_key}:{kind}"


def load_parcels(*, session: Session, ids: list[int]) -> list[ParcelForReview]:
    """Load the parcels to review with their cases, in two queries."""
    # Columns, not entities: building three ORM objects per parcel cost more than the review.
    rows = session.execute(
        sa_select(
            col(Shipment.id),
            col(Shipment.shipped_at),
            col(Shipment.status),
            col(Shipment.courier_state),
            col(Shipment.event_count),
            col(Shipment.last_event_at),
            col(Shipment.province),
            col(Shipment.signed_by_proxy),
            col(Shipment.courier),
            col(Shipment.check_error_count),
            col(Shipment.courier_name),
            col(Shipment.waybill),
            col(Order.id).label("order_id"),
            col(Order.customer_id),
            col(Order.receiver_phone),
            col(Order.phone_masked),
            col(Order.oaid),
            col(Shop.id).label("shop_id"),
            col(Shop.code),
            col(Shop.name),
            col(Shop.sms_sign_name),
            col(Shop.sms_enabled),
        )
        .join(Order, col(Order.id) == Shipment.order_id)
        .join(Shop, col(Shop.id) == Shipment.shop_id)
        .where(col(Shipment.id).in_(ids))
        .order_by(col(Shipment.id))
    ).all()
    cases: dict[int, dict[AnomalyKind, ExistingCase]] = {}
    for shipment_id, kind_name, severity, state in session.execute(
        sa_select(
            col(AfterSalesCase.shipment_id),
            col(AfterSalesCase.kind),
            col(AfterSalesCase.severity),
            col(AfterSalesCase.state),
        ).where(col(AfterSalesCase.shipment_id).in_(ids))
    ):
        kind = AnomalyKind(kind_name)
        existing = ExistingCase(kind, Severity(severity), state == "open")
        cases.setdefault(shipment_id or 0, {})[kind] = existing
    parcels = []
    for row in rows:
        facts = ShipmentFacts(
            shipped_at=row.shipped_at,
            status=ShipmentStatus(row.status),
            courier_state=row.courier_state,
            event_count=row.event_count,
            last_event_at=row.last_event_at,
            province=row.province,
            signed_by_proxy=row.signed_by_proxy,
            courier_known=row.courier is not None,
            check_failures=row.check_error_count,
        )
        parcels.append(
            ParcelForReview(
                shipment_id=row.id,
                order_id=row.order_id,
                customer_id=row.customer_id,
                shop_id=row.shop_id,
                shop_code=row.code,
                shop_name=row.name,
                sms_sign_name=row.sms_sign_name,
                sms_enabled=row.sms_enabled,
                courier_name=row.courier_name,
                waybill=row.waybill,
                phone=row.receiver_phone,
                phone_masked=row.phone_masked,
                oaid=row.oaid,
                facts=facts,
                cases=cases.get(row.id, {}),
            )
        )
    return parcels


def apply_changes(
    *,
    session: Session,
    plans: list[tuple[ParcelForReview, list[CaseChange]]],
    now: datetime,
) -> dict[str, int]:
    """Write the case changes of many parcels in a few statements; return case ids by key."""
    plans = [(parcel, changes) for parcel, changes in plans if changes]
    if not plans:
        return {}
    opened = [
        {
            "case_key": parcel.case_key(c.kind),
            "shop_id": parcel.shop_id,
            "order_id": parcel.order_id,
            "shipment_id": parcel.shipment_id,
            "kind": c.kind.value,
            "severity": c.severity.value,
            "state": "open",
            "next_action": play_for(c.kind, c.severity).next_action,
            "next_action_at": now + play_for(c.kind, c.severity).due_in,
            "summary": f"{c.note}。{play_for(c.kind, c.severity).instruction}",
            "opened_at": now,
            "updated_at": now,
        }
        for parcel, changes in plans
        for c in changes
        if c.action == "opened"
    ]
    insert_ignore(session, AfterSalesCase, opened, keys=["case_key"])
    keys = [parcel.case_key(c.kind) for parcel, changes in plans for c in changes]
    ids = {
        key: case_id
        for key, case_id in session.exec(
            select(AfterSalesCase.case_key, AfterSalesCase.id).where(
                col(AfterSalesCase.case_key).in_(keys)
            )
        ).all()
        if case_id is not None
    }
    updates, history = [], []
    for parcel, changes in plans:
        for change in changes:
            case_id = ids[parcel.case_key(change.kind)]
            history.append(
                {"case_id": case_id, "at": now, "action": change.action, "note": change.note}
            )
            if change.action in ("escalated", "reopened"):
                play = play_for(change.kind, change.severity)
                updates.append(
                    {
                        "id": case_id,
                        "state": "open",
                        "severity": change.severity.value,
                        "next_action": play.next_action,
                        "next_action_at": now + play.due_in,
                        "summary": f"{change.note}。{play.instruction}",
                        "closed_at": None,
                        "close_reason": None,
                        "updated_at": now,
                    }
                )
            elif change.action == "closed":
                updates.append(
                    {
                        "id": case_id,
                        "state": "closed",
                        "severity": change.severity.value,
                        "next_action": None,
                        "next_action_at": None,
                        "summary": "",
                        "closed_at": now,
                        "close_reason": change.note,
                        "updated_at": now,
                    }
                )
    closing = [u for u in updates if u["state"] == "closed"]
    reopening = [u for u in updates if u["state"] == "open"]
    if closing:  # a closed case keeps its summary
        session.execute(
            update(AfterSalesCase),
            [{k: v for k, v in u.items() if k != "summary"} for u in closing],
        )
        # A notice about a problem that has cleared (the parcel arrived) must not go out.
        for reason in {u["close_reason"] for u in closing}:
            cancel_for_cases(
                session=session,
                case_ids=[int(str(u["id"])) for u in closing if u["close_reason"] == reason],
                reason=f"its case was closed before it was sent ({reason})",
                now=now,
            )
    if reopening:
        session.execute(update(AfterSalesCase), reopening)
    session.execute(CaseEvent.__table__.insert(), history)  # type: ignore[attr-defined]
    return ids


def add_history(*, session: Session, case_id: int, action: str, note: str, now: datetime) -> None:
    """Append one entry to a case's history."""
    session.add(CaseEvent(case_id=case_id, at=now, action=action, note=note))


@dataclass(frozen=True, slots=True)
class UrgentParcel:
    """A parcel case staff must hear about at once (the parcel is on its way back)."""

    case_id: int
    shop_code: str
    kind: str
    courier_name: str
    waybill: str


def unalerted_parcel_cases(
    *, session: Session, kinds: tuple[str, ...], since: datetime
) -> list[UrgentParcel]:
    """Open parcel cases of these kinds, opened since then, staff have not been told about."""
    rows = session.execute(
        sa_select(
            col(AfterSalesCase.id),
            col(Shop.code),
            col(AfterSalesCase.kind),
            col(Shipment.courier_name),
            col(Shipment.waybill),
        )
        .join(Shipment, col(Shipment.id) == AfterSalesCase.shipment_id)
        .join(Shop, col(Shop.id) == AfterSalesCase.shop_id)
        .where(
            col(AfterSalesCase.kind).in_(kinds),
            col(AfterSalesCase.state) == "open",
            col(AfterSalesCase.alerted_at).is_(None),
            col(AfterSalesCase.opened_at) >= since,
        )
        .order_by(col(AfterSalesCase.id))
    ).all()
    return [
        UrgentParcel(i or 0, code, kind, courier, bill) for i, code, kind, courier, bill in rows
    ]
