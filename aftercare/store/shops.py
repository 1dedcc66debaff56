"""Registering and listing the shops the team serves."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from models import Shop
from models.db import upsert


@dataclass(frozen=True, slots=True)
class ShopInfo:
    """What pipelines need to know of a shop."""

    id: int
    code: str
    name: str
    sms_sign_name: str
    sender_phone: str | None
    sms_enabled: bool
    timezone: str | None = None
    platform: str = "taobao"


def register_shop(
    *,
    session: Session,
    code: str,
    name: str,
    seller_nick: str,
    sms_sign_name: str,
    sender_phone: str | None = None,
    sms_enabled: bool = True,
    platform: str = "taobao",
) -> None:
    """Add a shop or update its details; `platform` names where it sells."""
    row = {
        "code": code,
        "name": name,
        "platform": platform,
        "seller_nick": seller_nick,
        "sms_sign_name": sms_sign_name,
        "sender_phone": sender_phone,
        "sms_enabled": sms_enabled,
        "active": True,
    }
    upsert(session, Shop, [row], keys=["code"], update=[k for k in row if k != "code"])


def active_shops(*, session: Session, codes: list[str] | None = None) -> list[ShopInfo]:
    """Return the active shops, optionally only those with the given codes."""
    query = select(Shop).where(Shop.active == True)  # noqa: E712 (SQL expression)
    if codes:
        query = query.where(Shop.code.in_(codes))  # type: ignore[attr-defined]
    return [
        ShopInfo(
            s.id or 0,
            s.code,
            s.name,
            s.sms_sign_name,
            s.sender_phone,
            s.sms_enabled,
            s.timezone,
            s.platform,
        )
        for s in session.exec(query.order_by(Shop.code))
    ]
