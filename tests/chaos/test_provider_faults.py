"""Every pipeline against a sandbox whose every provider fails, throttles, times out and drops.

30% 5xx, 429 bursts with Retry-After, time-outs, dropped connections and slow answers on
Kuaidi100, TOP, SMS and the staff robot at once. Each pipeline is run as a scheduler would
(again after a failed run; dispatch every few minutes) and must end where the same pipeline
ends against a fault-free twin of the world: every due item processed, every intended
message sent exactly once (counted by the sandbox), every failure recorded with its reason.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from datetime import timedelta

import pytest
from sqlmodel import select

from aftercare.rules.reviews import explanation_due_at
from aftercare.settings import get_settings
from aftercare.shop_context import shop_context
from deployments.sandbox_world import import_sandbox_members
from flows.bad_review_followups import bad_review_followups
from flows.care_messages import care_messages
from flows.logistics_check import logistics_check
from flows.unpaid_reminders import unpaid_order_reminders
from models import AfterSalesCase, CaseEvent, OutboxMessage, Shipment
from models.db import session_scope
from sandbox import FaultConfig
from tasks.explanations import settle_review_cases
from tests.chaos.pipelines import (
    CHAOS,
    Dispatched,
    Outcome,
    alerts_per_case,
    compare,
    dispatch_until_done,
    figures,
    reference_world,
    rerun,
    unleash,
)
from tests.conftest import ANCHOR

pytestmark = pytest.mark.usefixtures("prefect_server")
UNCHECKABLE = {"malformed", "unknown_courier"}


def sent_once(sandbox, intended: set[str]) -> tuple[dict[str, int], set[str]]:
    """Return the duplicates among the SMS the sandbox accepted, and the intended ones lost."""
    per_key = Counter(sms.out_id for sms in sandbox.sms_sent)
    return {k: n for k, n in per_key.items() if n > 1}, intended - set(per_key)


def test_logistics_check_and_dispatch_check_every_parcel_and_send_every_notice_once(
    settings, sandbox, monkeypatch
):
    unleash(sandbox, monkeypatch)
    now = ANCHOR
    logistics_check(as_of=now)
    checkable = {
        p.waybill for p in sandbox.world.shipments.values() if p.scenario not in UNCHECKABLE
    }
    with session_scope(settings.database_url) as session:
        first = {s.waybill: s for s in session.exec(select(Shipment))}
    failed_first = [s for s in first.values() if s.check_error]
    # A failed check (an unreadable answer, or faults beyond the retries) is recorded on the
    # parcel with its reason, and the parcel is due again later (never: an unknown courier).
    assert failed_first, "some checks failed (the sandbox's malformed waybills at least)"
    for parcel in failed_first:
        assert parcel.check_error_count >= 1, parcel
        assert parcel.next_check_at is None or parcel.next_check_at > now, parcel
    for _ in range(4):
        with session_scope(settings.database_url) as session:
            failing = [
                s.waybill
                for s in session.exec(select(Shipment))
                if s.waybill in checkable and s.check_error
            ]
        if not failing:
            break
        now += timedelta(minutes=61)
        sandbox.clock.set(now)
        logistics_check(as_of=now)

    with session_scope(settings.database_url) as session:
        shipments = {s.waybill: s for s in session.exec(select(Shipment))}
        cases = Counter(c.case_key for c in session.exec(select(AfterSalesCase)))
    assert checkable <= set(shipments), "every shipped trade was synced despite the faults"
    unchecked = [
        w for w in checkable if shipments[w].check_error or not shipments[w].last_checked_at
    ]
    assert not unchecked, f"parcels never checked: {unchecked}"
    assert max(cases.values()) == 1, "never two cases for one parcel and kind"

    with session_scope(settings.database_url) as session:
        intended = {
            m.idempotency_key
            for m in session.exec(select(OutboxMessage))
            if m.status != "suppressed"
        }
    dispatched = dispatch_until_done(settings.database_url, now)
    duplicates, lost = sent_once(sandbox, intended)
    figures(
        "logistics-check + dispatch-messages",
        sandbox,
        items=(
            f"{len(checkable)} parcels checked, {len(failed_first)} checks failed at first "
            f"(recorded, re-checked), {len(cases)} cases, {len(intended)} messages in "
            f"{dispatched.runs} dispatch runs, "
            f"failures recorded {dict(dispatched.failures_recorded)}"
        ),
        duplicates=len(duplicates),
        lost=len(lost),
    )
    assert sum(sandbox.stats.faults.values()) > 50, "the faults really happened"
    assert not duplicates and not lost
    assert not dispatched.unrecorded, "every failed send was recorded with its reason"


def drive_reminders(url: str) -> tuple[list[str], Dispatched]:
    """Remind at ANCHOR (again if a run fails), then dispatch until nothing is left."""
    failures = rerun(lambda: unpaid_order_reminders(as_of=ANCHOR))
    return failures, dispatch_until_done(url, ANCHOR)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_unpaid_order_reminders_end_as_without_faults(settings, sandbox, monkeypatch, tmp_path):
    with reference_world(tmp_path) as (_, reference_url):
        drive_reminders(reference_url)
        reference = Outcome.read(reference_url)
    assert reference.sent(), "the reference world sends reminders"

    unleash(sandbox, monkeypatch)
    failed_runs, dispatched = drive_reminders(settings.database_url)
    outcome = Outcome.read(settings.database_url)
    duplicates, lost = sent_once(sandbox, reference.sent())
    reminders = [k for k in outcome.messages if k.startswith("unpaid:")]
    figures(
        "unpaid-order-reminders + dispatch-messages",
        sandbox,
        items=(
            f"{len(reminders)} reminders decided, {len(reference.sent())} to send, "
            f"{len(failed_runs)} failed flow runs re-run, {dispatched.runs} dispatch runs, "
            f"failures recorded {dict(dispatched.failures_recorded)}"
        ),
        duplicates=len(duplicates),
        lost=len(lost),
    )
    assert sandbox.stats.faults_by_provider.get("taobao") and sandbox.stats.faults_by_provider.get(
        "sms"
    ), "the shop API and the SMS provider both failed"
    assert not duplicates and not lost
    assert not compare(outcome, reference), compare(outcome, reference)[:10]
    assert not dispatched.unrecorded, "every failed send was recorded with its reason"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_care_messages_queue_every_due_message_and_send_each_once(settings, sandbox, monkeypatch):
    import_sandbox_members(sandbox, settings.database_url)
    # Parcel statuses (for delivery notices) come from logistics-check, chaos-tested above.
    logistics_check(as_of=ANCHOR)
    unleash(sandbox, monkeypatch)
    failed_runs = rerun(lambda: care_messages(as_of=ANCHOR))
    with session_scope(settings.database_url) as session:
        care = {
            m.idempotency_key: m
            for m in session.exec(select(OutboxMessage))
            if m.idempotency_key.startswith("care:")
        }
    intended = {k for k, m in care.items() if m.status != "suppressed"}
    assert all(m.reason for m in care.values() if m.status == "suppressed")

    # Several notices to one phone wait out the minimum gap between them: dispatch every 15 min.
    dispatched = dispatch_until_done(settings.database_url, ANCHOR, step_minutes=15)
    sandbox.faults.clear()
    assert care_messages(as_of=ANCHOR) == {}, "nothing due was left undecided"
    duplicates, lost = sent_once(sandbox, intended)
    decided = Counter(k.split(":")[3] for k in care)  # care:{shop}:{order or member}:{kind}...
    figures(
        "care-messages + dispatch-messages",
        sandbox,
        items=(
            f"{len(care)} care messages decided {dict(decided)}, {len(intended)} to send, "
            f"{len(failed_runs)} failed flow runs re-run, {dispatched.runs} dispatch runs, "
            f"failures recorded {dict(dispatched.failures_recorded)}"
        ),
        duplicates=len(duplicates),
        lost=len(lost),
    )
    assert {"shipped", "delivered", "revisit"} <= set(decided)
    assert sandbox.stats.faults_by_provider.get("sms"), "the SMS provider failed"
    assert not duplicates and not lost
    assert not dispatched.unrecorded, "every failed send was recorded with its reason"


MORNING = ANCHOR - timedelta(hours=1)  # 09:00 in Shanghai, when explanations are due
# The sandbox's first neutral and bad ratings reach their last day to be explained then.
REVIEW_DAYS = (23, 24)


def explanations_due(url: str, now) -> list[int]:
    """Return the open review cases whose explanation should have been posted by now."""
    settings = get_settings()
    hours = shop_context(settings, "any").working_hours
    days_before = settings.reviews.explain_days_before_deadline
    with session_scope(url) as session:
        cases = session.exec(
            select(AfterSalesCase).where(
                AfterSalesCase.kind == "review", AfterSalesCase.state == "open"
            )
        ).all()
    return [
        c.id or 0
        for c in cases
        if c.deadline_at and explanation_due_at(c.deadline_at, hours, days_before) <= now
    ]


def drive_reviews(sandbox, url: str) -> list[str]:
    """Each review day, run every 30 minutes from 09:00 until the day's work is done."""
    failed: list[str] = []
    for day in REVIEW_DAYS:
        start = MORNING + timedelta(days=day)
        for slot in range(6):
            now = start + timedelta(minutes=30 * slot)
            sandbox.clock.set(now)
            try:
                bad_review_followups(as_of=now)
            except Exception as error:  # a failed run: the next one, 30 minutes on, goes on
                failed.append(f"{type(error).__name__}: {error}"[:200])
                continue
            if not explanations_due(url, now):
                break
        else:
            raise AssertionError(f"day {day}: review work left after six runs: {failed}")
    return failed


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_bad_review_followups_end_as_without_faults(settings, sandbox, monkeypatch, tmp_path):
    with reference_world(tmp_path) as (twin, reference_url):
        drive_reviews(twin, reference_url)
        reference = Outcome.read(reference_url)
        reference_explained = {e.oid for e in twin.explanations}
        reference_alerts = len(twin.robot_messages)
    assert reference_explained, "the reference world posts explanations"

    unleash(sandbox, monkeypatch)
    # Every second robot call is throttled besides the chaos: the robot surely fails too (its
    # few calls could otherwise all pass the random draws).
    sandbox.faults.set("dingtalk", dataclasses.replace(CHAOS, burst_every=1, burst_length=1))
    failed_runs = drive_reviews(sandbox, settings.database_url)
    outcome = Outcome.read(settings.database_url)
    with session_scope(settings.database_url) as session:
        cases = session.exec(select(AfterSalesCase).where(AfterSalesCase.kind == "review")).all()
    alerts = alerts_per_case(sandbox)
    explained = Counter(e.oid for e in sandbox.explanations)
    duplicates = [f"case {k}" for k, n in alerts.items() if n > 1] + [
        f"rating {k}" for k, n in explained.items() if n > 1
    ]
    lost_alerts = [c.id for c in cases if alerts[c.id or 0] == 0]
    lost_explanations = reference_explained - set(explained)
    figures(
        "bad-review-followups",
        sandbox,
        items=(
            f"{len(cases)} review cases, {len(sandbox.robot_messages)} robot digests "
            f"(fault-free: {reference_alerts}), {len(explained)} explanations posted, "
            f"{len(failed_runs)} failed flow runs re-run"
        ),
        duplicates=len(duplicates),
        lost=len(lost_alerts) + len(lost_explanations),
    )
    assert sandbox.stats.faults_by_provider.get("dingtalk"), "the robot failed too"
    assert not duplicates, "no case alerted twice, no rating explained twice"
    assert not lost_alerts and not lost_explanations
    assert not compare(outcome, reference), compare(outcome, reference)[:10]


