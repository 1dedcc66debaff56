"""Recording an agent's contact with a buyer on a review case."""

from __future__ import annotations

from datetime import datetime

from aftercare.followup_outcome import CaseNotOpen, FollowupRecorded, record_review_outcome
from aftercare.settings import get_settings
from tasks.policy import pipeline_task

__all__ = ["CaseNotOpen", "FollowupRecorded", "apply_followup"]


@pipeline_task("apply-followup")
def apply_followup(
    case_id: int,
    outcome: str,
    note: str,
    next_contact_at: datetime | None,
    agent: str,
    as_of: datetime,
) -> FollowupRecorded:
    """Record the outcome in the case history, set the next step, queue the buyer's message."""
    return record_review_outcome(
        get_settings(), case_id, outcome, note, next_contact_at, agent, as_of
    )
