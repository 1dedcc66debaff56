"""Parcels and the courier scans seen for them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field, SQLModel, UniqueConstraint

from models.types import UTCDateTime


class Shipment(SQLModel, table=True):
    """A waybill of an order; next_check_at is when it is next due (NULL: no more checks)."""

    __tablename__ = "shipments"

    __table_args__ = (UniqueConstraint("courier_name", "waybill"),)

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", index=True)
    order_id: int = Field(foreign_key="orders.id", index=True)
    courier_name: str = Field(max_length=60)  # as the platform names it: 圆通速递
    courier: str | None = Field(default=None, max_length=30)  # Kuaidi100 code: yuantong
    waybill: str = Field(max_length=64)
    shipped_at: datetime = Field(sa_type=UTCDateTime)
    province: str | None = Field(default=None, max_length=40)
    city: str | None = Field(default=None, max_length=40)
    status: str = Field(default="pending", max_length=30)
    courier_state: int | None = None
    event_count: int = 0
    last_event_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    signed_by_proxy: bool = False
    last_checked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    next_check_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    claimed_by: str | None = Field(default=None, max_length=40)
    # Push tracking: subscribed once when shipped; an aborted subscription is renewed later.
    subscribed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    subscription: str | None = Field(default=None, max_length=20)  # active | aborted | refused
    subscribe_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    last_push_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    check_error: str | None = Field(default=None, max_length=500)
    check_error_count: int = 0
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class TrackingEvent(SQLModel, table=True):
    """One courier scan; the fingerprint makes re-reading the same history a no-op."""

    __tablename__ = "tracking_events"

    __table_args__ = (UniqueConstraint("shipment_id", "fingerprint"),)

    id: int | None = Field(default=None, primary_key=True)
    shipment_id: int = Field(foreign_key="shipments.id", index=True)
    occurred_at: datetime = Field(sa_type=UTCDateTime)
    context: str = Field(sa_type=Text)
    status_text: str = Field(default="", max_length=20)
    status_code: str | None = Field(default=None, max_length=10)
    area_name: str | None = Field(default=None, max_length=60)
    fingerprint: str = Field(max_length=40)
