"""Care messages (关怀): touch-points, Chinese holidays, consent and frequency caps."""

from __future__ import annotations

import tomllib
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import cache
from importlib import resources

from lunar_python import Lunar

from aftercare.rules.notices import MASKED, MOBILE, OAID_SMS, channel_for


class TouchPoint(StrEnum):
    """When a shop talks to its buyers."""

    SHIPPED = "shipped"
    DELIVERED = "delivered"
    REVISIT = "revisit"
    CONFIRMED = "confirmed"
    BIRTHDAY = "birthday"
    HOLIDAY = "holiday"
    NEW_PRODUCT = "new_product"


# Order notices are transactional; greetings and previews are marketing (consent needed).
MARKETING = frozenset({TouchPoint.BIRTHDAY, TouchPoint.HOLIDAY, TouchPoint.NEW_PRODUCT})

# Lunar-calendar festivals as (lunar month, day); solar ones as (month, day).
LUNAR_HOLIDAYS = {"春节": (1, 1), "元宵节": (1, 15), "端午节": (5, 5), "中秋节": (8, 15)}
SOLAR_HOLIDAYS = {"元旦": (1, 1), "国庆节": (10, 1)}


@cache
def holidays(year: int) -> dict[date, str]:
    """Return the greeting holidays of a Gregorian year; lunar dates computed by lunar_python."""
    found = {date(year, m, d): name for name, (m, d) in SOLAR_HOLIDAYS.items()}
    for name, (month, day) in LUNAR_HOLIDAYS.items():
        # A lunar year straddles two Gregorian years: look at both.
        for lunar_year in (year - 1, year):
            solar = Lunar.fromYmd(lunar_year, month, day).getSolar()
            if solar.getYear() == year:
                found[date(year, solar.getMonth(), solar.getDay())] = name
    return dict(sorted(found.items()))


def holiday_on(day: date) -> str | None:
    """Return the name of the holiday on a day, if any."""
    return holidays(day.year).get(day)


def is_birthday(birthday: date | None, today: date) -> bool:
    """Tell whether today is the birthday (29 February is celebrated on 28 February)."""
    if birthday is None:
        return False
    if birthday.month == 2 and birthday.day == 29 and not _leap(today.year):
        return today.month == 2 and today.day == 28
    return (birthday.month, birthday.day) == (today.month, today.day)


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def auto_confirmed(consigned_at: datetime | None, ended_at: datetime, auto_days: int) -> bool:
    """Tell whether the platform confirmed receipt on its own (at shipping + auto_days)."""
    if consigned_at is None:
        return False
    return ended_at >= consigned_at + timedelta(days=auto_days) - timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Reachability:
    """What decides whether a care message may reach a buyer."""

    phone: str | None
    phone_masked: bool
    sms_enabled: bool
    consent: bool
    opted_out: bool
    oaid: str | None = None  # given where the shop may text by OAID


def care_blocker(marketing: bool, who: Reachability) -> str | None:
    """Return why a care message must not be sent, or None when it may be."""
    if not who.sms_enabled:
        return "the shop has SMS turned off"
    if marketing and who.opted_out:
        return "the buyer opted out of marketing messages"
    if marketing and not who.consent:
        return "no marketing consent on record"
    if channel_for(who.phone, who.phone_masked, who.oaid) == OAID_SMS:
        return None
    if who.phone_masked:
        return MASKED
    if not who.phone:
        return "no phone number on file"
    if not MOBILE.match(who.phone):
        return "invalid mobile number"
    return None


# Replies that mean "stop texting me" (回T退订), after removing spaces and punctuation.
OPT_OUT_WORDS = frozenset({"T", "TD", "N", "退订", "回T退订", "TD退订", "取消订阅", "不要再发了"})


def is_opt_out(reply: str) -> bool:
    """Tell whether a buyer's SMS reply asks to stop messages."""
    # Full-width letters (Ｔ, ＴＤ) are what many phones' keyboards type.
    folded = unicodedata.normalize("NFKC", reply).upper()
    cleaned = "".join(ch for ch in folded if ch.isalnum() or "\u4e00" <= ch <= "\u9fff")
    return cleaned in OPT_OUT_WORDS


def within_weekly_cap(sent_this_week: int, per_week: int) -> bool:
    """Tell whether one more marketing message keeps the buyer within the weekly cap."""
    return sent_this_week < per_week


def weekly_cap_reason(sent_this_week: int, per_week: int) -> str | None:
    """Return why the weekly marketing cap stops one more message, or None."""
    if within_weekly_cap(sent_this_week, per_week):
        return None
    return f"weekly marketing cap reached ({per_week} a week)"


def is_marketing(touchpoint: TouchPoint, revisit_is_marketing: bool) -> bool:
    """Tell whether a touch-point's message is marketing (consent and caps apply)."""
    return touchpoint in MARKETING or (touchpoint is TouchPoint.REVISIT and revisit_is_marketing)


def template_name(touchpoint: TouchPoint, marketing: bool) -> str:
    """The template of a touch-point (a revisit that sells has its own wording)."""
    marketing_revisit = marketing and touchpoint is TouchPoint.REVISIT
    return f"care_{touchpoint}" + ("_marketing" if marketing_revisit else "")


@dataclass(frozen=True, slots=True)
class OrderFacts:
    """What an order notice needs of its order."""

    courier: str | None = None
    waybill: str | None = None
    category_id: str | None = None
    consigned_at: datetime | None = None
    ended_at: datetime | None = None
    blocked_by_case: bool = False


def order_notice_params(touchpoint: TouchPoint, order: OrderFacts) -> dict[str, object]:
    """The template parameters of an order notice."""
    if touchpoint is TouchPoint.SHIPPED:
        return {"courier": order.courier or "快递", "waybill": order.waybill or ""}
    if touchpoint is TouchPoint.DELIVERED:
        return {"tip": care_tip(order.category_id)}
    return {}


def order_notice_skip(
    touchpoint: TouchPoint, order: OrderFacts, auto_confirm_days: int
) -> str | None:
    """Return why an order notice is not sent for this order, or None."""
    if touchpoint is TouchPoint.REVISIT and order.blocked_by_case:
        return "an after-sales case or a bad review is open for the order"
    if (
        touchpoint is TouchPoint.CONFIRMED
        and order.ended_at
        and auto_confirmed(order.consigned_at, order.ended_at, auto_confirm_days)
    ):
        return "receipt confirmed automatically by the platform, not by the buyer"
    return None


@cache
def _tips() -> tuple[tuple[frozenset[int], str], ...]:
    raw = tomllib.loads(
        resources.files("aftercare").joinpath("rules/care_tips.toml").read_text("utf-8")
    )
    return tuple((frozenset(group["cids"]), group["tip"]) for group in raw.values())


def care_tip(category_id: str | None) -> str:
    """Return the care or usage tip for a product category."""
    cid = int(category_id) if category_id and category_id.isdigit() else -1
    default = ""
    for cids, tip in _tips():
        if cid in cids:
            return tip
        if not cids:
            default = tip
    return default
