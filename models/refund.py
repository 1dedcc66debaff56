"""Buyers' refunds (退款/退货) as the platform has them, with their timers and our reading."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Column, Numeric, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime


class Refund(SQLModel, table=True):
    """One refund of one shop; a newer version replaces it, an older one never does."""

    __tablename__ = "refunds"

    __table_args__ = (UniqueConstraint("shop_id", "refund_id", name="uq_refunds_refund"),)

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", index=True)
    refund_id: str = Field(max_length=32)
    tid: str = Field(max_length=32)
    oid: str | None = Field(default=None, max_length=32)
    order_id: int | None = Field(default=None, foreign_key="orders.id", index=True)
    status: str = Field(max_length=40, index=True)  # in Taobao's words
    # The platform's own where they differ (Pinduoduo's after_sales_status and type).
    raw_status: str | None = Field(default=None, max_length=60)
    kind: str = Field(max_length=30)  # our reading of the reason (rules.refunds.KINDS)
    has_good_return: bool = False
    good_status: str | None = Field(default=None, max_length=40)
    reason: str = Field(default="", max_length=200)
    title: str = Field(default="", max_length=120)
    refund_fee: Decimal = Field(default=Decimal("0"), sa_type=Numeric(12, 2))
    created_at: datetime = Field(sa_type=UTCDateTime)
    modified_at: datetime = Field(sa_type=UTCDateTime)
    # The platform's compare-and-set token: passed back on every action.
    version: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    # When the platform decides for the buyer unless the seller acts first.
    seller_deadline: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    return_company: str | None = Field(default=None, max_length=40)
    return_waybill: str | None = Field(default=None, max_length=40)
    # The platform decided because the seller's time ran out (counted in the report).
    decided_by_timer: bool = False
    synced_at: datetime = Field(sa_type=UTCDateTime)


class RefundAction(SQLModel, table=True):
    """A platform action taken on a refund: claimed before it is carried out, so never twice."""

    __tablename__ = "refund_actions"

    __table_args__ = (
        UniqueConstraint("shop_id", "refund_id", "action", name="uq_refund_actions_once"),
    )

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", index=True)
    refund_id: str = Field(max_length=32)
    action: str = Field(max_length=30)  # agree | agree_return | refuse
    # The refund_version the action was decided on and passed to the platform.
    version: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    status: str = Field(max_length=20)  # claimed | done | failed
    actor: str = Field(default="pipeline", max_length=40)  # the pipeline, or the agent's name
    reason: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
