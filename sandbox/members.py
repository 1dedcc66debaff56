"""Member profiles the shops keep (会员资料), as their member-centre export gives them.

About 40% of a shop's buyers joined its member programme, plus a few people who follow the
shop but never ordered there. Members gave the shop their mobile themselves, so it is the full
number, though some left it empty or typed it wrong. Relative to the anchor's date in China,
every shop has members with a birthday tomorrow, in exactly 7 days and two more within 14
days; the ones tomorrow and in 7 days have a valid mobile and consent to marketing. Shops of
some size also have a member born on 29 February, and members without a mobile, with a
malformed one or without a birthday.

Drawn from a stream of their own, so members never shift trades or ratings for a seed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from .dice import Dice, Weighted
from .shops import TAOBAO_SHOPS
from .wire import CHINA, china_time
from .world import Buyer, Trade

DAY = timedelta(days=1)

MEMBER_FIELDS = (
    "buyer_nick",
    "name",
    "mobile",
    "birthday",
    "grade",
    "tags",
    "marketing_consent",
    "consent_at",
)
MEMBER_SHARE = 0.40
# Members who never ordered in the shop, relative to the members who did.
FOLLOWER_SHARE = 0.10
CONSENT_SHARE = 0.60
# Shares of members whose mobile is another valid number, empty, or not a mobile at all.
OTHER_MOBILE, NO_MOBILE, BAD_MOBILE = 0.05, 0.05, 0.05
NO_BIRTHDAY = 0.08
# Days after the anchor's local date that forced birthdays fall on: tomorrow and in a week
# (valid mobile, consent), and two more within the next 14 days (as drawn).
BIRTHDAY_OFFSETS = (1, 7)
EXTRA_BIRTHDAYS = 2
BIRTHDAY_HORIZON = 14
# Member grades (0-4) by how much a member bought: never, once, again and again.
_GRADES_FOLLOWER: Weighted[int] = Weighted([(0, 80), (1, 20)])
_GRADES_ONCE: Weighted[int] = Weighted([(0, 40), (1, 45), (2, 15)])
_GRADES_REPEAT: Weighted[int] = Weighted([(1, 25), (2, 40), (3, 25), (4, 10)])
# The tag of what each shop sells.
_SHOP_TAGS = {"sishi": "内衣", "xiaoya": "家居", "mumu": "童装"}
HIGH_VALUE_CENTS = 50_000


@dataclass(frozen=True, slots=True)
class Member:
    """One row of a shop's member-centre export; every field as the file has it."""

    shop: str
    buyer_nick: str
    name: str
    mobile: str  # full number, "" or malformed ("1381234")
    birthday: str  # YYYY-MM-DD or ""
    grade: int  # 0-4
    tags: str  # pipe-separated, e.g. "老客户|高价值|童装"
    marketing_consent: str  # "1" or "0"
    consent_at: str  # "yyyy-MM-dd HH:mm:ss" GMT+8, or ""

    @property
    def tag_list(self) -> list[str]:
        """Return the tags as a list."""
        return [t for t in self.tags.split("|") if t]

    @property
    def consents(self) -> bool:
        """Tell whether the member agreed to marketing messages."""
        return self.marketing_consent == "1"

    def row(self) -> list[str]:
        """Return the CSV row, in MEMBER_FIELDS order."""
        return [str(getattr(self, name)) for name in MEMBER_FIELDS]


