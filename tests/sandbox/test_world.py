"""The generated world: determinism, scenario coverage and what each scenario means."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import timedelta

import pytest

from sandbox import SCENARIOS, World, build_world

from .conftest import ANCHOR

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

WAYBILL_FORMATS = {
    "yuantong": r"YT\d{13}",
    "zhongtong": r"7\d{11,14}",
    "shunfeng": r"SF\d{13}",
    "yunda": r"43\d{11}",
    "ems": r"(1\d{12}|98\d{11})",
    "unknown": r"SM\d{12}",
}
REMOTE = {"新疆维吾尔自治区", "西藏自治区", "青海省"}


@pytest.fixture(scope="module")
def world() -> World:
    return build_world(7, 150, ANCHOR)


def _fingerprint(world: World) -> list[tuple]:
    trades = [
        (t.tid, t.shop, t.status, t.buyer, t.lines, t.payment, t.created, t.modified, t.waybill)
        for t in world.trades.values()
    ]
    return sorted(trades)


def test_same_seed_and_anchor_give_the_same_world(world: World):
    again = build_world(7, 150, ANCHOR)
    assert _fingerprint(again) == _fingerprint(world)
    assert world.shipments.keys() == again.shipments.keys()
    for key in list(world.shipments)[:60]:
        assert world.shipments[key].events == again.shipments[key].events


def test_another_seed_gives_another_world(world: World):
    assert _fingerprint(build_world(8, 150, ANCHOR)) != _fingerprint(world)


def test_every_scenario_is_present(world: World):
    counts = world.scenario_counts()
    assert set(SCENARIOS) <= set(counts), set(SCENARIOS) - set(counts)
    assert counts.most_common(1)[0][0] == "delivered"


def test_status_mix(world: World):
    statuses = Counter(t.status for t in world.trades.values())
    total = sum(statuses.values())
    assert total == 450
    assert 0.04 < statuses["WAIT_BUYER_PAY"] / total < 0.18
    assert statuses["TRADE_CLOSED_BY_TAOBAO"] > 0
    assert statuses["WAIT_SELLER_SEND_GOODS"] > 0
    assert statuses["TRADE_FINISHED"] > 0
    shipped = {"WAIT_BUYER_CONFIRM_GOODS", "TRADE_FINISHED", "TRADE_BUYER_SIGNED"}
    assert sum(statuses[s] for s in shipped) / total > 0.7


def test_trades_are_created_within_20_days_except_lost_parcels(world: World):
    for trade in world.trades.values():
        assert trade.modified <= ANCHOR
        assert trade.created <= trade.modified
        if trade.scenario != "lost":
            assert trade.created >= ANCHOR - 20 * DAY, trade
        if trade.pay_time and trade.consign_time:
            assert 2 * HOUR <= trade.consign_time - trade.pay_time <= 48 * HOUR


def test_buyers_come_back_and_are_shared_between_shops(world: World):
    shops_by_phone: dict[str, set[str]] = defaultdict(set)
    orders_by_phone: Counter[str] = Counter()
    for trade in world.trades.values():
        shops_by_phone[trade.buyer.phone].add(trade.shop)
        orders_by_phone[trade.buyer.phone] += 1
        assert re.fullmatch(r"1[3-9]\d{9}", trade.buyer.phone)
    assert any(len(shops) >= 2 for shops in shops_by_phone.values())
    assert orders_by_phone.most_common(1)[0][1] >= 3
    provinces = {t.buyer.province for t in world.trades.values()}
    assert len(REMOTE & provinces) >= 2


def test_waybills_look_real_and_are_unique(world: World):
    for (com, waybill), shipment in world.shipments.items():
        assert re.fullmatch(WAYBILL_FORMATS[com], waybill), (com, waybill)
        trade = world.trade(shipment.tid)
        assert trade is not None and trade.waybill == waybill
    assert len({w for _, w in world.shipments}) == len(world.shipments)
    unknown = next(world.shipments_in("unknown_courier"))
    assert world.trade(unknown.tid).logistics_company == "神秘物流"


def _last_scan(shipment) -> timedelta:
    visible = shipment.visible(ANCHOR)
    return ANCHOR - visible[-1].time


def test_scenarios_mean_what_they_say_at_the_anchor(world: World):
    final_state = {
        "delivered": (3, "301"),
        "malformed": (3, "301"),
        "proxy_signed": (3, "303"),
        "out_for_delivery": (5, "5"),
        "problem": (2, "2"),
        "refused": (14, "14"),
        "returning": (6, "6"),
        "returned": (4, "4"),
    }
    for scenario, (state, code) in final_state.items():
        for s in world.shipments_in(scenario):
            last = s.visible(ANCHOR)[-1]
            assert (last.state, last.status_code) == (state, code), (scenario, s)
    for s in world.shipments_in("delivered"):
        assert 2 * DAY <= s.visible(ANCHOR)[-1].time - s.shipped_at <= 4 * DAY
    for s in world.shipments_in("in_transit"):
        assert s.visible(ANCHOR)[-1].state in (0, 1)
        assert _last_scan(s) < 24 * HOUR
    for s in world.shipments_in("stalled_minor"):
        assert 50 * HOUR <= _last_scan(s) <= 100 * HOUR
        assert s.events == s.visible(ANCHOR)  # nothing ever comes
    for s in world.shipments_in("stalled_serious"):
        assert 125 * HOUR <= _last_scan(s) <= 200 * HOUR
    for s in world.shipments_in("overdue"):
        assert s.province in REMOTE
        assert 8 * DAY <= ANCHOR - s.shipped_at <= 12 * DAY
        assert _last_scan(s) < 48 * HOUR
        assert s.visible(ANCHOR)[-1].state == 0
        gaps = [b.time - a.time for a, b in zip(s.events, s.events[1:], strict=False)]
        assert max(gaps[: len(s.visible(ANCHOR))]) < 48 * HOUR
    for scenario in ("no_tracking", "lost", "unknown_courier"):
        for s in world.shipments_in(scenario):
            assert s.events == ()
    for s in world.shipments_in("lost"):
        assert 31 * DAY <= ANCHOR - s.shipped_at <= 40 * DAY
    for s in world.shipments_in("no_tracking"):
        assert 36 * HOUR <= ANCHOR - s.shipped_at <= 5 * DAY


def test_scan_texts_read_like_courier_scans(world: World):
    shipment = next(s for s in world.shipments_in("delivered") if s.com == "yuantong")
    contexts = [e.context for e in shipment.events]
    assert contexts[0].startswith("【") and "揽收" in contexts[0]
    assert "派件" in contexts[-2] and "签收" in contexts[-1]
    assert all(re.fullmatch(r"\d{12}", e.area_code) for e in shipment.events)
    assert [e.time for e in shipment.events] == sorted(e.time for e in shipment.events)


def test_pay_and_close_validate_the_status():
    world = build_world(5, 30, ANCHOR)  # no clock attached: seen at the anchor
    unpaid = [t for t in world.trades.values() if t.status == "WAIT_BUYER_PAY"]
    paid = world.pay(unpaid[0].tid, ANCHOR + HOUR)
    assert (paid.status, paid.pay_time, paid.modified) == (
        "WAIT_SELLER_SEND_GOODS",
        ANCHOR + HOUR,
        ANCHOR + HOUR,
    )
    assert world.trade_at(paid.tid, ANCHOR + HOUR) is paid
    assert world.trade(paid.tid).status == "WAIT_BUYER_PAY"  # the payment lies ahead
    with pytest.raises(ValueError):
        world.close(paid.tid, ANCHOR + HOUR)
    with pytest.raises(KeyError):
        world.pay(1, ANCHOR)
    window = world.modified_between(paid.shop, ANCHOR, ANCHOR + DAY, not_after=ANCHOR + DAY)
    assert paid in window
    shipped = next(t for t in world.trades.values() if t.waybill)
    with pytest.raises(ValueError):
        world.pay(shipped.tid, ANCHOR)
