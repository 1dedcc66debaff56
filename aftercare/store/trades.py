"""Saving synced trades: customers, orders, items and the shipments they create."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import tuple_, update
from sqlmodel import Session, col, select

from aftercare.clients.taobao import TradeRecord
from aftercare.phones import phone_or_none, phone_tail
from aftercare.rules.anomalies import AnomalyKind, Severity
from aftercare.rules.couriers import courier_code, waybill_problem
from aftercare.rules.playbook import play_for
from aftercare.rules.reminders import UNPAID, StagePlan
from models import AfterSalesCase, Customer, Order, OrderItem, Shipment, SyncCursor
from models.db import insert_ignore, upsert

CLOSED_STATUSES = ("TRADE_CLOSED", "TRADE_CLOSED_BY_TAOBAO")
# Shipped and not yet settled: a parcel should be on its way (partial shipments aside).
SHIPPED_STATUSES = ("WAIT_BUYER_CONFIRM_GOODS", "TRADE_BUYER_SIGNED")


@dataclass(slots=True)
class SaveReport:
    """What one batch of trades changed."""

    trades: int = 0
    new_shipments: int = 0
    # (tid/waybill, reason) of parcels no shipment was opened for: the number is no waybill.
    unusable_waybills: list[tuple[str, str]] = field(default_factory=list)
    # Orders the platform calls shipped with no waybill at all (a case each, once).
    without_waybill: int = 0


def save_trades(
    *,
    session: Session,
    shop_id: int,
    trades: tuple[TradeRecord, ...],
    now: datetime,
    first_reminders: Mapping[str, StagePlan | None],
) -> SaveReport:
    """Upsert a page of trades and open a shipment for every new waybill.

    `first_reminders` holds the first reminder stage of each trade, by tid, should it be new.
    """
    report = SaveReport(trades=len(trades))
    if not trades:
        return report
    customer_ids = _save_customers(session, shop_id, trades, now)
    order_rows = [_order_row(shop_id, customer_ids[buyer_id(t)[:120]], t, now) for t in trades]
    updated_columns = [k for k in order_rows[0] if k not in ("shop_id", "tid")]
    for row, trade in zip(order_rows, trades, strict=True):
        # Only a new order gets its first reminder stage; a known one keeps its progress.
        plan = first_reminders.get(trade.tid)
        row["reminder_stage"] = plan.stage.value if plan else None
        row["reminder_due_at"] = plan.due_at if plan else None
    upsert(
        session,
        Order,
        order_rows,
        keys=["shop_id", "tid"],
        update=updated_columns,
        # A page fetched earlier must not overwrite a newer state of the same trade.
        only_if=lambda new: Order.modified_at <= new.modified_at,
    )
    order_ids = {
        tid: order_id
        for tid, order_id in session.exec(
            select(Order.tid, Order.id).where(
                Order.shop_id == shop_id, col(Order.tid).in_([t.tid for t in trades])
            )
        ).all()
        if order_id is not None
    }
    item_rows = [
        {
            "order_id": order_ids[t.tid],
            "oid": item.oid,
            "title": item.title[:200],
            "quantity": item.quantity,
            "price": item.price,
            # Columns are bounded; a longer value is cut here rather than failing the page.
            "category_id": _cut(item.category_id, 20),
            "logistics_company": _cut(item.logistics_company, 60),
            "waybill": _cut(item.waybill, 64),
        }
        for t in trades
        for item in t.items
    ]
    if item_rows:
        upsert(
            session,
            OrderItem,
            item_rows,
            keys=["order_id", "oid"],
            update=["title", "quantity", "price", "logistics_company", "waybill"],
        )
    report.new_shipments = _open_shipments(session, shop_id, order_ids, trades, now, report)
    report.without_waybill = _follow_missing_waybills(session, shop_id, order_ids, trades, now)
    settled = [order_ids[t.tid] for t in trades if t.status != UNPAID]
    if settled:
        # Paid or closed: no more reminders, whatever stage the order was at.
        session.execute(
            update(Order)
            .where(col(Order.id).in_(settled), col(Order.reminder_stage).is_not(None))
            .values(reminder_stage=None, reminder_due_at=None, reminder_claimed_by=None)
        )
    closed = [order_ids[t.tid] for t in trades if t.status in CLOSED_STATUSES]
    if closed:
        # A closed or refunded trade needs no more parcel checks.
        session.execute(
            update(Shipment).where(col(Shipment.order_id).in_(closed)).values(next_check_at=None)
        )
    return report


def buyer_id(trade: TradeRecord) -> str:
    """Return who the buyer is: the platform's open uid; the (blurred) nick only without one."""
    if trade.buyer_open_uid:
        return f"uid:{trade.buyer_open_uid}"
    return f"nick:{trade.buyer_nick}"