def members_csv(members: Iterable[Member]) -> str:
    """Render members as the member-centre export: a CSV with MEMBER_FIELDS as its header."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(MEMBER_FIELDS)
    for member in members:
        writer.writerow(member.row())
    return out.getvalue()


@dataclass(slots=True)
class _Customer:
    buyer: Buyer
    orders: int = 0
    spent_cents: int = 0


class MemberGenerator:
    """Draw each shop's members from the buyers and their orders."""

    def __init__(self, seed: int, anchor: datetime) -> None:
        self.rng = Dice(seed * 7919 + 0x3E3B)
        self.anchor = anchor
        self.today = anchor.astimezone(CHINA).date()

    def generate(self, trades: Iterable[Trade], buyers: list[Buyer]) -> dict[str, list[Member]]:
        """Return every shop's members, in export order."""
        customers: dict[str, dict[str, _Customer]] = {code: {} for code in TAOBAO_SHOPS}
        for trade in (t for t in trades if t.shop in customers):  # Taobao's member centre
            # Keyed by nick: a nick is one Taobao account, whoever typed the address.
            of_shop = customers[trade.shop]
            customer = of_shop.get(trade.buyer.nick)
            if customer is None:
                customer = of_shop[trade.buyer.nick] = _Customer(trade.buyer)
            customer.orders += 1
            if trade.pay_time is not None:
                customer.spent_cents += int(trade.payment.replace(".", ""))
        return {code: self._shop(code, customers[code], buyers) for code in TAOBAO_SHOPS}

    def _shop(
        self, shop: str, customers: dict[str, _Customer], buyers: list[Buyer]
    ) -> list[Member]:
        rng = self.rng
        chosen = [c for c in customers.values() if rng.chance(MEMBER_SHARE)]
        if not chosen and customers:
            chosen = [next(iter(customers.values()))]
        outsiders = [b for b in buyers if b.nick not in customers]
        seen = set(customers)
        followers = []
        for _ in range(round(len(chosen) * FOLLOWER_SHARE)):
            if not outsiders:
                break
            buyer = rng.pick(outsiders)
            if buyer.nick not in seen:
                seen.add(buyer.nick)
                followers.append(_Customer(buyer))
        everyone = chosen + followers
        members = [self._member(shop, c) for c in everyone]
        members = self._force_bad_mobiles(members)
        members = self._force_birthdays(members)
        members = self._force_leap_day(members)
        return rng.sample(members, len(members))

    def _member(self, shop: str, customer: _Customer) -> Member:
        rng = self.rng
        buyer = customer.buyer
        roll = rng.random()
        if roll < OTHER_MOBILE:
            mobile = _mobile(rng)
        elif roll < OTHER_MOBILE + NO_MOBILE:
            mobile = ""
        elif roll < OTHER_MOBILE + NO_MOBILE + BAD_MOBILE:
            mobile = _bad_mobile(rng, buyer.phone)
        else:
            mobile = buyer.phone
        birthday = "" if rng.chance(NO_BIRTHDAY) else _birthday(rng).isoformat()
        if customer.orders >= 2:
            grade = rng.weighted(_GRADES_REPEAT)
        else:
            grade = rng.weighted(_GRADES_ONCE if customer.orders else _GRADES_FOLLOWER)
        if customer.spent_cents >= HIGH_VALUE_CENTS:
            grade = min(4, grade + 1)
        tags = []
        if customer.orders >= 2:
            tags.append("老客户")
        if customer.spent_cents >= HIGH_VALUE_CENTS:
            tags.append("高价值")
        if customer.orders and rng.chance(0.7):
            tags.append(_SHOP_TAGS[shop])
        if customer.orders <= 1:
            tags.append("新客")
        if rng.chance(0.2):
            tags.append("价格敏感")
        consent = rng.chance(CONSENT_SHARE)
        consent_at = ""
        # Some old records say yes without saying when (imported from a previous system).
        if consent and rng.chance(0.9):
            consent_at = china_time(self.anchor - rng.between(DAY, 700 * DAY))
        return Member(
            shop=shop,
            buyer_nick=buyer.nick,
            name=buyer.name,
            mobile=mobile,
            birthday=birthday,
            grade=grade,
            tags="|".join(tags),
            marketing_consent="1" if consent else "0",
            consent_at=consent_at,
        )

    def _force_bad_mobiles(self, members: list[Member]) -> list[Member]:
        """Make sure a shop of some size has a member without a mobile and one cut short."""
        if len(members) < 8:
            return members
        rng = self.rng
        for short in (False, True):
            if any(len(m.mobile) == (7 if short else 0) for m in members):
                continue
            plain = [i for i, m in enumerate(members) if _mobile_kind(m.mobile) == "ok"]
            i = rng.pick(plain)
            members[i] = replace(members[i], mobile=members[i].mobile[:7] if short else "")
        return members

    def _force_leap_day(self, members: list[Member]) -> list[Member]:
        """Make sure a shop of some size has a member born on 29 February."""
        if len(members) < 8 or any(m.birthday.endswith("-02-29") for m in members):
            return members
        rng = self.rng
        i = rng.pick(
            [i for i, m in enumerate(members) if m.birthday and not self._soon(m.birthday)]
        )
        members[i] = replace(members[i], birthday=f"{1972 + 4 * rng.below(8)}-02-29")
        return members

    def _force_birthdays(self, members: list[Member]) -> list[Member]:
        """Give a few members birthdays in the next days (see the module docstring)."""
        rng = self.rng
        # Forced birthdays go to members with no birthday soon, valid mobile first.
        free = [i for i, m in enumerate(members) if not self._soon(m.birthday)]
        reachable = [i for i in free if _mobile_kind(members[i].mobile) == "ok"]
        offsets = list(BIRTHDAY_OFFSETS)
        others = [d for d in range(2, BIRTHDAY_HORIZON) if d not in offsets]
        offsets += rng.sample(others, EXTRA_BIRTHDAYS)
        for n, offset in enumerate(offsets):
            pool = reachable if n < len(BIRTHDAY_OFFSETS) and reachable else free
            if not pool:
                break
            i = rng.pick(pool)
            for used in (free, reachable):
                if i in used:
                    used.remove(i)
            member = replace(members[i], birthday=_born_on(rng, self.today + offset * DAY))
            if n < len(BIRTHDAY_OFFSETS):
                member = replace(
                    member,
                    marketing_consent="1",
                    consent_at=member.consent_at
                    or china_time(self.anchor - rng.between(DAY, 400 * DAY)),
                )
            members[i] = member
        return members

    def _soon(self, birthday: str) -> bool:
        """Tell whether a birthday falls within the horizon after the anchor's date."""
        if not birthday:
            return False
        born = date.fromisoformat(birthday)
        for year in (self.today.year, self.today.year + 1):
            try:
                next_one = born.replace(year=year)
            except ValueError:  # 29 February in a common year
                next_one = date(year, 3, 1)
            if 0 <= (next_one - self.today).days <= BIRTHDAY_HORIZON:
                return True
        return False


