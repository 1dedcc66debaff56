"""The workbench's users, their sign-in sessions, and the audit of phone reveals."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from models import PhoneReveal, WorkbenchSession, WorkbenchUser


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def save_user(
    *,
    session: Session,
    username: str,
    password_hash: str,
    role: str,
    shops: list[str],
    can_reveal: bool,
    display_name: str,
    now: datetime,
) -> bool:
    """Create the user, or reset an existing one's password, role and shops; True if new.

    A reset also signs the user out everywhere: the old password's sessions end with it.
    """
    values: dict[str, Any] = {
        "password_hash": password_hash,
        "role": role,
        "shops": ",".join(shops),
        "can_reveal": can_reveal,
        "display_name": display_name or username,
        "active": True,
    }
    found = session.exec(select(WorkbenchUser).where(WorkbenchUser.username == username)).first()
    if found is None:
        session.add(WorkbenchUser(username=username, created_at=now, **values))
        return True
    session.execute(update(WorkbenchUser).where(col(WorkbenchUser.id) == found.id).values(values))
    session.execute(delete(WorkbenchSession).where(col(WorkbenchSession.user_id) == found.id))
    return False


def find_user(*, session: Session, username: str) -> WorkbenchUser | None:
    """An active user by name."""
    return session.exec(
        select(WorkbenchUser).where(WorkbenchUser.username == username, WorkbenchUser.active)
    ).first()


def start_session(
    *, session: Session, user_id: int, now: datetime, hours: float
) -> tuple[str, str]:
    """Sign a user in: return the cookie's token and the session's form token (CSRF).

    Sessions that have expired, anyone's, are removed here: sign-ins are few, sessions not kept.
    """
    session.execute(delete(WorkbenchSession).where(col(WorkbenchSession.expires_at) <= now))
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session.add(
        WorkbenchSession(
            token_hash=_digest(token),
            user_id=user_id,
            csrf_token=csrf,
            created_at=now,
            expires_at=now + timedelta(hours=hours),
        )
    )
    return token, csrf


def session_user(
    *, session: Session, token: str, now: datetime
) -> tuple[WorkbenchUser, str] | None:
    """The signed-in user and their form token, or None (no, expired or ended session)."""
    row = session.exec(
        select(WorkbenchUser, WorkbenchSession.csrf_token, WorkbenchSession.expires_at)
        .join(WorkbenchSession, col(WorkbenchSession.user_id) == WorkbenchUser.id)
        .where(WorkbenchSession.token_hash == _digest(token), WorkbenchUser.active)
    ).first()
    if row is None:
        return None
    user, csrf, expires_at = row
    if expires_at <= now:
        return None
    return user, csrf


def end_session(*, session: Session, token: str) -> None:
    """Sign out: the token no longer opens anything."""
    session.execute(
        delete(WorkbenchSession).where(col(WorkbenchSession.token_hash) == _digest(token))
    )


def record_reveal(
    *, session: Session, user: WorkbenchUser, case_id: int, reason: str, now: datetime
) -> None:
    """Write who saw which case's number, and when."""
    session.add(
        PhoneReveal(
            user_id=user.id or 0,
            username=user.username,
            case_id=case_id,
            at=now,
            reason=reason[:200],
        )
    )


def reveals_of(*, session: Session, case_id: int) -> list[PhoneReveal]:
    """Every reveal of a case's number, newest first."""
    return list(
        session.exec(
            select(PhoneReveal)
            .where(PhoneReveal.case_id == case_id)
            .order_by(col(PhoneReveal.at).desc())
        ).all()
    )
