"""Receipt confirmations: delivered trades finish when the buyer or Taobao confirms them."""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import requests

from sandbox import Confirmation, Sandbox, World, build_world
from sandbox.wire import china_time

from .conftest import ANCHOR
from .signing import top_call

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
PROJECT_ANCHOR = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
DELIVERED = {"delivered", "proxy_signed", "malformed", "in_transit", "out_for_delivery", "overdue"}
INCREMENT = "taobao.trades.sold.increment.get"
FULLINFO = "taobao.trade.fullinfo.get"


@pytest.fixture(scope="module")
def project_world() -> World:
    return build_world(7, 60, PROJECT_ANCHOR)


@pytest.fixture(scope="module")
def suite_world() -> World:
    return build_world(7, 150, ANCHOR)


def _signed_scan(world: World, tid: int) -> datetime | None:
    shipment = world.shipment_of(tid)
    assert shipment is not None
    signed = [e.time for e in shipment.events if e.state == 3]
    return signed[-1] if signed else None


def _confirmed(world: World) -> dict[int, Confirmation]:
    found = {}
    for shipment in world.shipments.values():
        confirmation = world.confirmation(shipment.tid)
        if confirmation is not None:
            found[shipment.tid] = confirmation
    return found


@pytest.mark.parametrize("name", ["project_world", "suite_world"])
def test_only_parcels_signed_for_get_confirmed(name, request):
    world: World = request.getfixturevalue(name)
    for shipment in world.shipments.values():
        confirmation = world.confirmation(shipment.tid)
        signed = _signed_scan(world, shipment.tid)
        assert (confirmation is not None) == (shipment.scenario in DELIVERED), shipment
        assert (signed is not None) == (shipment.scenario in DELIVERED), shipment
    unpaid = next(iter(world.fates))
    assert world.confirmation(unpaid) is None
    assert world.confirmation(1) is None


@pytest.mark.parametrize("name", ["project_world", "suite_world"])
def test_buyers_confirm_within_days_else_taobao_does_after_ten(name, request):
    world: World = request.getfixturevalue(name)
    confirmed = _confirmed(world)
    for tid, (at, auto) in confirmed.items():
        trade = world.trade_at(tid, world.anchor)
        signed = _signed_scan(world, tid)
        assert trade is not None and trade.consign_time is not None and signed is not None
        auto_at = max(trade.consign_time + 10 * DAY, signed + MINUTE)
        assert at.microsecond == 0
        if auto:
            assert at == auto_at.replace(microsecond=0)
        else:
            assert signed + 12 * HOUR <= at <= signed + 4 * DAY
            assert at < auto_at
    manual = sum(not c.auto for c in confirmed.values()) / len(confirmed)
    assert 0.55 < manual < 0.75, manual
    # Both kinds happen before and after the anchor.
    kinds = Counter((c.auto, c.at <= world.anchor) for c in confirmed.values())
    assert len(kinds) == 4, kinds


@pytest.mark.parametrize("name", ["project_world", "suite_world"])
def test_buyers_rate_only_after_confirming(name, request):
    world: World = request.getfixturevalue(name)
    for rating in world.ratings.values():
        confirmation = world.confirmation(rating.tid)
        assert confirmation is not None, rating
        assert rating.created >= confirmation.at + 10 * MINUTE


@pytest.mark.parametrize("name", ["project_world", "suite_world"])
def test_statuses_at_the_anchor_follow_the_confirmations(name, request):
    world: World = request.getfixturevalue(name)
    for shipment in world.shipments.values():
        trade = world.trade(shipment.tid)
        assert trade is not None and trade.consign_time is not None
        confirmation = world.confirmation(shipment.tid)
        if confirmation is not None and confirmation.at <= world.anchor:
            assert (trade.status, trade.end_time, trade.modified) == (
                "TRADE_FINISHED",
                confirmation.at,
                confirmation.at,
            )
        else:
            assert (trade.status, trade.end_time, trade.modified) == (
                "WAIT_BUYER_CONFIRM_GOODS",
                None,
                trade.consign_time,
            )
    # TRADE_BUYER_SIGNED is cash on delivery only; nothing here is sold that way.
    assert "TRADE_BUYER_SIGNED" not in {t.status for t in world.trades.values()}


