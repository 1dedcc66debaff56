"""Recording bad provider records with their reason."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from models import RejectedRecord
from models.db import upsert


def record_rejects(
    *,
    session: Session,
    source: str,
    shop_id: int | None,
    rejects: list[tuple[str, str]],
    now: datetime,
) -> None:
    """Record (key, reason) pairs of records skipped as bad input."""
    rows = [
        {
            "source": source,
            "record_key": key[:120],
            "shop_id": shop_id,
            "reason": reason[:500],
            "first_seen_at": now,
            "last_seen_at": now,
            "times": 1,
        }
        for key, reason in dict(rejects).items()
    ]
    upsert(
        session,
        RejectedRecord,
        rows,
        keys=["source", "record_key"],
        update=["reason", "last_seen_at"],
    )
