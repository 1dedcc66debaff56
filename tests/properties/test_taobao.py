"""TOP trades, ratings, pages and errors: a valid record or a typed error, never anything else."""

from __future__ import annotations

from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from aftercare.clients.errors import MalformedResponse, ProviderError, TransientError
from aftercare.clients.taobao import (
    TradePage,
    TradeRecord,
    error_from_response,
    parse_trade,
    parse_trade_page,
    unwrap_answer,
)
from aftercare.clients.taobao_ratings import (
    RESULTS,
    RatingPage,
    RatingRecord,
    parse_rating,
    parse_rating_page,
)
from aftercare.privacy import _MOBILE

from .strategies import (
    ID,
    finite_or_none,
    is_amount,
    is_opt_text,
    is_text,
    is_utc,
    json_values,
    page_shapes,
    rating_objects,
    rating_pages,
    top_errors,
    trade_objects,
    trade_pages,
)

SETTINGS = settings(max_examples=200, deadline=None)
MASKS = ("*", "＊")


def assert_valid_trade(trade: TradeRecord) -> None:
    assert isinstance(trade, TradeRecord)
    assert ID.match(trade.tid) and len(trade.tid) <= 32
    assert is_text(trade.status) and trade.status
    assert is_text(trade.trade_type) and trade.trade_type
    assert is_text(trade.buyer_nick) and is_text(trade.receiver_name)
    assert is_utc(trade.created) and is_utc(trade.modified)
    for moment in (trade.pay_time, trade.consign_time, trade.end_time):
        assert moment is None or is_utc(moment)
    assert is_amount(trade.payment) and trade.payment < 10**10
    mobile = trade.receiver_mobile
    assert is_opt_text(mobile)
    assert type(trade.phone_masked) is bool
    # Masked (or missing) exactly when the number cannot be texted as it stands.
    assert trade.phone_masked == (mobile is None or any(m in mobile for m in MASKS))
    if mobile is not None:
        assert mobile == mobile.strip()
    assert is_opt_text(trade.province) and is_opt_text(trade.city)
    assert isinstance(trade.items, tuple)
    for item in trade.items:
        assert ID.match(item.oid) and len(item.oid) <= 32
        assert is_text(item.title)
        assert type(item.quantity) is int and item.quantity >= 1
        assert is_amount(item.price) and item.price < 10**10
        assert is_opt_text(item.category_id) and is_opt_text(item.logistics_company)
        assert item.waybill is None or (item.waybill and item.waybill == item.waybill.strip())


def assert_valid_rating(rating: RatingRecord) -> None:
    assert isinstance(rating, RatingRecord)
    assert ID.match(rating.tid) and ID.match(rating.oid)
    assert rating.result in RESULTS
    assert is_utc(rating.created)
    assert rating.append_created is None or is_utc(rating.append_created)
    assert is_text(rating.buyer_nick) and is_text(rating.item_title)
    assert is_text(rating.content)
    assert is_opt_text(rating.reply) and is_opt_text(rating.append_content)


def assert_typed_error(error: ProviderError) -> None:
    assert error.provider == "taobao"
    assert len(error.message) <= 1000 and not _MOBILE.search(error.message)
    assert is_text(error.message) and is_text(error.body_excerpt) and is_text(error.reason)
    assert error.code is None or (is_text(error.code) and len(error.code) <= 200)
    assert error.request_id is None or isinstance(error.request_id, str)
    if isinstance(error, TransientError):
        assert finite_or_none(error.retry_after)


@SETTINGS
@given(raw=trade_objects)
@example(raw={"tid": float("inf"), "status": "x", "buyer_nick": "n"})
@example(
    raw={
        "tid": 1,
        "status": "WAIT_BUYER_PAY",
        "buyer_nick": "n",
        "created": "0001-01-01 00:00:00",
        "modified": "2026-11-20 10:00:00",
    }
)
@example(
    raw={
        "tid": 1,
        "status": "WAIT_BUYER_PAY",
        "buyer_nick": "n",
        "created": "2026-11-20 10:00:00",
        "modified": "2026-11-20 10:00:00",
        "payment": "NaN",
    }
)
def test_trade_is_a_valid_record_or_malformed(raw: Any) -> None:
    try:
        trade = parse_trade(raw)
    except MalformedResponse as error:
        assert_typed_error(error)
        return
    assert_valid_trade(trade)


