"""Reships (补发): a new parcel for an order, tracked like any other and told to the buyer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from aftercare.rules.couriers import courier_code, waybill_problem
from aftercare.store.cases import add_history
from models import AfterSalesCase, Order, Shipment, Shop
from models.db import insert_ignore


class ReshipRefused(ValueError):
    """The reship cannot be recorded as given; the message says why."""


@dataclass(frozen=True, slots=True)
class Reship:
    """A recorded reship, with what the buyer's message needs."""

    shipment_id: int
    shop_id: int
    shop_code: str
    shop_name: str
    sms_enabled: bool
    order: Order
    courier_name: str
    waybill: str
    cases: int  # open cases of the order it was noted on


def record_reship(
    *,
    session: Session,
    shop: str,
    tid: str,
    courier_name: str,
    waybill: str,
    agent: str,
    now: datetime,
) -> Reship:
    """Open the new parcel for tracking and note it on the order's open cases."""
    courier_name, waybill = courier_name.strip()[:60], waybill.strip()
    problem = waybill_problem(waybill)
    if problem:
        raise ReshipRefused(problem)
    if not courier_name:
        raise ReshipRefused("name the courier, as the platform does (e.g. 中通快递)")
    found = session.exec(
        select(Order, Shop).join(Shop, col(Shop.id) == Order.shop_id)
        .where(Shop.code == shop, Order.tid == tid)
    ).first()  # fmt: skip
    if found is None:
        raise ReshipRefused(f"no order {tid} in shop {shop}")
    order, store = found
    row = {
        "shop_id": store.id, "order_id": order.id, "courier_name": courier_name,
        "courier": courier_code(courier_name), "waybill": waybill, "shipped_at": now,
        "province": order.province, "city": order.city,
        "status": "pending", "next_check_at": now,
        "subscribe_due_at": now if courier_code(courier_name) else None,
        "created_at": now, "updated_at": now,
    }  # fmt: skip
    if not insert_ignore(session, Shipment, [row], keys=["courier_name", "waybill"]):
        raise ReshipRefused(f"{courier_name} {waybill} is recorded already")
    shipment_id = session.exec(
        select(Shipment.id).where(
            Shipment.courier_name == courier_name, Shipment.waybill == waybill
        )
    ).one()
    cases = session.exec(
        select(AfterSalesCase.id).where(
            AfterSalesCase.order_id == order.id, AfterSalesCase.state == "open"
        )
    ).all()
    for case_id in cases:
        add_history(
            session=session, case_id=case_id or 0, action="reshipped",
            note=f"补发 {courier_name} {waybill}（{agent}）", now=now,
        )  # fmt: skip
    return Reship(
        shipment_id or 0,
        store.id or 0,
        store.code,
        store.name,
        store.sms_enabled,
        order,
        courier_name,
        waybill,
        len(cases),
    )
