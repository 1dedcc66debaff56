"""refunds-and-returns under provider faults: answers the platform carried out but never
confirmed, errors, drops and doubled runs; no answer is ever given twice."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlmodel import select

from aftercare.settings import get_settings
from flows.refunds_and_returns import refunds_and_returns
from models import Refund, RefundAction, StaffAlert
from models.db import session_scope
from tests.chaos.pipelines import CHAOS, CLIENT_ENV, rerun
from tests.conftest import ANCHOR
from tests.flows.test_refunds_and_returns import ADDRESS, ALL_KINDS_AUTOMATIC

pytestmark = [
    pytest.mark.usefixtures("prefect_server"),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]
DAYS = 4


@pytest.fixture
def sandbox() -> Iterator[object]:
    """Buyers asking for refunds on some of their orders."""
    from sandbox import Sandbox, SandboxConfig

    config = SandboxConfig(
        seed=7, orders_per_shop=40, anchor=ANCHOR, clock_tick=False, refund_rate=0.5
    )
    with Sandbox(config) as running:
        running.clock.set(ANCHOR)
        yield running


def test_answers_lost_on_the_way_back_are_never_given_again(settings, sandbox, monkeypatch):
    for key, value in {
        **CLIENT_ENV,
        "AFTERCARE_REFUNDS__AUTO": ALL_KINDS_AUTOMATIC,
        "AFTERCARE_REFUNDS__RETURN_ADDRESSES": ADDRESS,
    }.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    # The platform does three calls in ten and then fails to say so, beside errors, drops and
    # time-outs (milder than CHAOS, so the client's retries, not task retries, carry reads).
    sandbox.faults.set("taobao", replace(CHAOS, error_rate=0.1, process_then_fail_rate=0.3))
    desk = sandbox.taobao.refunds
    failures: list[str] = []
    for half_days in range(2 * DAYS + 1):
        moment = ANCHOR + timedelta(hours=12 * half_days)
        sandbox.clock.set(moment)
        for _ in range(2):  # every run doubled, as an overlapping schedule would
            failures += rerun(lambda m=moment: refunds_and_returns(as_of=m), limit=8)
    sandbox.faults.clear()
    end = ANCHOR + timedelta(days=DAYS, minutes=40)
    sandbox.clock.set(end)
    refunds_and_returns(as_of=end)  # a clean run: what the platform has is what we have

    answered = [r for r in desk.refunds.values() if r.actions]
    assert answered, "the pipeline answered refunds through the faults"
    for refund in desk.refunds.values():
        kinds = [status for _, status in refund.actions]
        assert len(kinds) == len(set(kinds)), f"refund {refund.refund_id} answered twice"
    with session_scope(settings.database_url) as session:
        actions = session.exec(select(RefundAction)).all()
        stored = {r.refund_id: r for r in session.exec(select(Refund))}
        alerts = {a.dedupe_key for a in session.exec(select(StaffAlert))}
    # What the platform did but never confirmed is on record as failed, not repeated, and the
    # refund itself is stored as the platform has it; an answer cut off mid-way is told.
    assert {a.status for a in actions} <= {"done", "failed", "claimed"}
    lost_answers = [
        a for a in actions if a.status == "failed" and desk.refunds[int(a.refund_id)].actions
    ]
    for action in actions:
        if action.status == "claimed":
            assert (
                f"refund-action:{_shop(desk, action)}:{action.refund_id}:{action.action}" in alerts
            )
    for refund_id, row in stored.items():
        modified, status = desk.refunds[int(refund_id)].at(end)
        assert (row.status, row.version) == (status, int(modified.timestamp() * 1000))
    print(
        f"\n    refunds answered {len(answered)}, answers on record {len(actions)}, "
        f"done by the platform but unconfirmed {len(lost_answers)}, "
        f"flow runs failed and rerun {len(failures)}"
    )


def _shop(desk, action) -> str:
    return desk.refunds[int(action.refund_id)].trade.shop