@SETTINGS
@given(inner=page_shapes(trade_pages()))
@example(inner={"trades": []})
@example(inner={"trades": {"trade": []}, "total_results": "many"})
@example(inner={"trades": {"trade": []}, "total_results": float("inf")})
@example(inner={"trades": {"trade": []}, "has_next": "false"})
def test_trade_page_is_valid_or_malformed(inner: Any) -> None:
    try:
        page = parse_trade_page(inner)
    except MalformedResponse as error:
        assert_typed_error(error)
        return
    assert isinstance(page, TradePage)
    for trade in page.trades:
        assert_valid_trade(trade)
    assert page.total_results is None or (
        type(page.total_results) is int and page.total_results >= 0
    )
    assert page.has_next is None or type(page.has_next) is bool
    for key, reason in page.rejected:
        assert is_text(key) and is_text(reason) and len(key) <= 64
    raw = ((inner.get("trades") or {}).get("trade")) or []
    # Every trade of the page is either read or listed as rejected: none silently lost.
    assert len(page.trades) + len(page.rejected) == len(raw)


@SETTINGS
@given(raw=rating_objects)
@example(raw={"tid": 1, "oid": float("-inf"), "result": "bad", "created": "2026-11-20 10:00:00"})
@example(raw={"tid": 1, "oid": 2, "result": "bad", "created": "0001-01-01 01:00:00"})
@example(raw={"tid": 1, "oid": 2, "result": "bad", "created": "2026-11-20 10:00:00", "reply": [1]})
def test_rating_is_a_valid_record_or_malformed(raw: Any) -> None:
    try:
        rating = parse_rating(raw)
    except MalformedResponse as error:
        assert_typed_error(error)
        return
    assert_valid_rating(rating)


@SETTINGS
@given(inner=page_shapes(rating_pages()))
@example(inner={"trade_rates": "none"})
@example(inner={"trade_rates": {"trade_rate": []}, "total_results": [3]})
def test_rating_page_is_valid_or_malformed(inner: Any) -> None:
    try:
        page = parse_rating_page(inner)
    except MalformedResponse as error:
        assert_typed_error(error)
        return
    assert isinstance(page, RatingPage)
    for rating in page.ratings:
        assert_valid_rating(rating)
    assert page.total_results is None or (
        type(page.total_results) is int and page.total_results >= 0
    )
    raw = ((inner.get("trade_rates") or {}).get("trade_rate")) or []
    assert len(page.ratings) + len(page.rejected) == len(raw)
    for key, reason in page.rejected:
        assert is_text(key) and is_text(reason) and len(key) <= 64


@SETTINGS
@given(body=st.one_of(top_errors, st.dictionaries(st.text(max_size=10), json_values)))
@example(body={"code": "App Call Limited"})
@example(body={"code": float("nan")})
@example(body={"code": 7, "sub_msg": "This ban will last for " + "9" * 400 + " more seconds"})
@example(body={"code": 7, "request_id": {"id": 1}})
def test_error_response_always_maps_to_a_typed_error(body: dict[str, Any]) -> None:
    error = error_from_response(body)
    assert isinstance(error, ProviderError)
    assert_typed_error(error)


@SETTINGS
@given(
    body=st.one_of(
        json_values,
        st.fixed_dictionaries({"error_response": st.one_of(top_errors, json_values)}),
        st.fixed_dictionaries({"trades_sold_increment_get_response": json_values}),
    )
)
def test_gateway_answer_is_unwrapped_or_a_typed_error(body: Any) -> None:
    try:
        inner = unwrap_answer(body, "taobao.trades.sold.increment.get")
    except ProviderError as error:
        assert_typed_error(error)
        if isinstance(body, dict) and isinstance(body.get("error_response"), dict):
            assert type(error) is type(error_from_response(body["error_response"]))
        return
    assert isinstance(inner, dict)
    assert inner is body["trades_sold_increment_get_response"]
