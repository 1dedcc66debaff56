"""Blacklist and opt-out entries, as agents record them."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, select

from aftercare.phones import normalise_phone
from models import BlacklistEntry, OptOut, Shop, WebhookReceipt
from models.db import insert_ignore


def contact_value(kind: str, value: object) -> str:
    """Return the value stored for a contact rule: phones normalised (PhoneRefused if unusable)."""
    if kind == "phone":
        return normalise_phone(value)
    if kind == "nick" and isinstance(value, str) and value.strip():
        return value.strip()
    raise ValueError(f"a {kind} rule needs a {kind}")


def add_to_blacklist(
    *, session: Session, shop_code: str, kind: str, value: str, note: str, now: datetime
) -> bool:
    """Put a buyer nick or phone on a shop's blacklist; False if it was already there."""
    value = contact_value(kind, value)
    shop = session.exec(select(Shop).where(Shop.code == shop_code)).one()
    row = {"shop_id": shop.id, "kind": kind, "value": value, "note": note, "added_at": now}
    return bool(insert_ignore(session, BlacklistEntry, [row], keys=["shop_id", "kind", "value"]))


def opt_out(*, session: Session, kind: str, value: str, source: str, now: datetime) -> bool:
    """Record that a buyer nick or phone wants no more messages from any shop of the team."""
    value = contact_value(kind, value)
    row = {"kind": kind, "value": value, "source": source, "opted_out_at": now}
    return bool(insert_ignore(session, OptOut, [row], keys=["kind", "value"]))


def remember_webhook(*, session: Session, source: str, signature: str, now: datetime) -> bool:
    """Record a signed call; False if the same signature was seen before (a replay)."""
    row = {"signature": signature[:128], "source": source, "received_at": now}
    return bool(insert_ignore(session, WebhookReceipt, [row], keys=["signature"]))
