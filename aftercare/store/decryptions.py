"""The daily count of OAIDs each shop decrypted, taken before each call to the platform."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from models import OaidDecryptionDay
from models.db import insert_ignore


def take_quota(
    *, session: Session, shop_id: int, day: date, count: int, quota: int, now: datetime
) -> int:
    """Count up to `count` decryptions against the shop's day; return how many fit its quota.

    Compare-and-set on the count: two runs decrypting at once never pass the quota together.
    """
    insert_ignore(
        session,
        OaidDecryptionDay,
        [{"shop_id": shop_id, "day": day, "used": 0, "updated_at": now}],
        keys=["shop_id", "day"],
    )
    for _ in range(5):
        used = session.exec(
            select(OaidDecryptionDay.used).where(
                OaidDecryptionDay.shop_id == shop_id, OaidDecryptionDay.day == day
            )
        ).one()
        granted = max(0, min(count, quota - used))
        if not granted:
            return 0
        taken = session.execute(
            update(OaidDecryptionDay)
            .where(
                col(OaidDecryptionDay.shop_id) == shop_id,
                col(OaidDecryptionDay.day) == day,
                col(OaidDecryptionDay.used) == used,
            )
            .values(used=used + granted, updated_at=now)
        )
        if taken.rowcount:  # type: ignore[attr-defined]
            return granted
    return 0  # others keep taking it: this batch goes without
