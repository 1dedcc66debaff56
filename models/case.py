"""After-sales cases and their append-only history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime


class AfterSalesCase(SQLModel, table=True):
    """One problem to follow up; case_key makes it unique (e.g. one per shipment and anomaly)."""

    __tablename__ = "cases"
    # The workbench's queue reads open cases by their next step's time (of one kind, or all):
    # an index walk, no sort; its counts per kind read one covering index.
    __table_args__ = (
        Index("ix_cases_state_next_action_at", "state", "next_action_at"),
        Index("ix_cases_state_kind_next_action_at", "state", "kind", "next_action_at"),
        Index("ix_cases_open_counts", "state", "shop_id", "kind", "next_action_at", "assigned_to"),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_key: str = Field(max_length=200, unique=True)
    shop_id: int = Field(foreign_key="shops.id", index=True)
    order_id: int | None = Field(default=None, foreign_key="orders.id", index=True)
    shipment_id: int | None = Field(default=None, foreign_key="shipments.id", index=True)
    kind: str = Field(max_length=40, index=True)
    severity: str = Field(default="minor", max_length=20)
    state: str = Field(default="open", max_length=20, index=True)
    next_action: str | None = Field(default=None, max_length=60)
    next_action_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    summary: str = Field(default="", sa_type=Text)
    opened_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
    closed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    close_reason: str | None = Field(default=None, max_length=200)
    # Review follow-ups (中差评): the rating, its cause, the ladder so far, the hard deadline.
    review_id: int | None = Field(default=None, foreign_key="reviews.id", index=True)
    cause: str | None = Field(default=None, max_length=30)
    deadline_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    contact_attempts: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    declines: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    last_outcome: str | None = Field(default=None, max_length=40)
    alerted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The agent who works the case in the workbench (username); None: the shop's queue.
    assigned_to: str | None = Field(default=None, max_length=60, index=True)


class CaseEvent(SQLModel, table=True):
    """What was done on a case, when and by whom; rows are only ever added."""

    __tablename__ = "case_events"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    at: datetime = Field(sa_type=UTCDateTime)
    action: str = Field(max_length=40)
    actor: str = Field(default="system", max_length=60)
    note: str = Field(default="", sa_type=Text)
