"""Pinduoduo's pushed messages read as triggers: ids only, the shop by its mall."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from aftercare.clients.errors import MalformedResponse
from aftercare.clients.pinduoduo_pmc import parse_push, pmc_sign

MALLS = {9424847: "guoyuan"}


def push(**message: object) -> dict[str, object]:
    inner = {"type": "pdd_refund_RefundCreated", "mallID": 9424847,
             "content": json.dumps({"refund_id": 91, "tid": "261120-42"})}  # fmt: skip
    inner.update(message)
    return {"id": 7001, "commandType": "Common", "time": 1, "sendTime": 1795000000123,
            "message": inner}  # fmt: skip


def test_a_refund_message_names_the_refund_the_order_and_the_shop():
    message = parse_push(push(), MALLS)
    assert (message.id, message.topic, message.shop_code) == (
        "7001",
        "pdd_refund_RefundCreated",
        "guoyuan",
    )
    assert (message.refund_id, message.tid) == ("91", "261120-42")
    assert message.published_at == datetime.fromtimestamp(1795000000.123, UTC)


def test_a_mall_we_do_not_serve_is_kept_without_a_shop():
    assert parse_push(push(mallID=1), MALLS).shop_code is None


@pytest.mark.parametrize(
    "changes", [{"content": "not json"}, {"content": "[1]"}, {"type": None}, {"mallID": "x"}]
)
def test_an_unreadable_message_is_refused_with_a_reason(changes):
    with pytest.raises(MalformedResponse, match="unreadable message"):
        parse_push(push(**changes), MALLS)


def test_the_signature_is_base64_of_the_md5_hex_text():
    # Worked out once by hand (the hex digest's text, not its bytes, is encoded).
    sign = pmc_sign("sandbox-pdd-client", "1795000000000", "sandbox-pdd-secret")
    assert sign == "OWY4NGM1NTM0ZDhlMTBhNTY5MWM4YzM4YzY2ZDk2NGE="
