"""A simulated month of bad-review follow-ups: the pipeline daily, agents working the call list."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlmodel import select

from flows.bad_review_followups import bad_review_followups
from models import AfterSalesCase, CaseEvent, Review, Shipment
from models.db import session_scope
from tasks.followups import apply_followup
from tasks.review_reports import CALLS
from tests.conftest import ANCHOR

pytestmark = pytest.mark.usefixtures("prefect_server")
NEGATIVE = ("neutral", "bad")
MORNING = ANCHOR - timedelta(hours=1)  # 09:00 in Shanghai: explanations are due then
DAYS = 36
# What the agents' calls come to, by case (deterministic).
OUTCOMES = ("agreed_to_revise", "declined", "unreachable", "compensation_declined")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_month_every_bad_review_ends_recovered_or_explained_before_its_deadline(
    settings, sandbox
):
    start = MORNING
    for day in range(DAYS):
        now = start + timedelta(days=day)
        sandbox.clock.set(now)
        bad_review_followups(as_of=now)
        _work_the_call_list(settings.database_url, now)

    end = start + timedelta(days=DAYS - 1)
    with session_scope(settings.database_url) as session:
        rows = session.exec(
            select(AfterSalesCase, Review).join(Review, Review.id == AfterSalesCase.review_id)
        ).all()
    cases = {review.oid: (case, review) for case, review in rows}
    assert len(cases) == len(rows), "never two cases for one rating"

    # Every rating that was neutral or bad when a run first could see it has its case.
    expected = set()
    for rating in sandbox.world.ratings.values():
        seen = max(rating.created, start)
        first_run = start + timedelta(days=-(-(seen - start) // timedelta(days=1)))
        in_range = start - timedelta(days=30) <= rating.created and first_run <= end
        if in_range and rating.result_at(first_run) in NEGATIVE:
            expected.add(str(rating.oid))
    assert set(cases) == expected

    explanations = {str(e.oid): e for e in sandbox.explanations}
    reasons: Counter[str] = Counter()
    for oid, (case, _review) in cases.items():
        rating = sandbox.world.rating(int(oid))
        if case.deadline_at <= end:
            assert case.state == "closed", f"case {case.id} still open past its deadline"
        if case.state == "closed":
            assert case.closed_at <= case.deadline_at, f"case {case.id} closed late"
            reasons[case.close_reason.split(":")[0]] += 1
            assert case.close_reason.startswith(
                ("recovered", "explained", "explanation no longer possible")
            ), case.close_reason
            if case.close_reason.startswith("explanation no longer possible"):
                # Only a follow-up review (追评) closes the window before the explanation day.
                assert rating.append_at is not None and rating.append_at <= case.closed_at
        if oid in explanations:
            posted = explanations[oid]
            assert rating.result_at(posted.at) != "good", "never explain a revised rating"
            assert len(posted.reply) <= 500
    # Every public word is true on our record: no contact claimed that was not made, no parcel
    # called signed for that was not.
    with session_scope(settings.database_url) as session:
        for oid, posted in explanations.items():
            case, review = cases[oid]
            actions = set(
                session.exec(select(CaseEvent.action).where(CaseEvent.case_id == case.id)).all()
            )
            reached = {a for a in actions if a.startswith("contact:")} - {"contact:unreachable"}
            if "已与您联系" in posted.reply or "已联系您" in posted.reply:
                assert reached, (case.id, posted.reply)
            parcel = session.exec(
                select(Shipment).where(Shipment.order_id == review.order_id)
            ).first()
            if "签收" in posted.reply:
                assert parcel is not None and parcel.status == "delivered", posted.reply
    print(
        f"\nreview month: {len(cases)} cases, closed by reason {dict(reasons)}, "
        f"{len(explanations)} explanations posted"
    )
    assert reasons["recovered"] > 0 and reasons["explained"] > 0


def _work_the_call_list(url: str, now) -> None:
    """Agents call every buyer due today and record what came of it."""
    with session_scope(url) as session:
        due = session.exec(
            select(AfterSalesCase.id).where(
                AfterSalesCase.kind == "review",
                AfterSalesCase.state == "open",
                AfterSalesCase.next_action.in_(CALLS),  # type: ignore[attr-defined]
                AfterSalesCase.next_action_at <= now + timedelta(hours=9),  # type: ignore[operator]
            )
        ).all()
    for case_id in due:
        outcome = OUTCOMES[case_id % len(OUTCOMES)]
        apply_followup.fn(case_id, outcome, "", None, "agent", now + timedelta(hours=2))
