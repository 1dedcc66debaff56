"""The figures of the daily after-sales report, from every pipeline's tables."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from aftercare.clock import as_utc
from aftercare.rules.report import CaseFact, MessageFact, PaymentFact
from models import (
    AfterSalesCase,
    OutboxMessage,
    RejectedRecord,
    ReminderConversion,
    Shipment,
    Shop,
)


def daily_figures(*, session: Session, start: datetime, end: datetime) -> dict[str, Any]:
    """Collect one local day's figures: anomalies, reminders, reviews, care, failures."""
    anomalies = session.exec(
        select(AfterSalesCase.kind, Shipment.courier_name, func.count())
        .join(Shipment, col(Shipment.id) == AfterSalesCase.shipment_id)
        .where(col(AfterSalesCase.opened_at) >= start, col(AfterSalesCase.opened_at) < end)
        .group_by(col(AfterSalesCase.kind), col(Shipment.courier_name))
    ).all()
    sent = session.exec(
        select(OutboxMessage.purpose, func.count())
        .where(
            col(OutboxMessage.status) == "sent",
            col(OutboxMessage.sent_at) >= start,
            col(OutboxMessage.sent_at) < end,
        )
        .group_by(col(OutboxMessage.purpose))
    ).all()
    held = session.exec(
        select(OutboxMessage.reason, func.count())
        .where(
            col(OutboxMessage.status) == "suppressed",
            col(OutboxMessage.created_at) >= start,
            col(OutboxMessage.created_at) < end,
        )
        .group_by(col(OutboxMessage.reason))
    ).all()
    failed = session.exec(
        select(OutboxMessage.reason, func.count())
        .where(
            col(OutboxMessage.status) == "failed",
            col(OutboxMessage.last_attempt_at) >= start,
            col(OutboxMessage.last_attempt_at) < end,
        )
        .group_by(col(OutboxMessage.reason))
    ).all()
    paid, amount = session.exec(
        select(func.count(), func.coalesce(func.sum(ReminderConversion.amount), 0)).where(
            col(ReminderConversion.paid_at) >= start, col(ReminderConversion.paid_at) < end
        )
    ).one()
    reviews = session.exec(
        select(AfterSalesCase.state, AfterSalesCase.close_reason, func.count())
        .where(AfterSalesCase.kind == "review", col(AfterSalesCase.updated_at) >= start)
        .group_by(col(AfterSalesCase.state), col(AfterSalesCase.close_reason))
    ).all()
    opened_reviews = session.exec(
        select(func.count()).where(
            AfterSalesCase.kind == "review",
            col(AfterSalesCase.opened_at) >= start,
            col(AfterSalesCase.opened_at) < end,
        )
    ).one()
    check_errors = session.exec(
        select(func.count()).where(col(Shipment.check_error).is_not(None))
    ).one()
    rejected = session.exec(
        select(RejectedRecord.source, func.count())
        .where(col(RejectedRecord.last_seen_at) >= start, col(RejectedRecord.last_seen_at) < end)
        .group_by(col(RejectedRecord.source))
    ).all()
    by_purpose = Counter({purpose: n for purpose, n in sent})
    return {
        "anomalies": [(kind, courier, n) for kind, courier, n in anomalies if kind != "review"],
        "reminders_sent": sum(n for p, n in by_purpose.items() if p.startswith("unpaid_")),
        "paid_after_reminder": paid,
        "recovered_amount": amount,
        "reviews_opened": opened_reviews,
        "reviews_closed": {
            (reason or "").split(":")[0]: n for state, reason, n in reviews if state == "closed"
        },
        "care_sent": {p: n for p, n in by_purpose.items() if p.startswith("care_")},
        "notices_sent": sum(n for p, n in by_purpose.items() if p.startswith("logistics_")),
        "held_back": dict(Counter({reason or "?": n for reason, n in held}).most_common(8)),
        "failed": {reason or "?": n for reason, n in failed},
        "parcels_with_check_errors": check_errors,
        "rejected_records": {source: n for source, n in rejected},
    }


def report_facts(
    *, session: Session, start: datetime, end: datetime
) -> tuple[list[CaseFact], list[MessageFact], list[PaymentFact]]:
    """Load what the lead's trend needs: cases, messages and payments touching the window."""
    shops = dict(session.exec(select(Shop.id, Shop.code)).all())
    first_notice = (
        select(OutboxMessage.case_id, func.min(OutboxMessage.sent_at).label("at"))
        .where(col(OutboxMessage.status) == "sent", col(OutboxMessage.case_id).is_not(None))
        .group_by(col(OutboxMessage.case_id))
        .subquery()
    )
    case_rows = session.execute(
        sa_select(
            col(AfterSalesCase.shop_id),
            col(AfterSalesCase.kind),
            col(AfterSalesCase.opened_at),
            col(AfterSalesCase.closed_at),
            col(AfterSalesCase.deadline_at),
            first_notice.c.at,
        )
        .outerjoin(first_notice, first_notice.c.case_id == AfterSalesCase.id)
        .where(
            (col(AfterSalesCase.opened_at) >= start) | (col(AfterSalesCase.closed_at) >= start),
            col(AfterSalesCase.opened_at) < end,
        )
    ).all()
    cases = [
        CaseFact(
            shops.get(s, "?"), kind, as_utc(o), c and as_utc(c), d and as_utc(d), n and as_utc(n)
        )
        for s, kind, o, c, d, n in case_rows
    ]
    message_rows = session.exec(
        select(
            OutboxMessage.shop_id,
            OutboxMessage.purpose,
            OutboxMessage.status,
            func.coalesce(OutboxMessage.sent_at, OutboxMessage.created_at),
        ).where(
            col(OutboxMessage.status).in_(("sent", "suppressed")),
            func.coalesce(OutboxMessage.sent_at, OutboxMessage.created_at) >= start,
            func.coalesce(OutboxMessage.sent_at, OutboxMessage.created_at) < end,
        )
    ).all()
    messages = [
        MessageFact(shops.get(s, "?"), purpose, status, as_utc(at))
        for s, purpose, status, at in message_rows
    ]
    payment_rows = session.execute(
        sa_select(
            col(ReminderConversion.shop_id),
            col(ReminderConversion.paid_at),
            col(ReminderConversion.amount),
        ).where(col(ReminderConversion.paid_at) >= start, col(ReminderConversion.paid_at) < end)
    ).all()
    payments = [
        PaymentFact(shops.get(s, "?"), as_utc(at), Decimal(amount or 0))
        for s, at, amount in payment_rows
    ]
    return cases, messages, payments


def shop_names(*, session: Session) -> dict[str, str]:
    """Return every active shop's name by code."""
    return dict(session.exec(select(Shop.code, Shop.name).order_by(col(Shop.code))).all())
