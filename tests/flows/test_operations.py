"""Operations on a real Prefect server: reports, run names, rate limits, secrets, alerts, CLI."""

from __future__ import annotations

from datetime import timedelta

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    ArtifactFilterFlowRunId,
    ArtifactFilterKey,
    DeploymentFilter,
    DeploymentFilterId,
)
from prefect.states import Scheduled
from typer.testing import CliRunner

from aftercare.settings import Settings, get_settings
from app.cli import app
from deployments.serve import SCHEDULED, all_deployments
from deployments.setup import (
    ensure_automations,
    ensure_rate_limits,
    push_secret_blocks,
    remove_twin_runs,
)
from flows.daily_report import REPORT_KEY, daily_after_sales_report
from flows.dispatch_messages import dispatch_messages
from flows.logistics_check import logistics_check
from flows.staff_alert import staff_alert
from flows.unpaid_reminders import unpaid_order_reminders
from tasks.limits import LIMIT_NAMES, PrefectRateLimit
from tests.conftest import ANCHOR

pytestmark = [
    pytest.mark.usefixtures("prefect_server"),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


def test_daily_report_names_and_progress_show_in_the_prefect_ui(settings, sandbox, monkeypatch):
    monkeypatch.setenv("AFTERCARE_LOGISTICS__CHUNK_SIZE", "50")
    get_settings.cache_clear()
    state = logistics_check(as_of=ANCHOR, return_state=True)
    unpaid_order_reminders(as_of=ANCHOR)
    dispatch_messages(as_of=ANCHOR)
    figures = daily_after_sales_report(as_of=ANCHOR + timedelta(hours=11))

    assert figures["anomalies"] and figures["notices_sent"] > 0 and figures["reminders_sent"] > 0
    with get_client(sync_client=True) as client:
        run = client.read_flow_run(state.state_details.flow_run_id)
        reports = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[REPORT_KEY]))
        )
        progress = [
            a
            for a in client.read_artifacts(
                artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run.id]))
            )
            if a.type == "progress"
        ]
    assert run.name == "logistics-check · 全部店铺 · 北京时间 11-20 10:00"
    assert any("物流异常" in r.data and "催付" in r.data for r in reports)
    with get_client(sync_client=True) as client:
        report_run = [
            a
            for a in client.read_artifacts(
                artifact_filter=ArtifactFilter(
                    flow_run_id=ArtifactFilterFlowRunId(any_=[reports[0].flow_run_id])
                )
            )
        ]
    # The team's report and one per shop, in Chinese, with the 14-day trend as charts.
    keys = {a.key for a in report_run}
    assert keys >= {REPORT_KEY, f"{REPORT_KEY}-sishi", f"{REPORT_KEY}-xiaoya", f"{REPORT_KEY}-mumu"}
    team = next(a.data for a in report_run if a.key == REPORT_KEY)
    assert "今日各店概览" in team and "全部店铺" in team and "近 14 天趋势" in team
    assert team.count("data:image/png;base64,") == 3
    assert "| stalled |" not in team and "| 物流停滞 |" in team, "kinds in the team's words"
    assert progress and progress[-1].data == 100.0


def test_provider_rate_limits_are_prefect_limits_and_strict(settings, sandbox, monkeypatch):
    specs = ensure_rate_limits(settings)
    assert set(specs) == set(LIMIT_NAMES.values())
    monkeypatch.setenv("AFTERCARE_PREFECT_RATE_LIMITS", "true")
    get_settings.cache_clear()
    summary = logistics_check(as_of=ANCHOR)
    assert summary["checked"] > 0 and summary["chunks_failed"] == 0
    with pytest.raises(Exception, match="must be created before acquiring"):
        PrefectRateLimit("aftercare-no-such-limit").acquire()


def test_secret_blocks_come_first_and_the_environment_is_the_fallback(settings, monkeypatch):
    known = settings.model_copy(
        update={"kuaidi100_key": type(settings.kuaidi100_key)("from-a-secret-block")}
    )
    names = push_secret_blocks(known)
    assert "aftercare-kuaidi100-key" in names
    monkeypatch.setenv("AFTERCARE_KUAIDI100_KEY", "from-the-environment")
    assert Settings().kuaidi100_key.get_secret_value() == "from-the-environment"
    monkeypatch.setenv("AFTERCARE_SECRETS_SOURCE", "prefect")
    assert Settings().kuaidi100_key.get_secret_value() == "from-a-secret-block"


def served(ids, scheduled):
    """What `make serve` ensures its automations with."""
    return ids["staff-alert"], scheduled, ids["platform-events"], ids["parcel-pushes"]


