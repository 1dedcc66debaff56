"""Posting the staff alert queue to the group robot in digests."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timedelta

from prefect import get_run_logger

from aftercare import clients
from aftercare.clients.errors import ProviderError, RateLimited
from aftercare.rules.alerts import digests
from aftercare.settings import get_settings
from aftercare.store import alerts
from models.db import session_scope
from tasks.policy import pipeline_task


@pipeline_task("post-staff-alerts")
def post_staff_alerts(as_of: datetime) -> dict[str, int]:
    """Post due alert lines as digests; a failed post is recorded and retried, never raised.

    The pipelines queue their alerts and go on: a robot outage never holds back their work.
    """
    settings = get_settings()
    config = settings.alerts
    owner = f"alerts-{uuid.uuid4().hex[:12]}"
    with session_scope(settings.database_url) as session:
        lines = alerts.claim_due(
            session=session,
            now=as_of,
            owner=owner,
            lease=timedelta(minutes=config.lease_minutes),
            limit=config.posts_per_run * config.lines_per_digest,
        )
    counts: Counter[str] = Counter()
    pending = digests(lines, config.lines_per_digest)
    if len(pending) > config.posts_per_run:  # many topics: the rest waits for the next run
        later = [i for d in pending[config.posts_per_run :] for i in d.ids]
        with session_scope(settings.database_url) as session:
            alerts.give_back(session=session, ids=later, owner=owner, now=as_of)
        pending = pending[: config.posts_per_run]
    robot = clients.robot(settings)
    for position, digest in enumerate(pending):
        try:
            robot.post(digest.title, digest.text)
        except ProviderError as error:
            # The robot is down or throttling: this digest and the rest wait for a later run.
            wait = timedelta(minutes=config.retry_minutes)
            if isinstance(error, RateLimited) and error.retry_after:
                wait = max(wait, timedelta(seconds=error.retry_after))
            rest = [i for d in pending[position:] for i in d.ids]
            with session_scope(settings.database_url) as session:
                alerts.mark_failed(
                    session=session,
                    ids=rest,
                    owner=owner,
                    error=error.reason,
                    retry_at=as_of + wait,
                )
            counts["not_posted"] += len(rest)
            get_run_logger().warning(
                "staff alerts: %d lines not posted, retried later: %s", len(rest), error.reason
            )
            break
        with session_scope(settings.database_url) as session:
            alerts.mark_posted(session=session, ids=list(digest.ids), owner=owner, now=as_of)
        counts["posted"] += len(digest.ids)
        counts["digests"] += 1
    return dict(counts)
