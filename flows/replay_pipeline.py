"""Flow `replay-pipeline`: run a pipeline as of a past time, for a missed scheduled run."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import flow

from flows.bad_review_followups import bad_review_followups
from flows.care_messages import care_messages
from flows.common import run_name, start_run
from flows.dispatch_messages import dispatch_messages
from flows.logistics_check import logistics_check
from flows.unpaid_reminders import unpaid_order_reminders
from tasks.recovery import count_due

PIPELINES: dict[str, Any] = {
    "logistics-check": logistics_check,
    "unpaid-order-reminders": unpaid_order_reminders,
    "bad-review-followups": bad_review_followups,
    "care-messages": care_messages,
    "dispatch-messages": dispatch_messages,
}


@flow(name="replay-pipeline", flow_run_name=run_name("replay-pipeline"))
def replay_pipeline(pipeline: str, as_of: datetime, dry_run: bool = False) -> dict[str, Any]:
    """Run the pipeline as of `as_of`; idempotency keys and claims make repeats harmless."""
    start_run(as_of)
    if pipeline not in PIPELINES:
        raise ValueError(f"unknown pipeline {pipeline!r}; one of {', '.join(PIPELINES)}")
    if dry_run:
        return {"pipeline": pipeline, "as_of": as_of.isoformat(), "due": count_due(as_of)}
    return {
        "pipeline": pipeline,
        "as_of": as_of.isoformat(),
        "result": PIPELINES[pipeline](as_of=as_of),
    }