def test_the_lifecycle_is_pinned_for_the_projects_world(project_world: World):
    rows = [
        repr((tid, project_world.confirmation(tid)))
        for tid in sorted(s.tid for s in project_world.shipments.values())
    ]
    digest = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    assert digest == "59dd95d3d619ef07a5e678f1f4dcd070690e454458e512459fc910c1156ed6df"


def test_confirmations_do_not_depend_on_what_was_asked_first():
    one = build_world(7, 60, PROJECT_ANCHOR)
    other = build_world(7, 60, PROJECT_ANCHOR)
    tids = sorted(s.tid for s in one.shipments.values())
    # One world works them out trade by trade, newest first; the other a shop at a time.
    first = {tid: one.confirmation(tid) for tid in reversed(tids)}
    for shop in other.shops:
        other.trades_of(shop)
    assert first == {tid: other.confirmation(tid) for tid in tids}


def test_the_clock_finishes_a_trade_and_moves_it_to_its_confirmation_window():
    world = build_world(7, 60, PROJECT_ANCHOR)
    now = PROJECT_ANCHOR
    world.attach_clock(lambda: now)
    tid, at = next(
        (tid, c.at) for tid, c in _confirmed(world).items() if c.at > PROJECT_ANCHOR and not c.auto
    )
    shop = world.trade(tid).shop
    consign = world.trade(tid).consign_time

    def window(start: datetime, end: datetime) -> set[int]:
        return {t.tid for t in world.modified_between(shop, start, end, not_after=now)}

    now = at - timedelta(seconds=1)
    before = world.trade(tid)
    assert (before.status, before.end_time, before.modified) == (
        "WAIT_BUYER_CONFIRM_GOODS",
        None,
        consign,
    )
    assert tid in window(consign - MINUTE, consign + MINUTE)
    assert tid not in window(at - MINUTE, at + MINUTE)
    now = at
    after = world.trade(tid)
    assert (after.status, after.end_time, after.modified) == ("TRADE_FINISHED", at, at)
    assert tid in window(at - MINUTE, at + MINUTE)
    assert tid not in window(consign - MINUTE, consign + MINUTE)
    assert world.trades[tid] == after
    assert [t for t in world.trades_of(shop) if t.tid == tid] == [after]


def test_parcels_never_delivered_never_finish(suite_world: World):
    later = ANCHOR + 90 * DAY
    for scenario in ("lost", "refused", "returned", "returning", "problem", "stalled_serious"):
        for shipment in suite_world.shipments_in(scenario):
            trade = suite_world.trade_at(shipment.tid, later)
            assert trade is not None and trade.end_time is None
            assert trade.status == "WAIT_BUYER_CONFIRM_GOODS"


def test_taobao_shows_the_confirmation_once_the_clock_passes_it(sb: Sandbox):
    http, url = requests.Session(), sb.url("taobao")
    tid, at = next(
        (tid, c.at) for tid, c in _confirmed(sb.world).items() if c.at > ANCHOR and c.auto
    )
    shop = sb.world.trades[tid].shop
    window = {"start_modified": china_time(at - MINUTE), "end_modified": china_time(at + MINUTE)}

    def listed() -> dict[int, dict]:
        body = top_call(http, url, INCREMENT, shop=shop, **window)
        page = body["trades_sold_increment_get_response"].get("trades", {"trade": []})
        return {t["tid"]: t for t in page["trade"]}

    def fullinfo() -> dict:
        body = top_call(http, url, FULLINFO, shop=shop, tid=tid)
        return body["trade_fullinfo_get_response"]["trade"]

    sb.clock.set(at - timedelta(seconds=1))
    assert tid not in listed()
    shown = fullinfo()
    assert shown["status"] == "WAIT_BUYER_CONFIRM_GOODS" and "end_time" not in shown
    sb.clock.set(at + 2 * MINUTE)
    trade = listed()[tid]
    assert (trade["status"], trade["end_time"], trade["modified"]) == (
        "TRADE_FINISHED",
        china_time(at),
        china_time(at),
    )
    full = fullinfo()
    assert {name: full[name] for name in trade} == trade