def _save_customers(
    session: Session, shop_id: int, trades: tuple[TradeRecord, ...], now: datetime
) -> dict[str, int]:
    """Upsert the trades' buyers; return customer ids by buyer id."""
    latest: dict[str, TradeRecord] = {}
    for trade in trades:
        key = buyer_id(trade)
        if key not in latest or latest[key].modified < trade.modified:
            latest[key] = trade
    rows = [
        {
            "shop_id": shop_id,
            "buyer_id": key[:120],
            "buyer_nick": t.buyer_nick,
            "name": t.receiver_name[:60] or None,
            "phone": _receiver_phone(t),
            "phone_masked": t.phone_masked,
            "first_seen_at": now,
            "updated_at": now,
        }
        for key, t in latest.items()
    ]
    upsert(
        session,
        Customer,
        rows,
        keys=["shop_id", "buyer_id"],
        update=["buyer_nick", "name", "phone", "phone_masked", "updated_at"],
    )
    return {
        key: customer_id
        for key, customer_id in session.exec(
            select(Customer.buyer_id, Customer.id).where(
                Customer.shop_id == shop_id,
                col(Customer.buyer_id).in_([k[:120] for k in latest]),
            )
        ).all()
        if customer_id is not None
    }


def _order_row(shop_id: int, customer_id: int, t: TradeRecord, now: datetime) -> dict[str, Any]:
    return {
        "shop_id": shop_id,
        "customer_id": customer_id,
        "tid": t.tid,
        "status": t.status,
        "raw_status": (t.raw_status or t.status)[:60],
        "trade_type": t.trade_type[:30],
        "created_at": t.created,
        "modified_at": t.modified,
        "paid_at": t.pay_time,
        "consigned_at": t.consign_time,
        "ended_at": t.end_time,
        "payment": t.payment,
        "receiver_name": t.receiver_name[:60] or None,
        "receiver_phone": _receiver_phone(t),
        "phone_masked": t.phone_masked,
        "oaid": t.oaid,
        "receiver_phone_tail": phone_tail(t.receiver_mobile),
        "province": (t.province or None) and t.province[:40],
        "city": (t.city or None) and t.city[:40],
        "synced_at": now,
    }


def _open_shipments(
    session: Session,
    shop_id: int,
    order_ids: dict[str, int],
    trades: tuple[TradeRecord, ...],
    now: datetime,
    report: SaveReport,
) -> int:
    rows = {}
    for trade in trades:
        if trade.status in CLOSED_STATUSES:
            continue
        for item in trade.items:
            if not item.waybill:
                continue
            problem = waybill_problem(item.waybill)
            if problem:
                report.unusable_waybills.append((f"{trade.tid}/{item.waybill[:40]}", problem))
                continue
            name = (item.logistics_company or "未知快递").strip()[:60]
            rows[(name, item.waybill)] = {
                "shop_id": shop_id,
                "order_id": order_ids[trade.tid],
                "courier_name": name,
                "courier": courier_code(name),
                "waybill": item.waybill,
                "shipped_at": trade.consign_time or now,
                "province": (trade.province or None) and trade.province[:40],
                "city": (trade.city or None) and trade.city[:40],
                "status": "pending",
                "next_check_at": now,  # due at once: the first check sees whether it moves
                # ...and pushes take over from there (couriers Kuaidi100 knows only).
                "subscribe_due_at": now if courier_code(name) else None,
                "created_at": now,
                "updated_at": now,
            }
    opened = insert_ignore(session, Shipment, list(rows.values()), keys=["courier_name", "waybill"])
    _track_newly_known_couriers(session, list(rows.values()), now)
    return len(opened)


