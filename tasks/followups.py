"""Recording an agent's contact with a buyer on a review case."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, update
from sqlmodel import col, select

from aftercare.privacy import redact
from aftercare.rules import message_keys
from aftercare.rules.notices import sms_blocker
from aftercare.rules.reviews import Outcome, after_outcome, explanation_due_at
from aftercare.settings import get_settings
from aftercare.store.outbox import Recipient, enqueue, message_row
from models import AfterSalesCase, CaseEvent, Order, Review, Shop
from models.db import session_scope
from tasks.policy import pipeline_task
from tasks.reviews import working_hours


class CaseNotOpen(ValueError):
    """The case does not exist, is not a review case, or is closed already."""


@pipeline_task("apply-followup")
def apply_followup(
    case_id: int,
    outcome: str,
    note: str,
    next_contact_at: datetime | None,
    agent: str,
    as_of: datetime,
) -> dict[str, object]:
    """Record the outcome in the case history, set the next step, queue the buyer's message."""
    settings = get_settings()
    result = Outcome(outcome)  # an unknown outcome is refused with the list of known ones
    with session_scope(settings.database_url) as session:
        row = session.exec(
            select(AfterSalesCase, Review, Shop)
            .join(Review, col(Review.id) == AfterSalesCase.review_id)
            .join(Shop, col(Shop.id) == AfterSalesCase.shop_id)
            .where(AfterSalesCase.id == case_id)
            .with_for_update()
        ).first()
        if row is None or row[0].state != "open":
            raise CaseNotOpen(f"case {case_id} is not an open review case")
        case, review, shop = row
        hours = working_hours(settings, shop.timezone)
        unreachable = session.exec(
            select(func.count()).where(
                CaseEvent.case_id == case_id, CaseEvent.action == "contact:unreachable"
            )
        ).one() + (result is Outcome.UNREACHABLE)
        declines = case.declines + (result in (Outcome.DECLINED, Outcome.COMPENSATION_DECLINED))
        step = after_outcome(
            result,
            now=as_of,
            agreed_next_contact=next_contact_at,
            unreachable_count=unreachable,
            declines=declines,
            max_unreachable=settings.reviews.max_unreachable_attempts,
            hours=hours,
        )
        assert case.deadline_at is not None
        next_at = step.at or explanation_due_at(
            case.deadline_at, hours, settings.reviews.explain_days_before_deadline
        )
        session.execute(
            update(AfterSalesCase)
            .where(col(AfterSalesCase.id) == case_id)
            .values(
                last_outcome=result.value,
                contact_attempts=case.contact_attempts + 1,
                declines=declines,
                next_action=step.action,
                next_action_at=next_at,
                updated_at=as_of,
            )
        )
        session.add(
            CaseEvent(
                case_id=case_id,
                at=as_of,
                action=f"contact:{result.value}",
                actor=agent[:60],
                note=f"{redact(note)}｜next: {step.action} {next_at:%Y-%m-%d %H:%M} UTC",
            )
        )
        if step.message:
            order = session.get(Order, review.order_id) if review.order_id else None
            phone = order.receiver_phone if order else None
            message = message_row(
                key=message_keys.review_followup(
                    shop.code, review.oid, step.message, case.contact_attempts + 1
                ),
                template=step.message,
                params={"shop": shop.name, "item": review.item_title[:20]},
                recipient=Recipient(
                    shop.id or 0,
                    order.customer_id if order else None,
                    review.order_id,
                    phone,
                    sms_blocker(phone, order.phone_masked if order else False, True),
                ),
                now=as_of,
                case_id=case_id,
            )
            if message["status"] == "pending":
                message["next_attempt_at"] = step.message_at or as_of
            enqueue(session=session, rows=[message])
    return {
        "case": case_id,
        "outcome": result.value,
        "next_action": step.action,
        "next_at": next_at,
    }
