"""Counting the messages due, and asking the provider about those of unknown outcome."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import date, datetime, timedelta
from functools import partial

from prefect import get_run_logger

from aftercare.clients.errors import ProviderError
from aftercare.clients.sms import SentSms, SmsClient
from aftercare.clock import world_now
from aftercare.rules.dispatch import (
    NO_LOOKUP,
    Settlement,
    lookup_days,
    settle_in_doubt,
    still_listed,
)
from aftercare.rules.notices import OAID_SMS
from aftercare.settings import get_settings
from aftercare.store import outbox
from aftercare.store.batch_writer import BatchWriter
from aftercare.store.dispatch import record_settlement
from models.db import session_scope
from tasks import limits
from tasks.policy import pipeline_task

Listings = dict[tuple[str, date], dict[str, SentSms] | str]


@pipeline_task("count-due-messages")
def count_due_messages(as_of: datetime, limit: int) -> int:
    """Count the messages due now (at most `limit`): the run's progress is measured on it."""
    with session_scope(get_settings().database_url) as session:
        return outbox.count_due(session=session, now=as_of, limit=limit)


@pipeline_task("reconcile-unknown-sends")
def reconcile_unknown_sends(as_of: datetime, limit: int) -> dict[str, int]:
    """Ask the provider about one batch of messages of unknown outcome; settle or requeue each.

    Each message is looked up on the days it really left (the world's time of its attempt,
    not the run's business day), one query per phone and day. A lookup that fails leaves that
    message in doubt with the reason, never resent; the rest are settled.
    """
    settings = get_settings()
    sms = limits.sms(settings)
    owner = f"reconcile-{uuid.uuid4().hex[:12]}"
    lease = timedelta(minutes=settings.dispatch.lease_minutes)
    horizon = settings.dispatch.lookup_horizon_days
    world = world_now(settings.simulated_now)
    with session_scope(settings.database_url) as session:
        doubtful = outbox.in_doubt(
            session=session, now=as_of, owner=owner, lease=lease, limit=limit
        )
    check_at = as_of + timedelta(minutes=settings.dispatch.lookup_retry_minutes)
    gap = timedelta(minutes=settings.care.min_gap_minutes)
    counts: Counter[str] = Counter(in_doubt_claimed=len(doubtful))
    listings: Listings = {}
    with BatchWriter(settings.database_url) as writer:
        for message in doubtful:
            if message.channel == OAID_SMS:  # nothing to ask: never resent
                settled = Settlement("unconfirmable", reason=NO_LOOKUP)
            else:
                days = still_listed(
                    lookup_days(message.attempted_at, message.last_attempt_at), world, horizon
                )
                lookup = look_up(sms, message.phone or "", days, outbox.out_id(message), listings)
                settled = settle_in_doubt(lookup, listed=bool(days))
            writer.add(
                partial(
                    record_settlement,
                    message=message,
                    owner=owner,
                    settled=settled,
                    now=as_of,
                    check_at=check_at,
                    horizon_days=horizon,
                    gap=gap,
                )
            )
            counts[settled.outcome] += 1
    if doubtful:
        get_run_logger().info(
            "reconciled %d messages of unknown outcome: %s", len(doubtful), dict(counts)
        )
    return dict(counts)


def look_up(
    sms: SmsClient, phone: str, days: list[date], out_id: str, listings: Listings
) -> SentSms | str | None:
    """Return the provider's record of the send, None if it has none, or why it cannot tell.

    Each phone and day is asked once per batch: the listing serves every message to it.
    """
    for day in days:
        if (phone, day) not in listings:
            try:
                listings[(phone, day)] = sms.sent_on(phone=phone, day=day)
            except ProviderError as error:
                listings[(phone, day)] = f"the lookup of {day:%Y-%m-%d} failed: {error.reason}"
        listing = listings[(phone, day)]
        if isinstance(listing, str):
            return listing
        if out_id in listing:
            return listing[out_id]
    return None
