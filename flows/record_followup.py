"""Flow `record-followup`: an agent records what a call to a buyer came to (no database access)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from prefect import flow

from aftercare.rules.reviews import Outcome
from flows.common import given_time, run_name, start_run
from tasks.followups import apply_followup


@flow(name="record-followup", flow_run_name=run_name("record-followup"))
def record_followup(
    case_id: int,
    outcome: Outcome,
    note: str = "",
    next_contact_at: datetime | None = None,
    agent: str = "agent",
    as_of: datetime | None = None,
) -> dict[str, object]:
    """Record a contact outcome on a case and move it along the follow-up ladder."""
    now = start_run(as_of)
    agreed = given_time(next_contact_at) if next_contact_at else None  # naive: shop time
    recorded = apply_followup(case_id, Outcome(outcome).value, note, agreed, agent, now)
    return asdict(recorded)
