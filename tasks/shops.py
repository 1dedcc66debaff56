"""Tasks about the shops the team serves."""

from __future__ import annotations

from prefect import task
from prefect.cache_policies import NO_CACHE

from aftercare.settings import get_settings
from aftercare.store.shops import ShopInfo, active_shops
from models.db import session_scope


@task(name="list-shops", cache_policy=NO_CACHE)
def list_shops(codes: list[str] | None = None) -> list[ShopInfo]:
    """Return the active shops to work on."""
    with session_scope(get_settings().database_url) as session:
        return active_shops(session=session, codes=codes)
