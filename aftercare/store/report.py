"""The figures of the daily after-sales report, from every pipeline's tables."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from aftercare.display import markdown_text
from models import (
    AfterSalesCase,
    OutboxMessage,
    RejectedRecord,
    ReminderConversion,
    Shipment,
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


def render_markdown(day: str, figures: dict[str, Any]) -> str:
    """Render the report as markdown for the Prefect UI."""
    lines = [f"# 售后日报 after-sales report {day}", ""]
    lines += [
        "## 物流异常 logistics anomalies opened",
        "",
        "| kind | courier | cases |",
        "|---|---|---|",
    ]
    lines += [f"| {k} | {markdown_text(c, 60)} | {n} |" for k, c, n in figures["anomalies"]] or [
        "| none | | |"
    ]
    lines += ["", f"buyer notices sent: {figures['notices_sent']}", ""]
    lines += [
        "## 催付 unpaid-order reminders",
        "",
        f"reminders sent: {figures['reminders_sent']}; paid after a reminder: "
        f"{figures['paid_after_reminder']}; amount recovered: {figures['recovered_amount']} 元",
        "",
        "## 中差评 review follow-ups",
        "",
        f"cases opened: {figures['reviews_opened']}; closed: "
        + (", ".join(f"{k} {v}" for k, v in figures["reviews_closed"].items()) or "none"),
        "",
        "## 关怀 care messages sent",
        "",
        ", ".join(f"{k} {v}" for k, v in figures["care_sent"].items()) or "none",
        "",
        "## 未发送与失败 held back and failures",
        "",
        # Reasons may quote a provider's own words: shown literally.
        *[f"- held back: {markdown_text(k)} ({v})" for k, v in figures["held_back"].items()],
        *[f"- **failed**: {markdown_text(k)} ({v})" for k, v in figures["failed"].items()],
        f"- parcels whose last courier check failed: {figures['parcels_with_check_errors']}",
        *[f"- bad input skipped from {k}: {v}" for k, v in figures["rejected_records"].items()],
    ]
    return "\n".join(lines)
