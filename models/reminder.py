"""Unpaid-order reminders that worked."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlmodel import Field, Numeric, SQLModel

from models.types import UTCDateTime


class ReminderConversion(SQLModel, table=True):
    """An order paid within the attribution window after a reminder was sent."""

    __tablename__ = "reminder_conversions"

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", unique=True)
    shop_id: int = Field(foreign_key="shops.id", index=True)
    stage: str = Field(max_length=20)
    reminded_at: datetime = Field(sa_type=UTCDateTime)
    paid_at: datetime = Field(sa_type=UTCDateTime, index=True)
    amount: Decimal = Field(sa_type=Numeric(12, 2))