def _mobile(rng: Dice) -> str:
    return f"1{rng.pick('3456789')}{rng.below(10**9):09d}"


def _bad_mobile(rng: Dice, phone: str) -> str:
    """Return a number typed wrong: cut short, a digit too many, or a landline."""
    phone = phone or _mobile(rng)
    roll = rng.random()
    if roll < 0.5:
        return phone[:7]
    if roll < 0.75:
        return phone + str(rng.below(10))
    return f"0571-8{rng.below(10**7):07d}"


def _mobile_kind(mobile: str) -> str:
    if not mobile:
        return "empty"
    if len(mobile) == 11 and mobile.isdigit() and mobile[0] == "1" and mobile[1] in "3456789":
        return "ok"
    return "bad"


def _birthday(rng: Dice) -> date:
    # Shoppers born 1968-2004; a uniform day of those years.
    start = date(1968, 1, 1)
    return start + rng.below((date(2004, 12, 31) - start).days + 1) * DAY


def _born_on(rng: Dice, day: date) -> str:
    """Return a birth date whose month and day are those of `day`, 18-58 years earlier."""
    while True:
        year = day.year - 18 - rng.below(41)
        try:
            return day.replace(year=year).isoformat()
        except ValueError:  # 29 February: draw another year, a leap one
            continue
