"""Bad records planted on purpose (`POST /_sandbox/plant`), to test that each is refused alone.

Each kind imitates one way real shop data goes wrong; everything else about the record is the
documented TOP wire format. Times are relative to the sandbox clock; trades are listed by
trades.sold.increment.get half an hour before it, ratings by traderates.get at it.

- invalid_phone: an unpaid order whose receiver_mobile is no mobile number (`phone`)
- no_items: a paid order without sub-orders (`orders.order` is empty)
- unknown_courier: an order shipped two days ago with a courier Kuaidi100 has no code for
- unknown_waybill: an order shipped two days ago with a known courier and a waybill it never saw
- bad_waybill: an order shipped with a "waybill" that is no tracking number (`waybill`)
- future_scan: an order shipped two days ago whose courier reports a pick-up, a scan a day
  ago and a scan `hours_ahead` hours in the future (a courier clock gone wrong)
- future_time: a paid order listed now whose created/modified say `hours_ahead` hours later
- implausible_time: an order shipped two days ago whose pay_time and consign_time say `when`
  (default 1970-01-01 08:00:00, the epoch; 2100 hides a parcel from every rule)
- advanced_state: an order shipped two days ago whose courier answers with resultv2 sub-states
  as the top-level state (103 picked up, then 1001 arrived in the destination city)
- unlisted_courier: an order shipped two days ago by 圆通 under a name no table lists
  ("圆通快运物流有限公司"), its waybill one Kuaidi100 knows and recognises
- no_waybill: an order marked shipped two days ago with no waybill on any sub-order
- zoned_time: a paid order whose times carry an ISO offset (`2026-11-20T10:00:00+08:00`)
  instead of TOP's plain GMT+8 wall clock
- hostile: an unpaid order whose buyer name, nick and item title are `name`, `nick`, `title`;
  with `courier`, shipped an hour ago by a courier of that name instead
- member: a row at the end of the shop's member-centre export with the given `nick`, `name`
  and `mobile` (default a malformed "1381234"), consenting to marketing
- rating: a bad rating of a new paid order, with the given `nick`, `content`, `title` and,
  with `hours_ahead`, a created time that far in the future
"""

from __future__ import annotations

import dataclasses
import itertools
from datetime import datetime, timedelta
from typing import Any

from . import catalog
from .members import Member
from .ratings import BAD, Rating
from .shops import SHOPS
from .timeline import TrackEvent
from .wire import china_time
from .world import (
    WAIT_BUYER_CONFIRM_GOODS,
    WAIT_BUYER_PAY,
    WAIT_SELLER_SEND_GOODS,
    OrderLine,
    Trade,
    World,
)

TRADE_KINDS = (
    "invalid_phone",
    "no_items",
    "unknown_courier",
    "unknown_waybill",
    "bad_waybill",
    "future_time",
    "future_scan",
    "zoned_time",
    "hostile",
    "implausible_time",
    "no_waybill",
    "advanced_state",
    "unlisted_courier",
)
KINDS = (*TRADE_KINDS, "rating", "member")
# Ids of planted records: far above the generated ones (at most 5 * 10**18), below 2**63.
_FIRST_ID = 9 * 10**18
_ids = itertools.count(_FIRST_ID)


def plant(world: World, kind: str, *, shop: str, **options: Any) -> dict[str, Any]:
    """Plant one bad record of `kind` in the world; return its ids (tid, oid, waybill)."""
    if shop not in SHOPS:
        raise ValueError(f"unknown shop {shop!r}; one of {sorted(SHOPS)}")
    if kind == "rating":
        return _plant_rating(world, shop, **options)
    if kind == "member":
        return _plant_member(world, shop, **options)
    if kind not in TRADE_KINDS:
        raise ValueError(f"unknown kind {kind!r}; one of {KINDS}")
    trade, wire = _bad_trade(world, kind, shop, **options)
    world.plant_trade(trade, wire)
    return {"tid": trade.tid, "oid": trade.lines[0].oid if trade.lines else None, **_parcel(trade)}


