"""An agent's outcome on a case, from the workbench: through the same paths as the CLI's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aftercare.followup_outcome import CaseNotOpen, record_review_outcome
from aftercare.privacy import redact
from aftercare.reship_notice import reship_and_tell
from aftercare.rules.reviews import Outcome
from aftercare.rules.workbench import CaseOutcome, OutcomeForm, after_logistics_outcome
from aftercare.settings import Settings
from aftercare.shop_context import shop_context
from aftercare.store.workbench import work_logistics_case
from models import AfterSalesCase, Order, Review, Shop
from models.db import session_scope

REVIEW_LADDER = {o.value for o in Outcome}


@dataclass(frozen=True, slots=True)
class Worked:
    """What recording an outcome did: a reship tracked, the next step, or the case closed."""

    reship: str | None = None  # "courier waybill"
    next_action: str | None = None
    next_at: datetime | None = None
    closed: bool = False


def work_case(
    settings: Settings, case_id: int, form: OutcomeForm, agent: str, now: datetime
) -> Worked:
    """Record a checked outcome on an open case; return what it did.

    Raises CaseNotOpen when the case closed meanwhile, ReshipRefused when a reship cannot be
    recorded; nothing is half-written either way.
    """
    with session_scope(settings.database_url) as session:
        case = session.get(AfterSalesCase, case_id)
        if case is None or case.state != "open":
            raise CaseNotOpen(f"case {case_id} is not open")
        shop = session.get(Shop, case.shop_id)
        assert shop is not None
        order_id = case.order_id
        if order_id is None and case.review_id:
            review = session.get(Review, case.review_id)
            order_id = review.order_id if review else None
        order = session.get(Order, order_id) if order_id else None
        kind, code, zone, tid = case.kind, shop.code, shop.timezone, order.tid if order else None
    note = redact(form.note)
    reship = None
    if form.outcome is CaseOutcome.RESHIPPED:
        if tid is None:
            raise CaseNotOpen(f"case {case_id} has no order to reship")
        done = reship_and_tell(
            settings, shop=code, tid=tid, courier=form.courier, waybill=form.waybill,
            agent=agent, now=now,
        )  # fmt: skip
        reship = f"{done.courier_name} {done.waybill}"
        if kind == "review":
            return Worked(reship)
    if kind == "review" and form.outcome.value in REVIEW_LADDER:
        done_review = record_review_outcome(
            settings, case_id, form.outcome.value, note, form.next_contact_at, agent, now
        )
        return Worked(None, done_review.next_action, done_review.next_at)
    hours = shop_context(settings, code, zone).working_hours
    step = after_logistics_outcome(
        form.outcome, now=now, agreed=form.next_contact_at, hours=hours, note=note
    )
    with session_scope(settings.database_url) as session:
        if not work_logistics_case(
            session=session, case_id=case_id, outcome=form.outcome.value, step=step,
            agent=agent, note=note, now=now,
        ):  # fmt: skip
            raise CaseNotOpen(f"case {case_id} is not open")
    return Worked(reship, step.action, step.at, closed=bool(step.close_reason))