# The settling task runs on its own here, outside a flow run, so its logs stay local.
@pytest.mark.filterwarnings("ignore:Logger 'prefect.task_runs' attempted to send logs")
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_an_explanation_the_platform_fails_is_recorded_and_posted_by_a_later_run(
    settings, sandbox, monkeypatch
):
    eve = MORNING + timedelta(days=REVIEW_DAYS[0] - 1)
    sandbox.clock.set(eve)
    bad_review_followups(as_of=eve)
    monkeypatch.setenv("AFTERCARE_RETRY__MAX_ATTEMPTS", "2")
    get_settings.cache_clear()
    sandbox.faults.set("taobao", FaultConfig(error_rate=1.0))
    day = eve + timedelta(days=1)
    sandbox.clock.set(day)
    settle_review_cases(day)
    due = explanations_due(settings.database_url, day)
    assert due and not sandbox.explanations, "the platform took no explanation"
    with session_scope(settings.database_url) as session:
        history = session.exec(
            select(CaseEvent).where(CaseEvent.action == "explanation_failed")
        ).all()
    assert {h.case_id for h in history} == set(due)
    assert all("server error" in h.note for h in history), "recorded with its reason"

    sandbox.faults.clear()
    later = day + timedelta(minutes=30)  # the next scheduled run
    settle_review_cases(later)
    assert not explanations_due(settings.database_url, later)
    explained = Counter(e.oid for e in sandbox.explanations)
    assert len(explained) == len(due) and set(explained.values()) == {1}
