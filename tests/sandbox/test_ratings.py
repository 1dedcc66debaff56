"""Buyers' ratings in the world, taobao.traderates.get and taobao.traderate.explain.add."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from sandbox import CAUSES, SHOPS, Rating, Sandbox, World, build_world
from sandbox.rating_texts import NEGATIVE
from sandbox.wire import china_time

from .conftest import ANCHOR
from .signing import top_call

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
PROJECT_ANCHOR = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
RATES = "taobao.traderates.get"
EXPLAIN = "taobao.traderate.explain.add"
FIELDS = (
    "tid,oid,role,nick,result,created,rated_nick,item_title,item_price,content,reply,"
    "valid_score,append_content,append_created"
)
SIGNED = {"delivered", "proxy_signed", "malformed"}
RATED = SIGNED | {"in_transit", "out_for_delivery", "overdue"}


@pytest.fixture(scope="module")
def project_world() -> World:
    return build_world(7, 60, PROJECT_ANCHOR)


@pytest.fixture(scope="module")
def big_world() -> World:
    return build_world(7, 1000, ANCHOR)


def _slow(world: World, rating: Rating) -> bool:
    shipment = world.shipment_of(rating.tid)
    assert shipment is not None
    if shipment.scenario in ("overdue", "proxy_signed"):
        return True
    key = shipment.key_time
    return key is not None and key - shipment.shipped_at > 3 * DAY


def _first_lines(world: World) -> list[Rating]:
    return [r for r in world.ratings.values() if r.oid == world.trade(r.tid).lines[0].oid]


def test_buyers_rate_delivered_trades_days_after_delivery(big_world: World):
    ratings = list(big_world.ratings.values())
    first = _first_lines(big_world)
    shares = Counter(r.result for r in first)
    assert 0.80 < shares["good"] / len(first) < 0.90
    assert 0.07 < shares["neutral"] / len(first) < 0.14
    assert 0.03 < shares["bad"] / len(first) < 0.08
    rated_tids = {r.tid for r in ratings}
    for trade in big_world.trades.values():
        assert (trade.tid in rated_tids) == (trade.scenario in RATED)
    for rating in ratings:
        trade = big_world.trade(rating.tid)
        shipment = big_world.shipment_of(rating.tid)
        assert rating.oid in {line.oid for line in trade.lines}
        assert (rating.nick, rating.shop) == (trade.buyer.nick, trade.shop)
        if shipment.scenario in SIGNED:
            assert DAY <= rating.created - shipment.key_time <= 10 * DAY
        if trade.end_time is not None:  # rated only after the buyer confirmed receipt
            assert rating.created > trade.end_time
        assert (rating.cause is None) == (rating.result == "good")


def test_rating_mix_is_configurable():
    world = build_world(7, 300, ANCHOR, rating_weights={"good": 0, "neutral": 1, "bad": 1})
    first = _first_lines(world)
    shares = Counter(r.result for r in first)
    assert shares["good"] == 0 and 0.35 < shares["neutral"] / len(first) < 0.65
    with pytest.raises(ValueError):
        build_world(7, 5, ANCHOR, rating_weights={"great": 1})


@pytest.mark.parametrize("name", ["project_world", "big_world"])
def test_complaints_fit_the_parcel_and_read_like_their_cause(name: str, request):
    world: World = request.getfixturevalue(name)
    negative = [r for r in world.ratings.values() if r.result != "good"]
    assert set(CAUSES) <= {r.cause for r in negative}
    for rating in negative:
        if rating.cause == "logistics":
            assert _slow(world, rating), rating
        if rating.cause == "mood":
            assert not _slow(world, rating), rating
        texts = {t for kind in NEGATIVE[rating.cause][rating.result].values() for t in kind}
        assert rating.content in texts
        assert rating.valid_score or rating.cause == "malicious"


def test_every_shop_has_a_handful_of_neutral_and_bad_ratings_within_a_month(project_world):
    horizon = PROJECT_ANCHOR + 30 * DAY
    for shop in SHOPS:
        mine = [r for r in project_world.ratings.values() if r.shop == shop]
        assert all(r.created <= horizon for r in mine)
        results = Counter(r.result for r in mine)
        assert results["neutral"] >= 4 and results["bad"] >= 3, (shop, results)
        negative = [r for r in mine if r.result != "good"]
        assert any(r.revised_at for r in negative) and any(r.append_at for r in negative)
        assert any(r.created <= PROJECT_ANCHOR for r in negative)
        assert any(r.created > PROJECT_ANCHOR for r in negative)


def test_revisions_and_follow_ups_are_scheduled(big_world: World):
    negative = [r for r in big_world.ratings.values() if r.result != "good"]
    revised = [r for r in negative if r.revised_at]
    appended = [r for r in negative if r.append_at]
    assert 0.2 < len(revised) / len(negative) < 0.38
    assert 0.08 < len(appended) / len(negative) < 0.22
    for rating in revised:
        assert 2 * DAY <= rating.revised_at - rating.created <= 20 * DAY
        assert rating.cause != "malicious"
        assert rating.result_at(rating.revised_at - timedelta(seconds=1)) == rating.result
        assert rating.result_at(rating.revised_at) == "good"
    for rating in appended:
        assert DAY <= rating.append_at - rating.created <= 10 * DAY
        assert rating.append_content
    good = [r for r in big_world.ratings.values() if r.result == "good"]
    assert not any(r.revised_at or r.append_at for r in good)


# -- taobao.traderates.get ---------------------------------------------------------------------


def _rates(sb: Sandbox, http: requests.Session, shop: str = "sishi", **params: Any) -> dict:
    query = {"fields": FIELDS, "rate_type": "get", "role": "buyer", **params}
    body = top_call(http, sb.url("taobao"), RATES, shop=shop, **query)
    assert "traderates_get_response" in body, body
    return body["traderates_get_response"]


def _error(sb: Sandbox, http: requests.Session, method: str, **params: Any) -> dict:
    body = top_call(http, sb.url("taobao"), method, **params)
    assert "error_response" in body, body
    return body["error_response"]


def _all_rates(sb: Sandbox, http: requests.Session, shop: str, **params: Any) -> list[dict]:
    seen: list[dict] = []
    for page_no in range(1, 100):
        page = _rates(sb, http, shop, page_no=page_no, page_size=150, **params)
        seen += page.get("trade_rates", {}).get("trade_rate", [])
        if page_no * 150 >= page["total_results"]:
            return seen
    raise AssertionError("too many pages")


def test_ratings_received_come_newest_first_as_the_clock_shows_them(
    sb: Sandbox, http: requests.Session
):
    for shop in SHOPS:
        got = _all_rates(sb, http, shop)
        visible = [r for r in sb.world.ratings.values() if r.shop == shop and r.created <= ANCHOR]
        want = sorted(visible, key=lambda r: (r.created, r.oid), reverse=True)
        assert [r["oid"] for r in got] == [r.oid for r in want]
        for item, rating in zip(got, want, strict=True):
            assert item["tid"] == rating.tid and item["nick"] == rating.nick
            assert (item["role"], item["rated_nick"]) == ("buyer", SHOPS[shop].seller_nick)
            assert item["result"] == rating.result_at(ANCHOR)
            assert item["content"] == rating.content_at(ANCHOR)
            assert item["created"] == china_time(rating.created)
            assert (item["item_title"], item["item_price"]) == (
                rating.item_title,
                rating.item_price,
            )
            assert item["valid_score"] is rating.valid_score
            assert "reply" not in item
            assert ("append_content" in item) == rating.appended_by(ANCHOR)


def test_filters_paging_and_fields(sb: Sandbox, http: requests.Session):
    everything = _all_rates(sb, http, "mumu")
    neutral = _all_rates(sb, http, "mumu", result="neutral")
    assert neutral and [r["oid"] for r in neutral] == [
        r["oid"] for r in everything if r["result"] == "neutral"
    ]
    start, end = ANCHOR - 5 * DAY, ANCHOR - 2 * DAY
    window = _all_rates(sb, http, "mumu", start_date=china_time(start), end_date=china_time(end))
    assert window and all(china_time(start) <= r["created"] <= china_time(end) for r in window)
    one = everything[3]
    by_tid = _rates(sb, http, "mumu", tid=one["tid"])
    assert one["oid"] in [r["oid"] for r in by_tid["trade_rates"]["trade_rate"]]
    slim = _rates(sb, http, "mumu", fields="oid,result", page_size=5)
    assert all(set(r) == {"oid", "result"} for r in slim["trade_rates"]["trade_rate"])
    assert slim["total_results"] == len(everything)
    has_next = _rates(sb, http, "mumu", use_has_next="true", page_size=5)
    assert has_next["has_next"] is True and "total_results" not in has_next
    last = _rates(sb, http, "mumu", use_has_next="true", page_size=150)
    assert last["has_next"] is False
    for other in ({"rate_type": "give"}, {"role": "seller"}):
        assert _rates(sb, http, "mumu", **other)["total_results"] == 0


def test_bad_parameters_are_refused(sb: Sandbox, http: requests.Session):
    base = {"fields": "oid", "rate_type": "get", "role": "buyer"}
    assert _error(sb, http, RATES, rate_type="get", role="buyer")["code"] == 40
    for override in (
        {"page_size": 151},
        {"rate_type": "received"},
        {"role": "shop"},
        {"result": "great"},
        {"start_date": "2026-11-20"},
        {"start_date": china_time(ANCHOR), "end_date": china_time(ANCHOR - DAY)},
    ):
        error = _error(sb, http, RATES, **{**base, **override})
        assert (error["code"], error["sub_code"]) == (41, "isv.invalid-parameter"), override


def _negative_with(sb: Sandbox, predicate) -> Rating:
    return next(
        r
        for r in sorted(sb.world.ratings.values(), key=lambda r: r.oid)
        if r.result != "good" and predicate(r)
    )


def test_the_clock_reveals_revisions_and_follow_ups(sb: Sandbox, http: requests.Session):
    revised = _negative_with(sb, lambda r: r.revised_content and not r.append_at)
    sb.clock.set(revised.revised_at - timedelta(seconds=1))
    [before] = [
        r for r in _all_rates(sb, http, revised.shop, tid=revised.tid) if r["oid"] == revised.oid
    ]
    assert (before["result"], before["content"]) == (revised.result, revised.content)
    good_before = _rates(sb, http, revised.shop, result="good", tid=revised.tid)
    sb.clock.set(revised.revised_at)
    [after] = [
        r for r in _all_rates(sb, http, revised.shop, tid=revised.tid) if r["oid"] == revised.oid
    ]
    assert (after["result"], after["content"]) == ("good", revised.revised_content)
    good_after = _rates(sb, http, revised.shop, result="good", tid=revised.tid)
    assert good_after["total_results"] == good_before["total_results"] + 1

    appended = _negative_with(sb, lambda r: r.append_at is not None)
    sb.clock.set(appended.append_at - timedelta(seconds=1))
    [item] = [
        r for r in _all_rates(sb, http, appended.shop, tid=appended.tid) if r["oid"] == appended.oid
    ]
    assert "append_content" not in item and "append_created" not in item
    sb.clock.set(appended.append_at)
    [item] = [
        r for r in _all_rates(sb, http, appended.shop, tid=appended.tid) if r["oid"] == appended.oid
    ]
    assert item["append_content"] == appended.append_content
    assert item["append_created"] == china_time(appended.append_at)


def test_ratings_after_the_clock_or_older_than_180_days_are_not_returned(
    sb: Sandbox, http: requests.Session
):
    rating = _negative_with(sb, lambda r: r.created > ANCHOR)
    assert _rates(sb, http, rating.shop, tid=rating.tid)["total_results"] == 0
    for days, visible in ((179, True), (181, False)):
        sb.clock.set(rating.created + days * DAY)
        oids = [r["oid"] for r in _all_rates(sb, http, rating.shop, tid=rating.tid)]
        assert (rating.oid in oids) is visible


# -- taobao.traderate.explain.add --------------------------------------------------------------


def _explain(sb: Sandbox, http: requests.Session, rating: Rating, reply: str) -> dict:
    return top_call(http, sb.url("taobao"), EXPLAIN, shop=rating.shop, oid=rating.oid, reply=reply)


def _explainable(sb: Sandbox) -> Rating:
    return _negative_with(
        sb,
        lambda r: r.created <= ANCHOR - DAY and ANCHOR - r.created < 25 * DAY and not r.append_at,
    )


def test_an_explanation_is_posted_once_and_shown_as_the_reply(sb: Sandbox, http: requests.Session):
    rating = _explainable(sb)
    reply = "亲，非常抱歉给您带来不好的体验，我们已联系您为您换货，色差问题我们也在改进拍摄。"
    body = _explain(sb, http, rating, reply)
    assert body["traderate_explain_add_response"]["is_success"] is True
    [posted] = sb.explanations
    assert (posted.oid, posted.reply, posted.at, posted.tid) == (
        rating.oid,
        reply,
        ANCHOR,
        rating.tid,
    )
    [item] = [
        r for r in _all_rates(sb, http, rating.shop, tid=rating.tid) if r["oid"] == rating.oid
    ]
    assert item["reply"] == reply
    again = _explain(sb, http, rating, "再解释一次")["error_response"]
    assert (again["code"], again["sub_code"]) == (15, "isv.explain-exists")
    listing = http.get(sb.base_url + "/_sandbox/explanations", timeout=5).json()
    assert listing["count"] == 1 and listing["explanations"][0]["oid"] == rating.oid


def test_reply_length_is_checked(sb: Sandbox, http: requests.Session):
    rating = _explainable(sb)
    for reply in ("", "字" * 501):
        error = _explain(sb, http, rating, reply)["error_response"]
        assert (error["code"], error["sub_code"]) == (41, "isv.invalid-parameter")
    missing = top_call(http, sb.url("taobao"), EXPLAIN, shop=rating.shop, oid=rating.oid)
    assert missing["error_response"]["code"] == 40
    assert _explain(sb, http, rating, "字" * 500)["traderate_explain_add_response"]["is_success"]


def test_explaining_someone_elses_or_unknown_or_future_ratings_is_refused(
    sb: Sandbox, http: requests.Session
):
    rating = _explainable(sb)
    other_shop = next(code for code in SHOPS if code != rating.shop)
    future = _negative_with(sb, lambda r: r.created > ANCHOR)
    for shop, oid in ((other_shop, rating.oid), (rating.shop, 123), (future.shop, future.oid)):
        error = top_call(http, sb.url("taobao"), EXPLAIN, shop=shop, oid=oid, reply="解释")
        assert (error["error_response"]["code"], error["error_response"]["sub_code"]) == (
            15,
            "isv.explain-not-allowed",
        )
    assert sb.explanations == []


def test_explanations_close_after_30_days_or_a_follow_up(sb: Sandbox, http: requests.Session):
    late = _negative_with(sb, lambda r: not r.append_at)
    sb.clock.set(late.created + 30 * DAY + timedelta(seconds=1))
    error = _explain(sb, http, late, "解释")["error_response"]
    assert error["sub_code"] == "isv.explain-not-allowed"
    sb.clock.set(late.created + 30 * DAY)
    assert "traderate_explain_add_response" in _explain(sb, http, late, "最后一天的解释")

    followed = _negative_with(sb, lambda r: r.append_at is not None)
    sb.clock.set(followed.append_at)
    error = _explain(sb, http, followed, "解释")["error_response"]
    assert error["sub_code"] == "isv.explain-not-allowed"
    sb.clock.set(followed.append_at - timedelta(seconds=1))
    assert "traderate_explain_add_response" in _explain(sb, http, followed, "追评之前的解释")
    assert [e.oid for e in sb.explanations] == [late.oid, followed.oid]