def _bad_trade(
    world: World,
    kind: str,
    shop: str,
    *,
    phone: str = "1381234567",
    waybill: str = "请联系客服",
    hours_ahead: float = 2.0,
    name: str | None = None,
    nick: str | None = None,
    title: str | None = None,
    courier: str | None = None,
    when: str = "1970-01-01 08:00:00",
) -> tuple[Trade, dict[str, Any]]:
    now = world.now().replace(microsecond=0)
    tid = _new_id(world)
    buyer = world.buyers[tid % len(world.buyers)]
    product = catalog.PRODUCTS[shop][tid % len(catalog.PRODUCTS[shop])]
    line = OrderLine(tid, title if title is not None else product.title, product.cid, 1, "99.00")
    trade = Trade(
        tid=tid,
        shop=shop,
        type="fixed",
        status=WAIT_SELLER_SEND_GOODS,
        buyer=buyer,
        lines=(line,),
        total_fee="99.00",
        post_fee="0.00",
        payment="99.00",
        created=now - timedelta(hours=1),
        pay_time=now - timedelta(minutes=50),
        consign_time=None,
        end_time=None,
        modified=now - timedelta(minutes=30),
    )
    wire: dict[str, Any] = {}
    if kind == "invalid_phone":
        trade = _unpaid(trade)
        trade = dataclasses.replace(trade, buyer=dataclasses.replace(buyer, phone=phone))
        if not SHOPS[shop].can_decrypt_phone:
            wire["receiver_mobile"] = phone  # masked shops would hide the number otherwise
    elif kind == "no_items":
        trade = dataclasses.replace(trade, lines=())
    elif kind == "unknown_courier":
        trade = _shipped(trade, now, "火星快递", f"HX{tid % 10**12:012d}")
    elif kind == "unknown_waybill":
        trade = _shipped(trade, now, catalog.COURIER_NAMES["yuantong"], f"YT9{tid % 10**12:012d}")
    elif kind == "bad_waybill":
        trade = _shipped(trade, now, catalog.COURIER_NAMES["yuantong"], waybill)
    elif kind == "future_scan":
        trade = _shipped(trade, now, catalog.COURIER_NAMES["yuantong"], f"YT8{tid % 10**12:012d}")
        _plant_scans(
            world,
            trade,
            TrackEvent(now - timedelta(days=1), "快件已到达【杭州转运中心】", 0, "1002", "", ""),
            TrackEvent(now + timedelta(hours=hours_ahead), "快件离开【杭州】", 0, "1002", "", ""),
        )
    elif kind == "future_time":
        ahead = now + timedelta(hours=hours_ahead)
        wire.update(created=china_time(ahead), modified=china_time(ahead))
    elif kind == "implausible_time":
        trade = _shipped(trade, now, catalog.COURIER_NAMES["yuantong"], f"YT7{tid % 10**12:012d}")
        wire.update(pay_time=when, consign_time=when)
    elif kind == "advanced_state":
        trade = _shipped(trade, now, catalog.COURIER_NAMES["yuantong"], f"YT6{tid % 10**12:012d}")
        _plant_scans(
            world,
            trade,
            TrackEvent(now - timedelta(hours=3), "快件到达【杭州市】", 1001, "1001", "", "杭州市"),
            picked_up_state=103,
        )
    elif kind == "unlisted_courier":
        trade = _shipped(trade, now, "圆通快运物流有限公司", f"YT5{tid % 10**12:012d}")
        _plant_scans(
            world,
            trade,
            TrackEvent(now - timedelta(hours=5), "快件到达【杭州转运中心】", 0, "1002", "", ""),
        )
    elif kind == "no_waybill":
        trade = _shipped(trade, now, catalog.COURIER_NAMES["yuantong"], None)
    elif kind == "zoned_time":
        wire["created"] = _iso_china(trade.created)
        wire["modified"] = _iso_china(trade.modified)
    elif kind == "hostile":
        if courier is None:
            trade = _unpaid(trade)
        else:
            shipped = _shipped(trade, now, courier, f"HX{tid % 10**12:012d}")
            trade = dataclasses.replace(shipped, consign_time=now - timedelta(hours=1))
        people = dataclasses.replace(
            buyer,
            name=buyer.name if name is None else name,
            nick=buyer.nick if nick is None else nick,
        )
        trade = dataclasses.replace(trade, buyer=people)
    return trade, wire


def _plant_rating(
    world: World,
    shop: str,
    *,
    nick: str = "tb_planted",
    content: str = "质量太差了",
    title: str | None = None,
    hours_ahead: float = 0.0,
) -> dict[str, Any]:
    trade, _ = _bad_trade(world, "rating", shop, title=title)  # a paid order, nothing wrong
    trade = dataclasses.replace(trade, buyer=dataclasses.replace(trade.buyer, nick=nick))
    world.plant_trade(trade)
    now = world.now().replace(microsecond=0)
    line = trade.lines[0]
    rating = Rating(
        tid=trade.tid,
        oid=line.oid,
        shop=shop,
        nick=nick,
        item_title=line.title,
        item_price=line.price,
        result=BAD,
        cause=None,
        content=content,
        created=now,
    )
    wire = {"created": china_time(now + timedelta(hours=hours_ahead))} if hours_ahead else None
    world.plant_rating(rating, wire)
    return {"tid": trade.tid, "oid": rating.oid, **_parcel(trade)}


def _plant_member(
    world: World, shop: str, *, nick: str = "tb_member", name: str = "", mobile: str = "1381234"
) -> dict[str, Any]:
    member = Member(shop, nick, name, mobile, "", 1, "", "1", china_time(world.now()))
    world.plant_member(member)
    return {"buyer_nick": nick}


def _unpaid(trade: Trade) -> Trade:
    return dataclasses.replace(trade, status=WAIT_BUYER_PAY, pay_time=None)


def _shipped(trade: Trade, now: datetime, company: str, waybill: str | None) -> Trade:
    """The trade as paid three days ago and shipped two days ago under company and waybill."""
    return dataclasses.replace(
        trade,
        status=WAIT_BUYER_CONFIRM_GOODS,
        created=now - timedelta(days=3),
        pay_time=now - timedelta(days=3) + timedelta(minutes=5),
        consign_time=now - timedelta(days=2),
        logistics_company=company,
        waybill=waybill,
    )


def _plant_scans(world: World, trade: Trade, *later: TrackEvent, picked_up_state: int = 1) -> None:
    """Have Kuaidi100 know the trade's yuantong waybill: picked up when shipped, then `later`."""
    assert trade.waybill is not None and trade.consign_time is not None
    picked_up = TrackEvent(
        trade.consign_time, "【广州市】快件已揽收", picked_up_state, "103", "", "广州市"
    )
    world.planted_scans[("yuantong", trade.waybill)] = (picked_up, *later)


def _parcel(trade: Trade) -> dict[str, Any]:
    return {"waybill": trade.waybill, "logistics_company": trade.logistics_company}


def _iso_china(when: datetime) -> str:
    """The time as ISO 8601 with its +08:00 offset: right instant, wrong format for TOP."""
    return china_time(when).replace(" ", "T") + "+08:00"


def _new_id(world: World) -> int:
    while True:
        tid = next(_ids)
        if world.trade(tid) is None and world.rating(tid) is None:
            return tid
