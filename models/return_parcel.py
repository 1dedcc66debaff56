"""Parcels buyers send back on a refund (退货), tracked with the couriers like any parcel."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel, UniqueConstraint

from models.types import UTCDateTime


class ReturnParcel(SQLModel, table=True):
    """The return waybill of one refund; next_check_at NULL means no more checks."""

    __tablename__ = "return_parcels"

    __table_args__ = (UniqueConstraint("shop_id", "refund_id", name="uq_return_parcels_refund"),)

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", index=True)
    refund_id: str = Field(max_length=32)
    courier_name: str = Field(max_length=60)
    waybill: str = Field(max_length=64)
    status: str = Field(default="pending", max_length=30)  # rules.tracking.ShipmentStatus
    courier_state: int | None = None
    event_count: int = 0
    last_event_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    check_failures: int = 0
    check_error: str | None = Field(default=None, max_length=500)
    # When the buyer's waybill was first seen: the age its anomalies are measured from.
    seen_at: datetime = Field(sa_type=UTCDateTime)
    last_checked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    next_check_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
