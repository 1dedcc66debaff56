"""The refund sync: every refund modified since a shop's cursor, saved by version.

Run by `sync-refunds`, and by a refund message of a platform without a refund read by id
with its version (Pinduoduo).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from aftercare.clients.platform import ShopPlatform
from aftercare.rules.sync import sync_windows
from aftercare.settings import Settings
from aftercare.shop_context import shop_context
from aftercare.store.refunds import save_refunds
from aftercare.store.rejected import record_rejects
from aftercare.store.shops import ShopInfo
from aftercare.store.trades import advance_cursor, get_cursor
from models.db import session_scope

STREAM = "refunds"


def pull_refunds(
    settings: Settings, shop: ShopInfo, as_of: datetime, client: ShopPlatform
) -> dict[str, int]:
    """Pull every refund modified since the shop's cursor, window by window, and save it."""
    key = shop_context(settings, shop.code, shop.timezone, shop.platform).session_key()
    with session_scope(settings.database_url) as session:
        cursor = get_cursor(session=session, shop_id=shop.id, stream=STREAM)
    counts: Counter[str] = Counter()
    for start, end in sync_windows(
        cursor, as_of, settings.sync, settings.refunds.initial_sync_days
    ):
        for page in client.iter_refunds(key, start, end, page_size=100):
            with session_scope(settings.database_url) as session:
                counts.update(
                    save_refunds(session=session, shop_id=shop.id, refunds=page.refunds, now=as_of)
                )
                record_rejects(
                    session=session, source=f"{shop.platform}.refund", shop_id=shop.id,
                    rejects=list(page.rejected), now=as_of,
                )  # fmt: skip
            counts["rejected"] += len(page.rejected)
        # Moved only after a whole window is saved: a crash repeats, never skips.
        with session_scope(settings.database_url) as session:
            advance_cursor(
                session=session, shop_id=shop.id, stream=STREAM, synced_until=end, now=as_of
            )
    return dict(counts)
