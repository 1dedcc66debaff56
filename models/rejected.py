"""Provider records we could not use, with the reason, so nothing bad is silently dropped."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel, UniqueConstraint

from models.types import UTCDateTime


class RejectedRecord(SQLModel, table=True):
    """A record skipped as bad input (e.g. an unreadable trade); the rest of its batch went on."""

    __tablename__ = "rejected_records"
    __table_args__ = (UniqueConstraint("source", "record_key"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=60)  # taobao.trade, kuaidi100.query ...
    record_key: str = Field(max_length=120)
    shop_id: int | None = Field(default=None, foreign_key="shops.id")
    reason: str = Field(max_length=500)
    first_seen_at: datetime = Field(sa_type=UTCDateTime)
    last_seen_at: datetime = Field(sa_type=UTCDateTime)
    times: int = 1
