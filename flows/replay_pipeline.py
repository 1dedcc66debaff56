"""Flow `replay-pipeline`: run a pipeline as of a past time, for a missed scheduled run."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from prefect import flow
from prefect.artifacts import create_markdown_artifact

from aftercare.clock import CHINA
from aftercare.wording import PIPELINE_NAMES, figure_name
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


# A parameter of this type is a choice in the UI form and is checked before a run exists.
Pipeline = Literal[
    "logistics-check",
    "unpaid-order-reminders",
    "bad-review-followups",
    "care-messages",
    "dispatch-messages",
]


@flow(name="replay-pipeline", flow_run_name=run_name("replay-pipeline"))
def replay_pipeline(pipeline: Pipeline, as_of: datetime, dry_run: bool = True) -> dict[str, Any]:
    """Run the pipeline as of `as_of` (naive: shop time); by default only say what is due.

    Idempotency keys and claims make a repeat harmless.
    """
    when = start_run(as_of)
    if pipeline not in PIPELINES:  # a direct call with a typo (deployment runs are checked)
        raise ValueError(f"unknown pipeline {pipeline!r}; one of {', '.join(PIPELINES)}")
    if dry_run:
        due = count_due(when)
        create_markdown_artifact(
            markdown=dry_run_report(pipeline, when, due),
            description=f"补跑 {PIPELINE_NAMES[pipeline]}（试运行）",
        )
        return {"pipeline": pipeline, "as_of": when.isoformat(), "dry_run": True, "due": due}
    return {
        "pipeline": pipeline,
        "as_of": when.isoformat(),
        "result": PIPELINES[pipeline](as_of=when),
    }


def dry_run_report(pipeline: str, as_of: datetime, due: dict[str, int]) -> str:
    """Say, for the UI, what a replay would find to do and that nothing was done."""
    rows = "\n".join(f"| {figure_name(what)} | {count} |" for what, count in due.items())
    return (
        f"# 试运行：补跑{PIPELINE_NAMES[pipeline]}（{pipeline}），"
        f"按北京时间 {as_of.astimezone(CHINA):%Y-%m-%d %H:%M}\n\n"
        "什么都没有做。那个时间到期的工作：\n\n"
        f"| 工作 | 到期数量 |\n|---|---|\n{rows}\n\n"
        "关闭 `dry_run` 再运行一次即可执行；重复运行不会重复发送任何短信。"
    )
