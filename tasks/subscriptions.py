"""Subscribing parcels to the courier's pushes (each answer recorded, refusals polled)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from prefect import get_run_logger

from aftercare.clients.errors import AuthenticationError, ProviderError, RequestRejected
from aftercare.settings import get_settings
from aftercare.store.shipments import claim_subscriptions, record_subscriptions
from models.db import session_scope
from tasks import limits
from tasks.policy import pipeline_task


@pipeline_task("subscribe-shipments")
def subscribe_shipments(as_of: datetime) -> dict[str, int]:
    """Subscribe every new (or aborted) parcel for pushes; 501 duplicates count as subscribed."""
    settings = get_settings()
    logger = get_run_logger()
    courier = limits.kuaidi100(settings)
    lease = timedelta(minutes=settings.logistics.claim_lease_minutes)
    with session_scope(settings.database_url) as session:
        parcels = claim_subscriptions(
            session=session, now=as_of, lease=lease, limit=settings.logistics.subscriptions_per_run
        )
    outcomes: dict[int, str] = {}
    for parcel in parcels:
        assert parcel.courier is not None
        try:
            courier.subscribe(
                parcel.courier,
                parcel.waybill,
                callback_url=settings.kuaidi100_callback_url,
                salt=settings.kuaidi100_salt.get_secret_value(),
                phone=parcel.phone,
                destination=parcel.destination,
            )
            outcomes[parcel.id] = "active"
        except AuthenticationError:
            raise
        except RequestRejected as error:  # the courier will not push this one: poll it
            logger.warning("waybill %s not subscribed: %s", parcel.waybill, error.reason)
            outcomes[parcel.id] = "refused"
        except ProviderError as error:
            logger.warning("waybill %s: subscribe later: %s", parcel.waybill, error.reason)
            outcomes[parcel.id] = "retry"
    retry_at = as_of + timedelta(minutes=settings.logistics.resubscribe_after_minutes)
    with session_scope(settings.database_url) as session:
        record_subscriptions(session=session, outcomes=outcomes, now=as_of, retry_at=retry_at)
    return dict(Counter(f"subscriptions:{o}" for o in outcomes.values()))
