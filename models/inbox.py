"""Raw pushes from the courier aggregator, stored first and processed in batches."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime


class TrackingPush(SQLModel, table=True):
    """One verified Kuaidi100 push; processed_at NULL means it still waits for the drain."""

    __tablename__ = "tracking_pushes"

    id: int | None = Field(default=None, primary_key=True)
    received_at: datetime = Field(sa_type=UTCDateTime)
    courier: str = Field(default="", max_length=30)
    waybill: str = Field(default="", max_length=64, index=True)
    status: str = Field(default="", max_length=20)  # polling | shutdown | abort | updateall
    param: str = Field(sa_type=Text)  # the signed JSON, exactly as received
    # SHA-256 of param: Kuaidi100 pushes carry no timestamp, so the same push again is a replay.
    # NULL only on pushes stored before migration 0006 (and on purged duplicates of those).
    digest: str | None = Field(default=None, max_length=64, unique=True, index=True)
    processed_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    claimed_by: str | None = Field(default=None, max_length=40)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    error: str | None = Field(default=None, max_length=500)
