"""Shops the team serves and the customers (buyers) of each."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel, UniqueConstraint

from models.types import UTCDateTime


class Shop(SQLModel, table=True):
    """A shop on a platform; its API session key lives in the settings, never here."""

    __tablename__ = "shops"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)
    name: str = Field(max_length=100)
    platform: str = Field(default="taobao", max_length=20)
    seller_nick: str = Field(max_length=100)
    sms_sign_name: str = Field(max_length=40)
    # Couriers that demand a phone accept the sender's when the buyer's is masked.
    sender_phone: str | None = Field(default=None, max_length=20)
    timezone: str | None = Field(default=None, max_length=40)
    sms_enabled: bool = True
    active: bool = True


class Customer(SQLModel, table=True):
    """A buyer of one shop, known by the platform's open uid (the nick is only shown)."""

    __tablename__ = "customers"

    __table_args__ = (UniqueConstraint("shop_id", "buyer_id", name="uq_customers_buyer"),)

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", index=True)
    # "uid:<buyer_open_uid>"; "nick:<nick>" for buyers known only by nick (member exports,
    # trades synced before the platform gave uids). TOP blurs nicks: several buyers share one.
    buyer_id: str = Field(max_length=120)
    buyer_nick: str = Field(max_length=100, index=True)
    name: str | None = Field(default=None, max_length=60)
    phone: str | None = Field(default=None, max_length=20)
    phone_masked: bool = False
    first_seen_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    # From the shop's member programme (会员资料), when the buyer is a member.
    birthday: date | None = None
    member_grade: int | None = None
    tags: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})
    # Marketing needs the buyer's consent on record; order notices do not.
    marketing_consent: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})
    consent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
