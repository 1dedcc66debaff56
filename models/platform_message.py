"""Messages from the shop platform's channel, stored raw before they are confirmed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime


class PlatformMessage(SQLModel, table=True):
    """One channel message; applied_at NULL means it still waits to be applied."""

    __tablename__ = "platform_messages"
    # The channel delivers at least once: the platform's message id makes a repeat harmless.
    __table_args__ = (UniqueConstraint("platform", "message_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(default="taobao", max_length=20)
    message_id: str = Field(max_length=40)
    topic: str = Field(max_length=80, index=True)
    shop_id: int | None = Field(default=None, foreign_key="shops.id", index=True)
    tid: str | None = Field(default=None, max_length=32, index=True)
    refund_id: str | None = Field(default=None, max_length=32)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    received_at: datetime = Field(sa_type=UTCDateTime)
    content: str = Field(sa_type=Text)  # as received; the retention purge empties it
    applied_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    outcome: str | None = Field(default=None, max_length=500)  # what applying it did, or why not
    claimed_by: str | None = Field(default=None, max_length=40)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
