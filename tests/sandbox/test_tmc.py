"""The message channel (TMC) by polling, over real HTTP, as the platform documents it."""

from __future__ import annotations

import json
from datetime import timedelta

import requests

from sandbox import Sandbox

from .conftest import ANCHOR
from .signing import top_call

CONSUME = "taobao.tmc.messages.consume"
CONFIRM = "taobao.tmc.messages.confirm"
PERMIT = "taobao.tmc.user.permit"


def consume(sb: Sandbox, http: requests.Session, quantity: int = 200) -> list[dict]:
    body = top_call(http, sb.url("taobao"), CONSUME, session="", quantity=quantity)
    inner = body["tmc_messages_consume_response"]
    return inner.get("messages", {}).get("tmc_message", [])


def test_a_permitted_sellers_changes_arrive_as_id_only_triggers(sb: Sandbox, http):
    sb.clock.set(ANCHOR - timedelta(hours=12))
    assert top_call(http, sb.url("taobao"), PERMIT, shop="sishi")["tmc_user_permit_response"][
        "is_success"
    ]
    sb.clock.set(ANCHOR)
    messages = consume(sb, http)
    assert messages
    for message in messages:
        assert message["user_nick"] == "丝施品牌店" and message["topic"].startswith("taobao_trade_")
        content = json.loads(message["content"])
        assert {"tid", "oid", "seller_nick"} <= set(content)
        if message["topic"] != "taobao_trade_TradeClose":
            assert "status" not in content, "a trigger names the trade, never its state"
        assert sb.world.trade(int(content["tid"])).shop == "sishi"


def test_unconfirmed_messages_come_again_after_the_timeout_and_confirmed_ones_never(
    sb: Sandbox, http
):
    sb.clock.set(ANCHOR - timedelta(hours=12))
    top_call(http, sb.url("taobao"), PERMIT, shop="mumu")
    sb.clock.set(ANCHOR)
    first = consume(sb, http)
    assert first and consume(sb, http) == [], "handed out: not again before the timeout"
    half = [str(m["id"]) for m in first[: len(first) // 2]]
    answer = top_call(http, sb.url("taobao"), CONFIRM, session="", s_message_ids=",".join(half))
    assert answer["tmc_messages_confirm_response"]["is_success"] is True
    sb.clock.set(ANCHOR + timedelta(seconds=61))
    again = {str(m["id"]) for m in consume(sb, http)}
    assert again >= {str(m["id"]) for m in first} - set(half)
    assert not again & set(half)
    assert sb.taobao.channel.redelivered


def test_bad_calls_are_refused_as_the_platform_does(sb: Sandbox, http):
    url = sb.url("taobao")
    too_many = top_call(http, url, CONSUME, session="", quantity=500)["error_response"]
    assert too_many["code"] == 41 and "quantity" in too_many["msg"]
    group = top_call(http, url, CONSUME, session="", group_name="nope")["error_response"]
    assert group["sub_code"] == "isv.group-not-exist"
    bad_ids = top_call(http, url, CONFIRM, session="", s_message_ids="1,x")["error_response"]
    assert bad_ids["code"] == 41
    no_session = top_call(http, url, PERMIT, session="")["error_response"]
    assert no_session["code"] == 26
    forged = top_call(http, url, CONSUME, session="", secret="wrong")["error_response"]
    assert forged["code"] == 25


def test_the_channel_can_repeat_and_shuffle_a_batch(sb: Sandbox, http):
    channel = sb.taobao.channel
    channel.duplicate_rate, channel.shuffle = 1.0, True
    try:
        sb.clock.set(ANCHOR - timedelta(hours=12))
        top_call(http, sb.url("taobao"), PERMIT, shop="xiaoya")
        sb.clock.set(ANCHOR)
        batch = [m["id"] for m in consume(sb, http)]
        assert batch and len(batch) == 2 * len(set(batch))
    finally:
        channel.duplicate_rate, channel.shuffle = 0.0, False
