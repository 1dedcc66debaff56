"""Staff alerts: lines for the team's group robot, queued and posted in digests."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime


class StaffAlert(SQLModel, table=True):
    """One line staff must read; posted with others of its topic, retried until it goes out."""

    __tablename__ = "staff_alerts"
    # Due lines in order; only waiting lines have a next attempt (posted ones have none).
    __table_args__ = (Index("ix_staff_alerts_due", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(max_length=120, unique=True)  # review-case:42
    topic: str = Field(max_length=60)  # what a digest gathers: a shop's new bad reviews
    heading: str = Field(max_length=200)
    line: str = Field(sa_type=Text)  # already masked: buyers and phones never in clear
    status: str = Field(default="pending", max_length=20)  # pending | posted
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(sa_type=UTCDateTime)
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claimed_by: str | None = Field(default=None, max_length=40)
    posted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