def _track_newly_known_couriers(
    session: Session, rows: list[dict[str, Any]], now: datetime
) -> None:
    """Start tracking parcels stored under a courier name the table did not know then."""
    known = {(r["courier_name"], r["waybill"]): r["courier"] for r in rows if r["courier"]}
    if not known:
        return
    stale = session.exec(
        select(Shipment.id, Shipment.courier_name, Shipment.waybill).where(
            # The pair is the unique key: its index finds the rows without a table scan.
            tuple_(col(Shipment.courier_name), col(Shipment.waybill)).in_(list(known)),
            col(Shipment.courier).is_(None),
        )
    ).all()
    for shipment_id, name, waybill in stale:
        if (name, waybill) in known:
            session.execute(
                update(Shipment)
                .where(col(Shipment.id) == shipment_id)
                .values(
                    courier=known[(name, waybill)],
                    next_check_at=now,
                    subscribe_due_at=now,
                    check_error=None,
                    check_error_count=0,
                    updated_at=now,
                )
            )


def _follow_missing_waybills(
    session: Session,
    shop_id: int,
    order_ids: dict[str, int],
    trades: tuple[TradeRecord, ...],
    now: datetime,
) -> int:
    """Open a case for each order shipped without a waybill; close it once one is entered."""
    kind = AnomalyKind.SHIPPED_WITHOUT_WAYBILL
    play = play_for(kind, Severity.MINOR)
    missing, entered = [], []
    for trade in trades:
        key = f"order:{order_ids[trade.tid]}:{kind.value}"
        if any(item.waybill for item in trade.items):
            entered.append(key)
        elif trade.status in SHIPPED_STATUSES:
            shipped = trade.consign_time or now
            missing.append(
                {
                    "case_key": key,
                    "shop_id": shop_id,
                    "order_id": order_ids[trade.tid],
                    "kind": kind.value,
                    "severity": Severity.MINOR.value,
                    "state": "open",
                    "next_action": play.next_action,
                    "next_action_at": now + play.due_in,
                    "summary": f"{shipped:%Y-%m-%d %H:%M} UTC 发货，没有运单号。{play.instruction}",
                    "opened_at": now,
                    "updated_at": now,
                }
            )
    opened = insert_ignore(session, AfterSalesCase, missing, keys=["case_key"])
    if entered:
        session.execute(
            update(AfterSalesCase)
            .where(col(AfterSalesCase.case_key).in_(entered), col(AfterSalesCase.state) == "open")
            .values(
                state="closed",
                closed_at=now,
                close_reason="a waybill was entered",
                next_action=None,
                next_action_at=None,
                updated_at=now,
            )
        )
    return len(opened)


def get_cursor(*, session: Session, shop_id: int, stream: str) -> datetime | None:
    """Return the end of the last fully synced window."""
    return session.exec(
        select(SyncCursor.synced_until).where(
            SyncCursor.shop_id == shop_id, SyncCursor.stream == stream
        )
    ).first()


def advance_cursor(
    *, session: Session, shop_id: int, stream: str, synced_until: datetime, now: datetime
) -> None:
    """Move the cursor forward (never back, even when runs overlap)."""
    upsert(
        session,
        SyncCursor,
        [{"shop_id": shop_id, "stream": stream, "synced_until": synced_until, "updated_at": now}],
        keys=["shop_id", "stream"],
        update=["synced_until", "updated_at"],
        only_if=lambda new: SyncCursor.synced_until < new.synced_until,
    )


def _cut(value: str | None, length: int) -> str | None:
    return None if value is None else value[:length]


def _receiver_phone(trade: TradeRecord) -> str | None:
    """The buyer's number normalised; one that is not a mobile is kept (cut) to say so later."""
    if trade.phone_masked:
        return None
    # Cut to the column: a mobile number is 11 digits, so the cut one stays invalid.
    return phone_or_none(trade.receiver_mobile) or _cut(trade.receiver_mobile, 20)
