"""Buyers' neutral and bad ratings, as synced from the shop platform."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field, SQLModel, UniqueConstraint

from models.types import UTCDateTime


class Review(SQLModel, table=True):
    """A rating of one sub-order; result and follow-up review are kept current by the sync."""

    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("shop_id", "oid"),)

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", index=True)
    order_id: int | None = Field(default=None, foreign_key="orders.id", index=True)
    tid: str = Field(max_length=32)
    oid: str = Field(max_length=32)
    buyer_nick: str = Field(max_length=100)
    result: str = Field(max_length=10)  # good | neutral | bad, as it stands now
    first_result: str = Field(max_length=10)
    content: str = Field(default="", sa_type=Text)
    item_title: str = Field(default="", max_length=200)
    rated_at: datetime = Field(sa_type=UTCDateTime)
    append_content: str | None = Field(default=None, sa_type=Text)
    append_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reply: str | None = Field(default=None, sa_type=Text)
    first_seen_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
