"""Orders (trades) and their items, as synced from the shop platform."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlmodel import Field, Numeric, SQLModel, UniqueConstraint

from models.types import UTCDateTime


class Order(SQLModel, table=True):
    """A trade; receiver details are kept to the minimum the pipelines need (PIPL art. 6)."""

    __tablename__ = "orders"

    __table_args__ = (UniqueConstraint("shop_id", "tid"),)

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", index=True)
    customer_id: int = Field(foreign_key="customers.id", index=True)
    tid: str = Field(max_length=32)
    status: str = Field(max_length=40, index=True)
    # The platform's own words for the status where `status` translates them (Pinduoduo).
    raw_status: str | None = Field(default=None, max_length=60)
    trade_type: str = Field(default="fixed", max_length=30)
    created_at: datetime = Field(sa_type=UTCDateTime)
    modified_at: datetime = Field(sa_type=UTCDateTime)
    paid_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    consigned_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    payment: Decimal = Field(default=Decimal("0"), sa_type=Numeric(12, 2))
    receiver_name: str | None = Field(default=None, max_length=60)
    receiver_phone: str | None = Field(default=None, max_length=20)
    phone_masked: bool = False
    # The receiver's OAID (SMS by the platform without the number); purged with the phone.
    oaid: str | None = Field(default=None, max_length=64)
    # The last four digits a masked number still shows: enough for SF/ZTO tracking queries.
    receiver_phone_tail: str | None = Field(default=None, max_length=4)
    province: str | None = Field(default=None, max_length=40)
    city: str | None = Field(default=None, max_length=40)
    synced_at: datetime = Field(sa_type=UTCDateTime)
    # The next unpaid-order reminder stage and when it is due (NULL: nothing more to remind).
    reminder_stage: str | None = Field(default=None, max_length=20)
    reminder_due_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    reminder_claimed_by: str | None = Field(default=None, max_length=40)


class OrderItem(SQLModel, table=True):
    """One sub-order: what was bought and how it was shipped."""

    __tablename__ = "order_items"

    __table_args__ = (UniqueConstraint("order_id", "oid"),)

    id: int | None = Field(default=None, primary_key=True)
    order_id: int = Field(foreign_key="orders.id", index=True)
    oid: str = Field(max_length=32)
    title: str = Field(max_length=200)
    quantity: int = 1
    price: Decimal = Field(default=Decimal("0"), sa_type=Numeric(12, 2))
    category_id: str | None = Field(default=None, max_length=20)
    logistics_company: str | None = Field(default=None, max_length=60)
    waybill: str | None = Field(default=None, max_length=64)
