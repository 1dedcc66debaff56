"""Live checks the dispatcher runs right before sending, so a stale database never misleads it."""

from __future__ import annotations

from datetime import datetime, timedelta

from aftercare.clients.errors import AuthenticationError, ProviderError
from aftercare.clients.taobao import TradeNotFound
from aftercare.rules.dispatch import Hold
from aftercare.rules.reminders import UNPAID
from aftercare.settings import Settings
from aftercare.shop_context import ShopNotAuthorised, shop_context
from tasks import limits


def order_unpaid(settings: Settings, shop_code: str, tid: str | None) -> str | None:
    """Return why an unpaid-order reminder must not go out now, or None if it still should.

    Provider failures propagate: without an answer the reminder waits for a later run.
    """
    if tid is None:
        return "the order is unknown"
    try:
        session_key = shop_context(settings, shop_code).session_key()
    except ShopNotAuthorised as error:
        return f"{error}; cannot re-check the order"
    try:
        trade = limits.taobao(settings).trade(session_key, tid)
    except TradeNotFound:
        return "the platform no longer knows the order"
    if trade.status != UNPAID:
        return f"live check: the order is {trade.status} (paid or closed meanwhile)"
    return None


PRECHECKS = {"order_unpaid": order_unpaid}


def live_check(
    settings: Settings, precheck: str, shop_code: str, tid: str | None, now: datetime
) -> Hold | None:
    """Run a message's live check; hold it when the check says no or cannot answer now."""
    try:
        reason = PRECHECKS[precheck](settings, shop_code, tid)
    except ProviderError as error:
        if isinstance(error, AuthenticationError):
            raise
        return Hold(
            "precheck_failed",
            reason=f"could not re-check before sending: {error.reason}",
            retry_at=now + timedelta(minutes=settings.dispatch.retry_backoff_minutes),
        )
    return Hold("suppressed_by_live_check", reason=reason) if reason else None
