"""Flow `platform-events`: the shop platform's messages taken in, then applied by re-reading."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from aftercare.settings import get_settings
from flows.common import publish_report, run_name, start_run
from tasks.message_channel import take_messages
from tasks.platform_messages import apply_messages
from tasks.shops import permit_message_channel
from tasks.triggers import schedule_due_reminders


@flow(name="platform-events", flow_run_name=run_name("platform-events"))
def platform_events(as_of: datetime | None = None) -> dict[str, int]:
    """Take the channel's messages in (stored, then confirmed) and apply what they name."""
    now = start_run(as_of)
    if not get_settings().events.enabled:  # AFTERCARE_EVENTS__ENABLED turns the channel on
        return {}
    permitted = permit_message_channel(now)
    taken = take_messages(now)
    applied = apply_messages(now)
    asked = schedule_due_reminders(applied.reminders_due, now) if applied.reminders_due else 0
    figures = {
        "shops_permitted": permitted,
        **taken,
        **applied.counts,
        "reminder_runs_scheduled": asked,
    }
    publish_report("platform-events", now, figures, key="platform-events")
    return figures
