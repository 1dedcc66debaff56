"""The outbox: one row per message we intend to send a customer, keyed for exactly-once."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime


class OutboxStatus(StrEnum):
    """Where a message stands."""

    PENDING = "pending"
    SENDING = "sending"  # claimed by a dispatcher; reconciled with the provider if it vanishes
    SENT = "sent"
    FAILED = "failed"
    SUPPRESSED = "suppressed"  # decided not to send; the reason says why


class OutboxMessage(SQLModel, table=True):
    """A customer message; the idempotency key is derived from the business event it is for."""

    __tablename__ = "outbox"

    __table_args__ = (
        # Due messages in send order, read in index order with no sort however long the queue:
        # only waiting and in-flight messages have a next attempt, and the status is in the
        # index, so the rows that are not due cost no table lookups.
        Index("ix_outbox_due", "next_attempt_at", "status"),
        # Messages whose send outcome is unknown, oldest lease first (the reconciler); only
        # claimed messages have a lease. No index may start with the status: the planners
        # would take it for the due query and sort the whole queue.
        Index("ix_outbox_in_doubt", "claimed_until", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=200, unique=True)
    # What the SMS provider knows the message by (its OutId), fixed once a send may have been
    # tried: the lost-answer lookup finds the message by it even if the key's format changes.
    out_id: str | None = Field(default=None, max_length=200)
    shop_id: int = Field(foreign_key="shops.id", index=True)
    customer_id: int | None = Field(default=None, foreign_key="customers.id", index=True)
    order_id: int | None = Field(default=None, foreign_key="orders.id", index=True)
    case_id: int | None = Field(default=None, foreign_key="cases.id")
    purpose: str = Field(max_length=60)  # the template name: logistics_stalled_minor
    # marketing messages need consent and count against the caps; urgent ones skip the gap.
    category: str = Field(
        default="transactional", max_length=20, sa_column_kwargs={"server_default": "transactional"}
    )
    urgent: bool = Field(default=False, sa_column_kwargs={"server_default": "0"})
    channel: str = Field(default="sms", max_length=20)
    phone: str | None = Field(default=None, max_length=20)
    # Set for channel "oaid_sms": the platform finds the number behind it.
    oaid: str | None = Field(default=None, max_length=64)
    template_code: str = Field(max_length=40)
    params: str = Field(default="{}", sa_type=Text)  # JSON of the template's variables
    text: str = Field(default="", sa_type=Text)  # what the customer reads
    status: str = Field(default=OutboxStatus.PENDING, max_length=20)
    reason: str | None = Field(default=None, max_length=500)
    provider_message_id: str | None = Field(default=None, max_length=100)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=500)
    retryable: bool = True
    created_at: datetime = Field(sa_type=UTCDateTime)
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # After this the message is no longer worth sending (e.g. a reminder past its window).
    expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # A live check the dispatcher runs right before sending (e.g. "order_unpaid").
    precheck: str | None = Field(default=None, max_length=30)
    claimed_by: str | None = Field(default=None, max_length=40)
    claimed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The world's time (the provider's clock) when the last attempt left; a replay's business
    # time can be days earlier, and a lost answer is looked up on the day it really left.
    attempted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # A message SMS cannot carry (masked phone) is handed to an agent to send in the platform's
    # chat: who did, and when.
    handed_off_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    handed_off_by: str | None = Field(default=None, max_length=60)
