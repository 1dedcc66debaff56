"""Live checks the dispatcher runs right before sending, so a stale database never misleads it."""

from __future__ import annotations

from aftercare.clients.taobao import TradeNotFound
from aftercare.rules.reminders import UNPAID
from aftercare.settings import Settings
from tasks import limits


def order_unpaid(settings: Settings, shop_code: str, tid: str | None) -> str | None:
    """Return why an unpaid-order reminder must not go out now, or None if it still should.

    Provider failures propagate: without an answer the reminder waits for a later run.
    """
    if tid is None:
        return "the order is unknown"
    session_key = settings.taobao_sessions.get(shop_code)
    if session_key is None:
        return f"no Taobao session key for shop {shop_code}: cannot re-check the order"
    try:
        trade = limits.taobao(settings).trade(session_key.get_secret_value(), tid)
    except TradeNotFound:
        return "the platform no longer knows the order"
    if trade.status != UNPAID:
        return f"live check: the order is {trade.status} (paid or closed meanwhile)"
    return None


PRECHECKS = {"order_unpaid": order_unpaid}
