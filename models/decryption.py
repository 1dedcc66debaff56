"""How many OAIDs each shop decrypted on each day, counted against the platform's quota."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime


class OaidDecryptionDay(SQLModel, table=True):
    """One shop's decryptions on one day of the shop (no number is ever kept here)."""

    __tablename__ = "oaid_decryptions"

    __table_args__ = (UniqueConstraint("shop_id", "day", name="uq_oaid_decryptions_day"),)

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", index=True)
    day: date
    used: int = 0
    updated_at: datetime = Field(sa_type=UTCDateTime)
