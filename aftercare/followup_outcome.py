"""Recording an agent's contact with a buyer on a review case: the one path for the CLI's
record-followup flow and the workbench."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aftercare.privacy import redact
from aftercare.rules import message_keys
from aftercare.rules.notices import sms_blocker
from aftercare.rules.reviews import Outcome, after_outcome, explanation_due_at
from aftercare.settings import Settings
from aftercare.shop_context import shop_context
from aftercare.store.followups import open_followup, record_followup
from aftercare.store.outbox import Recipient, enqueue, message_row
from models.db import session_scope


class CaseNotOpen(ValueError):
    """The case does not exist, is not a review case, or is closed already."""


@dataclass(frozen=True, slots=True)
class FollowupRecorded:
    """What recording an outcome did: the case's next action and when."""

    case: int
    outcome: str
    next_action: str
    next_at: datetime


def record_review_outcome(
    settings: Settings,
    case_id: int,
    outcome: str,
    note: str,
    next_contact_at: datetime | None,
    agent: str,
    now: datetime,
) -> FollowupRecorded:
    """Record the outcome in the case history, set the next step, queue the buyer's message."""
    result = Outcome(outcome)  # an unknown outcome is refused with the list of known ones
    with session_scope(settings.database_url) as session:
        facts = open_followup(session=session, case_id=case_id)
        if facts is None:
            raise CaseNotOpen(f"case {case_id} is not an open review case")
        case, review, order = facts.case, facts.review, facts.order
        shop = shop_context(settings, facts.shop.code, facts.shop.timezone)
        declines = case.declines + (result in (Outcome.DECLINED, Outcome.COMPENSATION_DECLINED))
        step = after_outcome(
            result,
            now=now,
            agreed_next_contact=next_contact_at,
            unreachable_count=facts.unreachable_before + (result is Outcome.UNREACHABLE),
            declines=declines,
            max_unreachable=shop.reviews.max_unreachable_attempts,
            hours=shop.working_hours,
        )
        assert case.deadline_at is not None
        next_at = step.at or explanation_due_at(
            case.deadline_at, shop.working_hours, shop.reviews.explain_days_before_deadline
        )
        record_followup(
            session=session,
            case=case,
            outcome=result.value,
            declines=declines,
            next_action=step.action,
            next_at=next_at,
            agent=agent,
            note=redact(note),
            now=now,
        )
        if step.message:
            phone = order.receiver_phone if order else None
            oaid = shop.reach(order.oaid if order else None, step.message)
            message = message_row(
                key=message_keys.review_followup(
                    shop.code, review.oid, step.message, case.contact_attempts + 1
                ),
                template=step.message,
                params={"shop": facts.shop.name, "item": review.item_title[:20]},
                recipient=Recipient(
                    facts.shop.id or 0,
                    order.customer_id if order else None,
                    review.order_id,
                    phone,
                    sms_blocker(phone, order.phone_masked if order else False, True, oaid),
                    oaid,
                ),
                now=now,
                case_id=case_id,
            )
            if message["status"] == "pending":
                message["next_attempt_at"] = step.message_at or now
            enqueue(session=session, rows=[message])
    return FollowupRecorded(case_id, result.value, step.action, next_at)
