"""deployments/prefect.yaml: the work-pool twin of the serve script, and it deploys for real."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import WorkPoolCreate
from prefect.settings import PREFECT_API_URL

from deployments.serve import MANUAL, SCHEDULED, TIMEZONE

ROOT = Path(__file__).resolve().parents[2]
PREFECT_YAML = ROOT / "deployments" / "prefect.yaml"


def entries() -> list[dict]:
    return yaml.safe_load(PREFECT_YAML.read_text(encoding="utf-8"))["deployments"]


def flow_of(entrypoint: str) -> str:
    """The flow's name, from the object the entrypoint names."""
    path, attribute = entrypoint.split(":")
    module = path.removesuffix(".py").replace("/", ".")
    __import__(module)
    return getattr(sys.modules[module], attribute).name


def test_every_scheduled_pipeline_has_the_serve_scripts_schedule_tag_and_limit():
    scheduled = {flow_of(e["entrypoint"]): e for e in entries() if e["name"] == "scheduled"}
    assert set(scheduled) == {flow.name for flow, _, _ in SCHEDULED}
    for flow, cron, pipeline in SCHEDULED:
        entry = scheduled[flow.name]
        assert entry["schedules"] == [{"cron": cron, "timezone": TIMEZONE}], flow.name
        assert entry["tags"] == [f"pipeline:{pipeline}"] and entry["concurrency_limit"] == 1
        assert entry["work_pool"]["name"] == "aftercare"


def test_every_manual_flow_is_deployed_without_a_schedule():
    manual = {flow_of(e["entrypoint"]): e for e in entries() if e["name"] == "manual"}
    assert set(manual) == {flow.name for flow, _ in MANUAL}
    assert all(not e.get("schedules") for e in manual.values())
    for flow, pipeline in MANUAL:
        assert manual[flow.name]["tags"] == [f"pipeline:{pipeline}"]


def test_per_shop_deployments_pass_their_shop():
    for entry in entries():
        if entry["name"] not in ("scheduled", "manual"):
            shop = entry["name"]
            assert entry["parameters"]["shops"] == [shop] and f"shop:{shop}" in entry["tags"]


@pytest.mark.usefixtures("prefect_server")
def test_prefect_deploy_registers_every_deployment_in_the_work_pool():
    with get_client(sync_client=True) as client:
        client.create_work_pool(WorkPoolCreate(name="aftercare", type="process"), overwrite=True)
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value(), "AFTERCARE_HOME": str(ROOT)}
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "prefect"),
            "--no-prompt",
            "deploy",
            "--all",
            "--prefect-file",
            str(PREFECT_YAML),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    with get_client(sync_client=True) as client:
        deployed = {
            (
                d.name,
                d.work_pool_name,
                limit.limit if (limit := d.global_concurrency_limit) else None,
            )
            for d in client.read_deployments()
            if d.work_pool_name == "aftercare"
        }
        flows = {f.id: f.name for f in client.read_flows()}
        names = {
            f"{flows[d.flow_id]}/{d.name}"
            for d in client.read_deployments()
            if d.work_pool_name == "aftercare"
        }
    assert len(names) == len(entries())
    assert {f"{flow.name}/scheduled" for flow, _, _ in SCHEDULED} <= names
    assert ("scheduled", "aftercare", 1) in deployed
