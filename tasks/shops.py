"""Tasks about the shops the team serves."""

from __future__ import annotations

from aftercare.settings import get_settings
from aftercare.store.shops import ShopInfo, active_shops
from models.db import session_scope
from tasks.policy import pipeline_task


@pipeline_task("list-shops")
def list_shops(codes: list[str] | None = None) -> list[ShopInfo]:
    """Return the active shops to work on."""
    with session_scope(get_settings().database_url) as session:
        return active_shops(session=session, codes=codes)
