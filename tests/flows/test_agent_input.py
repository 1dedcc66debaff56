"""An agent's typo is a message at the prompt, never a failed run that pages the staff."""

from __future__ import annotations

from datetime import timedelta

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowFilter, FlowFilterName
from sqlmodel import col, select
from typer.testing import CliRunner

from app.cli import app
from flows.bad_review_followups import bad_review_followups
from models import AfterSalesCase
from models.db import session_scope
from tests.conftest import ANCHOR

pytestmark = [
    pytest.mark.usefixtures("prefect_server"),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


def followup_runs() -> int:
    with get_client(sync_client=True) as client:
        return len(
            client.read_flow_runs(
                flow_filter=FlowFilter(name=FlowFilterName(any_=["record-followup"])), limit=200
            )
        )


def test_typos_are_refused_before_any_run_and_a_good_record_goes_through(settings, sandbox):
    bad_review_followups(as_of=ANCHOR)
    with session_scope(settings.database_url) as session:
        case_id = session.exec(
            select(AfterSalesCase.id).where(AfterSalesCase.kind == "review")
        ).first()
    assert case_id is not None
    runner = CliRunner()
    runs = followup_runs()
    alerts = len(sandbox.robot_messages)

    typo = runner.invoke(app, ["followup", "record", str(case_id), "agreed"])
    assert typo.exit_code == 2 and "agreed_to_revise" in typo.output
    wrong_case = runner.invoke(app, ["followup", "record", "999999", "agreed_to_revise"])
    assert wrong_case.exit_code == 1
    assert "case 999999 is not an open review case" in wrong_case.output
    past = runner.invoke(
        app,
        ["followup", "record", str(case_id), "agreed_to_revise", "--next-contact", "2020-01-01"],
    )
    assert past.exit_code == 1 and "not in the future" in past.output
    assert followup_runs() == runs, "no run was started for a typo"
    assert len(sandbox.robot_messages) == alerts, "nobody was paged"

    later = (ANCHOR + timedelta(days=1)).strftime("%Y-%m-%d %H:%M")
    good = runner.invoke(
        app,
        ["followup", "record", str(case_id), "agreed_to_revise", "--next-contact", later],
    )
    assert good.exit_code == 0, good.output
    assert followup_runs() == runs + 1


def test_buyers_sms_cannot_reach_are_a_chat_list_an_agent_works(settings, sandbox):
    from flows.logistics_check import logistics_check
    from flows.unpaid_reminders import unpaid_order_reminders

    logistics_check(as_of=ANCHOR)
    unpaid_order_reminders(as_of=ANCHOR)
    runner = CliRunner()
    listed = runner.invoke(app, ["messages", "im"])
    assert listed.exit_code == 0, listed.output
    with session_scope(settings.database_url) as session:
        from models import OutboxMessage

        waiting = session.exec(
            select(OutboxMessage).where(
                OutboxMessage.status == "suppressed",
                col(OutboxMessage.reason).contains("via IM"),
            )
        ).all()
    assert waiting, "the sandbox masks some buyers' phones"
    first = min(waiting, key=lambda m: (m.created_at, m.id))
    assert str(first.id) in listed.output and "im-done" in listed.output

    done = runner.invoke(app, ["messages", "im-done", str(first.id), "--agent", "小王"])
    assert done.exit_code == 0, done.output
    again = runner.invoke(app, ["messages", "im-done", str(first.id), "--agent", "小王"])
    assert again.exit_code == 1 and "not a chat hand-off waiting" in again.output
    with session_scope(settings.database_url) as session:
        from aftercare.store.operator import im_handoffs

        left = im_handoffs(session=session, shop=None, limit=10_000)
        row = session.get(OutboxMessage, first.id)
    assert first.id not in {h.message_id for h in left} and len(left) == len(waiting) - 1
    assert row is not None and row.handed_off_by == "小王" and row.handed_off_at is not None
    assert all(h.text for h in left), "each comes with the text to send"
