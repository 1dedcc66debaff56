"""How far each shop's data streams have been synced."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel, UniqueConstraint

from models.types import UTCDateTime


class SyncCursor(SQLModel, table=True):
    """The end of the last fully synced window of one stream (e.g. trades) of one shop."""

    __tablename__ = "sync_cursors"

    __table_args__ = (UniqueConstraint("shop_id", "stream"),)

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", index=True)
    stream: str = Field(max_length=30)
    synced_until: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
