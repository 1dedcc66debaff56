"""Syncing a shop's neutral and bad ratings from the platform."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from aftercare.clients.platform import TAOBAO
from aftercare.clients.taobao_ratings import RatingPage
from aftercare.rules.sync import usable_ratings
from aftercare.settings import Settings, get_settings
from aftercare.shop_context import shop_context
from aftercare.store import reviews as store
from aftercare.store.rejected import record_rejects
from aftercare.store.shops import ShopInfo
from aftercare.store.trades import advance_cursor, get_cursor
from models.db import session_scope
from tasks import limits
from tasks.policy import pipeline_task

STREAM = "ratings"
WINDOW = timedelta(days=7)


def pull_rating_window(
    settings: Settings, shop: ShopInfo, start: datetime, end: datetime, now: datetime
) -> Counter[str]:
    """Fetch and save the shop's neutral and bad ratings created in one window."""
    client = limits.taobao(settings)
    key = shop_context(settings, shop.code, shop.timezone).session_key()
    counts: Counter[str] = Counter()
    for result in ("neutral", "bad"):
        for page in client.iter_ratings(
            key, start, end, page_size=settings.reviews.page_size, result=result
        ):
            counts.update(_save(settings, shop, page, now))
    return counts


def _save(settings: Settings, shop: ShopInfo, page: RatingPage, now: datetime) -> Counter[str]:
    """Save a page's usable ratings and record why the others were refused."""
    tolerance = timedelta(minutes=settings.sync.future_tolerance_minutes)
    ratings, rejected = usable_ratings(page, now, tolerance)
    with session_scope(settings.database_url) as session:
        new = store.save_ratings(session=session, shop_id=shop.id, ratings=ratings, now=now)
        record_rejects(
            session=session, source="taobao.rating", shop_id=shop.id, rejects=rejected, now=now
        )
    return Counter(new=new, rejected=len(rejected))


@pipeline_task("sync-ratings", run_name="sync-ratings-{shop.code}", retries=2)
def sync_ratings(shop: ShopInfo, as_of: datetime) -> dict[str, int]:
    """Fetch new neutral and bad ratings, and re-read the ratings of open cases."""
    settings = get_settings()
    if shop.platform != TAOBAO:  # Pinduoduo's API lists no reviews: nothing to follow up
        return {"platform_without_ratings": 1}
    client = limits.taobao(settings)
    with session_scope(settings.database_url) as session:
        cursor = get_cursor(session=session, shop_id=shop.id, stream=STREAM)
    if cursor is None:  # first run: as far back as a rating can still be explained
        start = as_of - timedelta(days=settings.reviews.initial_sync_days)
    else:  # late-indexed ratings are fetched again
        start = cursor - timedelta(days=settings.reviews.lookback_days)
    counts: Counter[str] = Counter()
    while start < as_of:
        end = min(start + WINDOW, as_of)
        counts.update(pull_rating_window(settings, shop, start, end, as_of))
        with session_scope(settings.database_url) as session:
            advance_cursor(
                session=session, shop_id=shop.id, stream=STREAM, synced_until=end, now=as_of
            )
        start = end
    # A revision to good or a follow-up review changes a rating but not its date: re-read them.
    with session_scope(settings.database_url) as session:
        open_cases = store.open_review_cases(session=session, shop_id=shop.id)
    key = shop_context(settings, shop.code, shop.timezone).session_key()
    minute = timedelta(minutes=1)
    for item in open_cases:
        rated, tid = item.review.rated_at, item.review.tid
        page = client.ratings_page(
            key, rated - minute, rated + minute, page_no=1, page_size=20, tid=tid
        )
        _save(settings, shop, page, as_of)
        counts["refreshed"] += 1
    return dict(counts)
