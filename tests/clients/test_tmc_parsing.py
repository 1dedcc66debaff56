"""Reading the message channel's answers: wrapped or bare lists, one bad message kept apart."""

from __future__ import annotations

import json

import pytest

from aftercare.clients.errors import MalformedResponse
from aftercare.clients.taobao_tmc import parse_batch


def message(**overrides):
    base = {
        "id": 7000000001,
        "topic": "taobao_trade_TradeBuyerPay",
        "user_nick": "丝施品牌店",
        "pub_time": "2026-11-20 18:00:00",
        "content": json.dumps({"tid": 3012345678, "oid": "3012345679", "buyer_nick": "a***"}),
    }
    return {**base, **overrides}


def test_a_wrapped_list_and_a_bare_list_read_the_same():
    wrapped = parse_batch({"messages": {"tmc_message": [message()]}})
    bare = parse_batch({"messages": [message()]})
    assert wrapped == bare
    (read,) = wrapped.messages
    assert (read.id, read.tid, read.oid, read.refund_id) == (
        "7000000001",
        "3012345678",
        "3012345679",
        None,
    )
    assert read.published_at is not None and read.published_at.hour == 10  # 18:00 in China


def test_an_empty_answer_is_an_empty_batch():
    assert parse_batch({}).messages == ()


@pytest.mark.parametrize(
    "bad",
    [
        message(id="x"),
        message(id=None),
        message(content="{not json"),
        message(content=json.dumps(["a list"])),
        message(content=json.dumps({"tid": "abc"})),
        message(pub_time="yesterday"),
        "a string",
    ],
)
def test_one_unreadable_message_is_kept_apart_with_its_reason(bad):
    batch = parse_batch({"messages": {"tmc_message": [message(id=7000000002), bad]}})
    assert [m.id for m in batch.messages] == ["7000000002"]
    ((_, reason),) = batch.rejected
    assert reason.startswith("unreadable message") or "not an object" in reason


def test_an_answer_that_is_not_a_listing_is_malformed():
    with pytest.raises(MalformedResponse):
        parse_batch({"messages": "nope"})
    with pytest.raises(MalformedResponse):
        parse_batch([])
