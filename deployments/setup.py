"""Set up a Prefect server for aftercare: rate limits, Secret blocks, alerting automations."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from cronsim import CronSim
from prefect.automations import AutomationCore, EventTrigger, Posture, RunDeployment
from prefect.blocks.system import Secret
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import (
    GlobalConcurrencyLimitCreate,
    GlobalConcurrencyLimitUpdate,
)
from prefect.exceptions import ObjectNotFound

from aftercare.secrets import secret_values_for_blocks
from aftercare.settings import Settings
from tasks.limits import limit_specs

FAILED_RUN = "aftercare: a pipeline run failed"
ALERT_TEXT = (
    "{{ flow.name }} run {{ flow_run.name }} ended {{ flow_run.state.name }}: "
    "{{ flow_run.state.message }}"
)


def ensure_rate_limits(settings: Settings) -> dict[str, tuple[int, float]]:
    """Create or update one global rate limit per provider account."""
    specs = limit_specs(settings)
    with get_client(sync_client=True) as client:
        for name, (limit, decay) in specs.items():
            try:
                client.read_global_concurrency_limit_by_name(name)
                client.update_global_concurrency_limit(
                    name, GlobalConcurrencyLimitUpdate(limit=limit, slot_decay_per_second=decay)
                )
            except ObjectNotFound:
                client.create_global_concurrency_limit(
                    GlobalConcurrencyLimitCreate(
                        name=name, limit=limit, slot_decay_per_second=decay
                    )
                )
    return specs


def push_secret_blocks(settings: Settings) -> list[str]:
    """Store the provider credentials as Prefect Secret blocks; return the block names."""
    for name, value in secret_values_for_blocks(settings).items():
        Secret(value=value).save(name, overwrite=True)
    return sorted(secret_values_for_blocks(settings))


def max_gap(cron: str, zone: str) -> timedelta:
    """Return the longest time between two runs of a cron schedule (over a week)."""
    start = datetime(2026, 1, 5, tzinfo=ZoneInfo(zone))
    times = []
    for moment in CronSim(cron, start):
        if moment > start + timedelta(days=7):
            break
        times.append(moment)
    return max(b - a for a, b in itertools.pairwise(times))


def ensure_automations(alert_deployment: UUID, scheduled: dict[UUID, tuple[str, str]]) -> list[str]:
    """Alert staff when any pipeline run fails, and when one has not run for twice its gap.

    `scheduled` maps each scheduled deployment's id to (its name, its cron).
    """
    wanted: list[AutomationCore] = [
        AutomationCore(
            name=FAILED_RUN,
            trigger=EventTrigger(
                expect={"prefect.flow-run.Failed", "prefect.flow-run.Crashed"},
                match={"prefect.resource.id": "prefect.flow-run.*"},
                posture=Posture.Reactive,
                threshold=1,
            ),
            actions=[_alert(alert_deployment, "pipeline run failed", ALERT_TEXT)],
        )
    ]
    for deployment_id, (name, cron) in scheduled.items():
        window = 2 * max_gap(cron, "Asia/Shanghai")
        wanted.append(
            AutomationCore(
                name=f"aftercare: {name} has not run",
                trigger=EventTrigger(
                    expect={"prefect.flow-run.Completed"},
                    match_related={"prefect.resource.id": f"prefect.deployment.{deployment_id}"},
                    posture=Posture.Proactive,
                    threshold=1,
                    within=window,
                ),
                actions=[
                    _alert(
                        alert_deployment,
                        f"{name} has not run",
                        f"{name} has not completed a run for {window} (twice its longest gap).",
                    )
                ],
            )
        )
    with get_client(sync_client=True) as client:
        for automation in wanted:
            # Re-running the set-up replaces the automations instead of adding copies.
            for old in client.read_automations_by_name(automation.name):
                client.delete_automation(old.id)
            client.create_automation(automation)
    return [a.name for a in wanted]


def _alert(deployment_id: UUID, title: str, text: str) -> Any:
    return RunDeployment(
        source="selected",
        deployment_id=deployment_id,
        parameters={"title": title, "text": text},
    )
