"""Tasks about the shops the team serves."""

from __future__ import annotations

from datetime import datetime

from aftercare.settings import get_settings
from aftercare.shop_context import shop_context
from aftercare.store.shops import ShopInfo, active_shops
from aftercare.store.trades import advance_cursor, get_cursor
from models.db import session_scope
from tasks import limits
from tasks.policy import pipeline_task

# The cursor that records a shop's messages were started on the platform's channel.
STREAM = "message-channel"


@pipeline_task("list-shops")
def list_shops(codes: list[str] | None = None) -> list[ShopInfo]:
    """Return the active shops to work on."""
    with session_scope(get_settings().database_url) as session:
        return active_shops(session=session, codes=codes)


@pipeline_task("permit-message-channel")
def permit_message_channel(as_of: datetime) -> int:
    """Start each active shop's messages on its platform's channel (TMC, PMC), once per shop;
    return how many now."""
    settings = get_settings()
    with session_scope(settings.database_url) as session:
        waiting = [
            s
            for s in active_shops(session=session)
            if get_cursor(session=session, shop_id=s.id, stream=STREAM) is None
        ]
    for shop in waiting:
        context = shop_context(settings, shop.code, shop.timezone, shop.platform)
        limits.platform(settings, shop.platform).permit_messages(context.session_key())
        with session_scope(settings.database_url) as session:
            advance_cursor(
                session=session, shop_id=shop.id, stream=STREAM, synced_until=as_of, now=as_of
            )
    return len(waiting)
