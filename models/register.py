"""The problem register (登记表格): every after-sales problem in one table."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Column, Numeric, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime


class RegisteredProblem(SQLModel, table=True):
    """One problem (lost, short, wrong, quality, ...) once, from the record that showed it."""

    __tablename__ = "problem_register"

    __table_args__ = (
        UniqueConstraint("shop_id", "source", "source_id", name="uq_problem_register_source"),
    )

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", index=True)
    source: str = Field(max_length=20)  # refund | case
    source_id: str = Field(max_length=40)
    kind: str = Field(max_length=30, index=True)  # rules.refunds.KINDS codes
    tid: str = Field(max_length=32)
    item: str = Field(default="", max_length=120)
    amount: Decimal = Field(default=Decimal("0"), sa_type=Numeric(12, 2))
    reason: str = Field(default="", max_length=200)  # the buyer's words, or the case's
    answerable: str | None = Field(default=None, max_length=60)  # courier, warehouse, purchasing
    # Links to the buyer's photos (quality problems are kept with them), one per line.
    photos: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    occurred_at: datetime = Field(sa_type=UTCDateTime, index=True)
    registered_at: datetime = Field(sa_type=UTCDateTime)
