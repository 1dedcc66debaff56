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
from aftercare.wording import PIPELINE_NAMES
from deployments.message_stream import MESSAGES_STORED
from deployments.push_events import PUSHES_STORED
from tasks.limits import limit_specs

FAILED_RUN = "aftercare: a pipeline run failed"
MESSAGES_ARRIVED = "aftercare: platform messages arrived"
PUSHES_ARRIVED = "aftercare: parcel pushes arrived"
MIN_SILENCE = timedelta(minutes=30)
# The run's name carries the pipeline, the shops and the business time (Beijing).
ALERT_TEXT = (
    "流水线运行失败：{{ flow.name }}（{{ flow_run.name }}）\n\n"
    "状态：{{ flow_run.state.name }}；原因：{{ flow_run.state.message }}\n\n"
    "处理：在 Prefect 界面打开这次运行看日志；原因修正后，用 replay-pipeline 按这次的时间补跑"
    "（先 dry run 看会做什么），重复补跑不会重复发短信。"
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


def ensure_automations(
    alert_deployment: UUID,
    scheduled: dict[UUID, tuple[str, str]],
    events_deployment: UUID | None = None,
    pushes_deployment: UUID | None = None,
) -> list[str]:
    """Alert staff when any pipeline run fails, and when one has not run for twice its gap;
    run `platform-events` (`events_deployment`) as soon as the stream stored messages, and
    `parcel-pushes` (`pushes_deployment`) as soon as the receiver stored courier pushes.

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
            actions=[_alert(alert_deployment, "流水线运行失败", ALERT_TEXT)],
        )
    ]
    for deployment_id, (name, cron) in scheduled.items():
        # Twice the longest gap, and never under half an hour: after a restart the scheduler
        # needs a tick or two before a 5-minute pipeline's first run even exists.
        window = max(2 * max_gap(cron, "Asia/Shanghai"), MIN_SILENCE)
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
                        f"{PIPELINE_NAMES.get(name, name)}（{name}）没有按时运行",
                        f"{PIPELINE_NAMES.get(name, name)}（{name}）已有 {_hours(window)} 没有成功"
                        "运行一次。\n\n处理：确认 `make serve` 仍在运行、Prefect 界面里这个部署"
                        "没有暂停；恢复后用 replay-pipeline 补跑错过的时间（先 dry run）。",
                    )
                ],
            )
        )
    if events_deployment is not None:
        wanted.append(
            AutomationCore(
                name=MESSAGES_ARRIVED,
                trigger=EventTrigger(
                    expect={MESSAGES_STORED}, posture=Posture.Reactive, threshold=1
                ),
                actions=[RunDeployment(source="selected", deployment_id=events_deployment)],
            )
        )
    if pushes_deployment is not None:
        wanted.append(
            AutomationCore(
                name=PUSHES_ARRIVED,
                trigger=EventTrigger(expect={PUSHES_STORED}, posture=Posture.Reactive, threshold=1),
                actions=[RunDeployment(source="selected", deployment_id=pushes_deployment)],
            )
        )
    with get_client(sync_client=True) as client:
        for automation in wanted:
            existing = client.read_automations_by_name(automation.name)
            if len(existing) == 1 and _shape(existing[0]) == _shape(automation):
                # A restart keeps an unchanged automation: a "has not run" window that is
                # under way goes on instead of starting over.
                continue
            # A changed one is replaced, never added beside the old copy.
            for old in existing:
                client.delete_automation(old.id)
            client.create_automation(automation)
    return [a.name for a in wanted]


def _shape(automation: AutomationCore) -> dict[str, Any]:
    """What an automation does, without the ids and stamps the server adds."""
    data = automation.model_dump(
        mode="json", include={"name", "description", "enabled", "trigger", "actions"}
    )
    data["trigger"].pop("id", None)
    # `expect` and `after` are sets: the copy read back may list them in another order.
    for key in ("expect", "after"):
        if isinstance(data["trigger"].get(key), list):
            data["trigger"][key] = sorted(data["trigger"][key])
    return data


def remove_twin_runs(deployment_ids: list[UUID]) -> int:
    """Delete scheduled runs that repeat another run of the same deployment and start time.

    Re-applying a deployment gives its schedule a new id; a scheduler tick racing the restart
    can leave runs of the old schedule beside the new one's, so a pipeline would run twice.
    The run of a schedule that still exists is kept.
    """
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterId,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType

    if not deployment_ids:
        return 0
    removed = 0
    with get_client(sync_client=True) as client:
        live = {
            str(schedule.id)
            for deployment_id in deployment_ids
            for schedule in client.read_deployment(deployment_id).schedules
        }
        runs: list[Any] = []
        while True:  # the API answers 200 runs at most per page
            page = client.read_flow_runs(
                deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=deployment_ids)),
                flow_run_filter=FlowRunFilter(
                    state=FlowRunFilterState(
                        type=FlowRunFilterStateType(any_=[StateType.SCHEDULED])
                    )
                ),
                limit=200,
                offset=len(runs),
            )
            runs.extend(page)
            if len(page) < 200:
                break
        groups: dict[tuple[Any, Any], list[Any]] = {}
        for run in runs:
            groups.setdefault((run.deployment_id, run.expected_start_time), []).append(run)
        for twins in groups.values():
            if len(twins) < 2:
                continue
            twins.sort(key=lambda r: (_schedule_id(r) not in live, r.created))
            for extra in twins[1:]:
                client.delete_flow_run(extra.id)
                removed += 1
    return removed


def _schedule_id(run: Any) -> str | None:
    created_by = run.created_by
    return str(created_by.id) if created_by is not None and created_by.id else None


def _hours(window: timedelta) -> str:
    """Say a duration as the team would: 30 分钟, 4 小时, 2 天."""
    minutes = int(window.total_seconds() // 60)
    if minutes < 120:
        return f"{minutes} 分钟"
    if minutes < 48 * 60:
        return f"{minutes // 60} 小时"
    return f"{minutes // (24 * 60)} 天"


def _alert(deployment_id: UUID, title: str, text: str) -> Any:
    return RunDeployment(
        source="selected",
        deployment_id=deployment_id,
        parameters={"title": title, "text": text},
    )
