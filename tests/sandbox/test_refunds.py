"""Refunds over the TOP gateway: listed by modified time, read one by one, timed, messaged."""

from __future__ import annotations

from datetime import timedelta

from sandbox import Sandbox

from .conftest import ANCHOR
from .signing import top_call


def test_a_refund_moves_with_its_timer_and_takes_a_message_until_it_ends(sb: Sandbox, http):
    trade = next(t for t in sb.world.trades_of("sishi") if t.consign_time)
    refund = sb.taobao.refunds.open_refund(trade.tid, "质量问题", ANCHOR)
    url = sb.url("taobao")
    window = {
        "start_modified": (ANCHOR - timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S"),
        "end_modified": (ANCHOR + timedelta(hours=8)).strftime("%Y-%m-%d %H:%M:%S"),
    }
    listed = top_call(http, url, "taobao.refunds.receive.get", shop="sishi", **window)
    body = listed["refunds_receive_get_response"]
    (found,) = [r for r in body["refunds"]["refund"] if r["refund_id"] == refund.refund_id]
    assert found["status"] == "WAIT_SELLER_AGREE" and found["tid"] == trade.tid
    assert found["refund_remind_timeout"]["exist_timeout"] is True
    # Another shop cannot read it.
    other = top_call(http, url, "taobao.refund.get", shop="mumu", refund_id=refund.refund_id)
    assert other["error_response"]["sub_code"] == "isv.refund-not-exist"

    said = top_call(
        http, url, "taobao.refund.message.add", shop="sishi", refund_id=refund.refund_id,
        content="亲，已收到您的退款申请，我们马上核实",
    )  # fmt: skip
    assert "refund_message" in said["refund_message_add_response"]
    assert [text for _, text in refund.messages] == ["亲，已收到您的退款申请，我们马上核实"]

    # Past the seller's deadline the platform has agreed: no more messages on it.
    sb.clock.set(ANCHOR + timedelta(days=6))
    one = top_call(http, url, "taobao.refund.get", shop="sishi", refund_id=refund.refund_id)
    assert one["refund_get_response"]["refund"]["status"] == "SUCCESS"
    late = top_call(
        http, url, "taobao.refund.message.add", shop="sishi", refund_id=refund.refund_id,
        content="还在吗",
    )  # fmt: skip
    assert late["error_response"]["sub_code"] == "isv.refund-finished"