def test_alerting_automations_are_created_once_and_the_alert_reaches_staff(settings, sandbox):
    deployments = all_deployments()
    ids = {d.flow_name: d.apply() for d in deployments}
    scheduled = {ids[flow.name]: (flow.name, cron) for flow, cron, _ in SCHEDULED}
    first = ensure_automations(*served(ids, scheduled))
    second = ensure_automations(*served(ids, scheduled))
    # Staff alerts for failures and silences; platform-events and parcel-pushes run on what
    # was stored (platform messages, courier pushes).
    assert first == second and len(first) == len(SCHEDULED) + 3
    with get_client(sync_client=True) as client:
        names = [a.name for a in client.read_automations()]
    assert sorted(n for n in names if n.startswith("aftercare:")) == sorted(first)
    with get_client(sync_client=True) as client:
        said = {a.name: a.actions[0].parameters for a in client.read_automations()}
    # In Chinese, naming the pipeline (the run's name carries shops and time) and what to do.
    failed = said["aftercare: a pipeline run failed"]
    assert failed["title"] == "流水线运行失败" and "{{ flow_run.name }}" in failed["text"]
    assert "replay-pipeline" in failed["text"]
    quiet = said["aftercare: dispatch-messages has not run"]
    assert quiet["title"] == "短信发送（dispatch-messages）没有按时运行"
    assert "30 分钟" in quiet["text"] and "make serve" in quiet["text"]

    staff_alert(title="流水线运行失败", text="logistics-check failed: buyer 13812345678")
    message = sandbox.robot_messages[-1]
    assert "流水线运行失败" in message.text and "13812345678" not in message.text


def test_operator_cli_lists_cases_and_message_history_masked(settings, sandbox):
    logistics_check(as_of=ANCHOR)
    dispatch_messages(as_of=ANCHOR)
    runner = CliRunner()
    listed = runner.invoke(app, ["cases", "list", "--kind", "stalled"])
    assert listed.exit_code == 0 and "stalled" in listed.output and "push_courier" in listed.output
    phone = next(s.phone for s in sandbox.sms_sent)
    history = runner.invoke(app, ["messages", "history", "--phone", phone])
    assert history.exit_code == 0 and "sent" in history.output
    assert phone not in history.output and phone[:3] + "****" + phone[-4:] in history.output


def test_a_restart_keeps_the_automations_and_no_pipeline_runs_twice(settings):
    deployments = all_deployments()
    ids = {d.flow_name: d.apply() for d in deployments}
    scheduled = {ids[flow.name]: (flow.name, cron) for flow, cron, _ in SCHEDULED}
    ensure_automations(*served(ids, scheduled))
    with get_client(sync_client=True) as client:
        before = {a.name: a.id for a in client.read_automations()}
    # The restart: the deployments applied again, the automations ensured again.
    ids = {d.flow_name: d.apply() for d in deployments}
    ensure_automations(*served(ids, scheduled))
    with get_client(sync_client=True) as client:
        after = {a.name: a.id for a in client.read_automations()}
    assert after == before, "an unchanged automation was replaced (its window started over)"

    # A scheduler tick raced the restart: the 21:30 report is scheduled twice.
    report = ids["daily-after-sales-report"]
    at = ANCHOR + timedelta(days=400)
    with get_client(sync_client=True) as client:
        for _ in range(2):
            client.create_flow_run_from_deployment(report, state=Scheduled(scheduled_time=at))
    assert remove_twin_runs(list(ids.values())) == 1
    with get_client(sync_client=True) as client:
        left = [
            r
            for r in client.read_flow_runs(
                deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[report]))
            )
            if r.expected_start_time == at
        ]
    assert len(left) == 1
    assert remove_twin_runs(list(ids.values())) == 0


def test_long_runs_show_their_progress(settings, sandbox):
    from flows.purge_personal_data import purge_personal_data
    from tests.flows.test_dispatch_promises import queue

    logistics_check(as_of=ANCHOR)
    queue(settings.database_url, 12)
    runs = [
        dispatch_messages(as_of=ANCHOR, return_state=True),
        purge_personal_data(as_of=ANCHOR + timedelta(days=400), return_state=True),
    ]
    with get_client(sync_client=True) as client:
        for state in runs:
            run_id = state.state_details.flow_run_id
            progress = [
                a
                for a in client.read_artifacts(
                    artifact_filter=ArtifactFilter(
                        flow_run_id=ArtifactFilterFlowRunId(any_=[run_id])
                    )
                )
                if a.type == "progress"
            ]
            assert progress and progress[-1].data == 100.0, run_id
