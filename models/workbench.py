"""The agents' workbench: its users, their sign-in sessions and the audit of phone reveals."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from models.types import UTCDateTime


class WorkbenchUser(SQLModel, table=True):
    """A person who signs in to the workbench; shops is a comma list ("" = every shop)."""

    __tablename__ = "workbench_users"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=60, unique=True)
    display_name: str = Field(default="", max_length=60)
    password_hash: str = Field(max_length=200)
    role: str = Field(default="agent", max_length=10)  # agent | lead | admin
    shops: str = Field(default="", max_length=500)
    can_reveal: bool = False
    active: bool = True
    created_at: datetime = Field(sa_type=UTCDateTime)


class WorkbenchSession(SQLModel, table=True):
    """A signed-in browser: only the token's hash is kept, with the form token (CSRF)."""

    __tablename__ = "workbench_sessions"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="workbench_users.id", index=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)


class PhoneReveal(SQLModel, table=True):
    """One reveal of a buyer's number to an agent: who, when, which case; only ever added."""

    __tablename__ = "phone_reveals"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="workbench_users.id", index=True)
    username: str = Field(max_length=60)
    case_id: int = Field(foreign_key="cases.id", index=True)
    at: datetime = Field(sa_type=UTCDateTime)
    reason: str = Field(default="", max_length=200)
