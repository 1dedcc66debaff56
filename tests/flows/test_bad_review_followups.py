"""bad-review-followups and record-followup through Prefect, against the sandbox."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from prefect.exceptions import PrefectException
from sqlmodel import select

from flows.bad_review_followups import bad_review_followups
from flows.record_followup import record_followup
from models import AfterSalesCase, CaseEvent, OutboxMessage, Review
from models.db import session_scope
from tasks.followups import CaseNotOpen
from tests.conftest import ANCHOR

pytestmark = pytest.mark.usefixtures("prefect_server")
NEGATIVE = ("neutral", "bad")
SHANGHAI = ZoneInfo("Asia/Shanghai")
LATER = ANCHOR + timedelta(days=10)  # 10:00 in Shanghai, ten days on: ratings have come in


def review_cases(url):
    with session_scope(url) as session:
        return session.exec(
            select(AfterSalesCase, Review).join(Review, Review.id == AfterSalesCase.review_id)
        ).all()


def visible_negative(sandbox, now, days=30):
    return {
        str(r.oid)
        for r in sandbox.world.ratings.values()
        if now - timedelta(days=days + 1) <= r.created <= now and r.result_at(now) in NEGATIVE
    }


def test_every_bad_review_gets_one_case_an_alert_and_a_place_on_the_call_list(settings, sandbox):
    sandbox.clock.set(LATER)
    summary = bad_review_followups(as_of=LATER)
    rows = review_cases(settings.database_url)
    oids = Counter(review.oid for _, review in rows)
    assert oids and max(oids.values()) == 1, "one case per rating, never two"
    assert set(oids) == visible_negative(sandbox, LATER)
    assert summary["cases_opened"] == len(rows)

    for case, review in rows:
        assert case.cause and case.deadline_at == review.rated_at + timedelta(days=30)
        assert case.alerted_at == LATER
        if case.state == "closed":
            # A follow-up review (追评) closes the explanation window: explained at once or not.
            assert review.append_at is not None, (case.close_reason, review)
            assert case.close_reason.startswith(("explained", "explanation no longer possible"))
    causes = Counter(case.cause for case, _ in rows)
    assert len(causes) >= 3
    # Staff heard of every case at once, in one digest per shop, with buyers masked.
    shops_with_cases = {case.shop_id for case, _ in rows}
    assert len(sandbox.robot_messages) == len(shops_with_cases)
    assert all("#" in m.text for m in sandbox.robot_messages)
    assert not any(
        r.nick in m.text
        for m in sandbox.robot_messages
        for r in sandbox.world.ratings.values()
        if len(r.nick) > 2
    )
    assert summary["calls_today"] > 0

    with session_scope(settings.database_url) as session:
        first = session.exec(
            select(OutboxMessage).where(OutboxMessage.purpose == "review_first_contact")
        ).all()
    assert {m.case_id for m in first} == {c.id for c, _ in rows}
    rated = {c.id: r.rated_at for c, r in rows if c.cause == "mood"}
    for message in first:
        if message.status == "pending" and message.case_id in rated:
            local = rated[message.case_id].astimezone(SHANGHAI)
            next_morning = datetime.combine(local.date() + timedelta(days=1), time(9), SHANGHAI)
            assert message.next_attempt_at >= next_morning, "mood: not before the next day"

    again = bad_review_followups(as_of=LATER + timedelta(minutes=30))
    assert again["cases_opened"] == 0 and len(review_cases(settings.database_url)) == len(rows)
    assert len(sandbox.robot_messages) == len(shops_with_cases), "no second alert"


def test_agents_record_outcomes_through_the_flow_and_the_case_keeps_its_history(settings, sandbox):
    sandbox.clock.set(LATER)
    bad_review_followups(as_of=LATER)
    case, _ = review_cases(settings.database_url)[0]
    agreed = LATER + timedelta(days=2)
    result = record_followup(
        case_id=case.id,
        outcome="agreed_to_revise",
        note="买家同意修改，电话 13912345678",
        next_contact_at=agreed,
        agent="小王",
        as_of=LATER + timedelta(hours=1),
    )
    assert result["next_action"] == "check_revision" and result["next_at"] == agreed
    with session_scope(settings.database_url) as session:
        history = session.exec(select(CaseEvent).where(CaseEvent.case_id == case.id)).all()
        reminder = session.exec(
            select(OutboxMessage).where(OutboxMessage.purpose == "review_revision_reminder")
        ).all()
    contact = [h for h in history if h.action == "contact:agreed_to_revise"]
    assert contact and contact[0].actor == "小王"
    assert "13912345678" not in contact[0].note, "phone numbers are masked in notes"
    assert history[0].action == "opened"
    assert len(reminder) == 1 and reminder[0].case_id == case.id

    with pytest.raises((ValueError, PrefectException)):
        record_followup(case_id=case.id, outcome="shouted", as_of=LATER)
    with pytest.raises((CaseNotOpen, PrefectException)):
        record_followup(case_id=999_999, outcome="declined", as_of=LATER)


def test_a_case_closed_before_its_first_contact_left_never_sends_it(settings, sandbox):
    from flows.dispatch_messages import dispatch_messages

    sandbox.clock.set(LATER)
    bad_review_followups(as_of=LATER)
    with session_scope(settings.database_url) as session:
        message, review = session.exec(
            select(OutboxMessage, Review)
            .join(AfterSalesCase, AfterSalesCase.id == OutboxMessage.case_id)
            .join(Review, Review.id == AfterSalesCase.review_id)
            .where(
                OutboxMessage.purpose == "review_first_contact",
                OutboxMessage.status == "pending",
                AfterSalesCase.state == "open",
            )
        ).first()
    # The buyer revises the rating to good on their own before we ever texted them.
    sandbox.world.revise_rating(int(review.oid), LATER + timedelta(hours=1))
    sandbox.clock.set(LATER + timedelta(hours=2))
    bad_review_followups(as_of=LATER + timedelta(hours=2))

    with session_scope(settings.database_url) as session:
        case = session.exec(
            select(AfterSalesCase).where(AfterSalesCase.id == message.case_id)
        ).one()
        cancelled = session.exec(select(OutboxMessage).where(OutboxMessage.id == message.id)).one()
    assert case.state == "closed" and case.close_reason.startswith("recovered")
    assert cancelled.status == "suppressed" and "case was closed" in cancelled.reason

    next_morning = LATER + timedelta(days=1)
    sandbox.clock.set(next_morning)
    dispatch_messages(as_of=next_morning)
    assert message.idempotency_key not in {sms.out_id for sms in sandbox.sms_sent}


def test_a_robot_outage_on_deadline_day_holds_back_no_explanation(settings, sandbox):
    from models import StaffAlert
    from sandbox import FaultConfig

    sandbox.clock.set(LATER)
    sandbox.faults.set("dingtalk", FaultConfig(error_rate=1.0))
    first = bad_review_followups(as_of=LATER)
    assert first["cases_opened"] > 0 and first["staff_alerts"].get("not_posted", 0) > 0
    assert not sandbox.robot_messages
    with session_scope(settings.database_url) as session:
        waiting = session.exec(select(StaffAlert)).all()
    assert len(waiting) == first["cases_opened"]
    assert all(a.status == "pending" and a.last_error for a in waiting)

    # Deadline day for every case: explanations go out though the robot is still down.
    deadline_day = LATER + timedelta(days=29, hours=-1)
    sandbox.clock.set(deadline_day)
    second = bad_review_followups(as_of=deadline_day)
    assert second["settled"].get("explained", 0) > 0, second["settled"]
    assert not sandbox.robot_messages

    sandbox.faults.clear()
    later = deadline_day + timedelta(minutes=30)
    sandbox.clock.set(later)
    bad_review_followups(as_of=later)
    with session_scope(settings.database_url) as session:
        alerts = session.exec(select(StaffAlert)).all()
    assert all(a.status == "posted" for a in alerts)
    shops = {a.topic for a in alerts}
    assert len(sandbox.robot_messages) == len(shops), "one digest per shop, each line once"
    bad_review_followups(as_of=later + timedelta(minutes=30))
    assert len(sandbox.robot_messages) == len(shops)
