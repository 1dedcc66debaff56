"""Purging personal data past its retention period: one page of orders, then the rest."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from aftercare.rules.retention import order_expired, retention_cutoff
from aftercare.settings import get_settings
from aftercare.store import retention
from models.db import session_scope
from tasks.policy import pipeline_task


@dataclass(frozen=True)
class OrderPage:
    """What one page of orders came to; scanned_to is None when no order was left to read."""

    scanned_to: int | None
    expired: int
    kept_for_open_cases: int
    purged: dict[str, int]


@pipeline_task("find-last-order")
def last_order_id() -> int:
    """Return the highest order id: how far the purge's scan has to go."""
    with session_scope(get_settings().database_url) as session:
        return retention.last_order_id(session=session)


@pipeline_task("purge-order-page", run_name="purge-orders-after-{after_id}")
def purge_order_page(now: datetime, after_id: int, dry_run: bool) -> OrderPage:
    """Purge the expired orders among the next page of old orders still holding personal data."""
    settings = get_settings().retention
    with session_scope(get_settings().database_url) as session:
        orders = retention.orders_with_personal_data(
            session=session,
            before=retention_cutoff(now, settings.days),
            after_id=after_id,
            limit=settings.batch_size,
        )
        expired = [o.order_id for o in orders if order_expired(o, now=now, days=settings.days)]
        purged = retention.purge_orders(session=session, order_ids=expired, dry=dry_run)
    return OrderPage(
        scanned_to=orders[-1].order_id if orders else None,
        expired=len(expired),
        kept_for_open_cases=len(orders) - len(expired),
        purged=dict(purged),
    )


@pipeline_task("purge-buyers-and-raw-records")
def purge_buyers_and_raw_records(now: datetime, dry_run: bool) -> dict[str, int]:
    """Pseudonymise old buyers, blank old finished messages, drop raw records past their days."""
    settings = get_settings().retention
    before = retention_cutoff(now, settings.days)
    with session_scope(get_settings().database_url) as session:
        purged: Counter[str] = Counter()
        purged.update(retention.purge_customers(session=session, before=before, dry=dry_run))
        purged.update(retention.purge_unlinked(session=session, before=before, dry=dry_run))
        raw_before = retention_cutoff(now, settings.raw_days)
        purged.update(retention.purge_raw_records(session=session, before=raw_before, dry=dry_run))
    return dict(purged)
