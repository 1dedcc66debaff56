"""Who may be contacted: blacklists, opt-outs and the daily contact slots behind frequency caps."""

from __future__ import annotations

from datetime import date, datetime

from sqlmodel import Field, SQLModel, UniqueConstraint

from models.types import UTCDateTime


class BlacklistEntry(SQLModel, table=True):
    """A buyer nick or phone a shop never messages (the shop's SMS blacklist)."""

    __tablename__ = "blacklist"
    __table_args__ = (UniqueConstraint("shop_id", "kind", "value"),)

    id: int | None = Field(default=None, primary_key=True)
    shop_id: int = Field(foreign_key="shops.id", index=True)
    kind: str = Field(max_length=10)  # nick | phone
    value: str = Field(max_length=100)
    note: str = Field(default="", max_length=200)
    added_at: datetime = Field(sa_type=UTCDateTime)


class OptOut(SQLModel, table=True):
    """A buyer nick or phone that asked for no more messages, for every shop of the team."""

    __tablename__ = "opt_outs"
    __table_args__ = (UniqueConstraint("kind", "value"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=10)  # nick | phone
    value: str = Field(max_length=100)
    source: str = Field(default="", max_length=60)
    opted_out_at: datetime = Field(sa_type=UTCDateTime)


class ContactSlot(SQLModel, table=True):
    """One contact of a kind per subject per local day; the unique key is the frequency cap."""

    __tablename__ = "contact_slots"
    __table_args__ = (UniqueConstraint("scope", "subject", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(max_length=30)  # e.g. unpaid_reminder
    subject: str = Field(max_length=64)  # a hash of "nick:..." or "phone:..."; no raw data
    day: date
    taken_by: str = Field(max_length=200)  # the outbox key that took it
    taken_at: datetime = Field(sa_type=UTCDateTime)


class ContactGap(SQLModel, table=True):
    """When a phone was last messaged; taking it is how concurrent senders keep the minimum gap."""

    __tablename__ = "contact_gaps"

    subject: str = Field(primary_key=True, max_length=64)  # a hash of the phone
    last_at: datetime = Field(sa_type=UTCDateTime)


class WebhookReceipt(SQLModel, table=True):
    """A signed webhook call already accepted: the same signature again is a replay."""

    __tablename__ = "webhook_receipts"

    signature: str = Field(primary_key=True, max_length=128)
    source: str = Field(max_length=30)
    received_at: datetime = Field(sa_type=UTCDateTime, index=True)
