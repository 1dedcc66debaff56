"""Flow `staff-alert`: tell the team's group chat that something needs a person."""

from __future__ import annotations

from prefect import flow

from aftercare import clients
from aftercare.privacy import redact
from aftercare.settings import get_settings
from flows.common import start_run


@flow(name="staff-alert", flow_run_name="staff-alert · {title}")
def staff_alert(title: str, text: str) -> None:
    """Post an alert to the staff robot (automations run this when a pipeline fails or stalls)."""
    start_run(None)
    clients.robot(get_settings()).post(title, f"### {title}\n\n{redact(text)}")
