"""SMS by OAID through the TOP gateway (聚石塔): the platform finds the number itself."""

from __future__ import annotations

import json

from sandbox import SHOPS, Sandbox
from sandbox.jst_sms import oaid_of

from .signing import top_call

SEND = "taobao.jst.sms.oaid.message.send"


def request(oaid: str, **overrides) -> str:
    body = {
        "oaid": oaid,
        "order_id": "1",
        "sms_free_sign_name": "小雅家居",
        "template_code": "SMS_480100002",
        "params": json.dumps({"shop": "小雅家居", "courier": "中通", "waybill": "ZT1"}),
        "extend": "our-out-id",
        **overrides,
    }
    return json.dumps(body, ensure_ascii=False)


def test_an_oaid_of_the_shops_buyer_reaches_that_buyers_number(sb: Sandbox, http):
    buyer = sb.world.trades_of("xiaoya")[0].buyer
    answer = top_call(
        http,
        sb.url("taobao"),
        SEND,
        shop="xiaoya",
        param_send_message_by_o_a_i_d_request=request(oaid_of(buyer, SHOPS["xiaoya"])),
    )
    assert "jst_sms_oaid_message_send_response" in answer, answer
    (record,) = sb.sms.sent
    assert (record.phone, record.out_id) == (buyer.phone, "our-out-id")
    assert "ZT1" in record.content


def test_an_oaid_of_another_shop_or_a_bad_request_is_refused(sb: Sandbox, http):
    buyer = sb.world.trades_of("sishi")[0].buyer
    url = sb.url("taobao")
    foreign = top_call(
        http, url, SEND, shop="xiaoya",
        param_send_message_by_o_a_i_d_request=request(oaid_of(buyer, SHOPS["sishi"])),
    )["error_response"]  # fmt: skip
    assert foreign["sub_code"] == "isv.oaid-invalid"
    own = oaid_of(sb.world.trades_of("xiaoya")[0].buyer, SHOPS["xiaoya"])
    template = top_call(
        http, url, SEND, shop="xiaoya",
        param_send_message_by_o_a_i_d_request=request(own, template_code="SMS_NOPE"),
    )["error_response"]  # fmt: skip
    assert template["sub_code"] == "isv.template-illegal"
    missing = top_call(http, url, SEND, shop="xiaoya")["error_response"]
    assert missing["code"] == 40
    assert sb.sms.sent == []


DECRYPT = "taobao.top.oaid.decrypt"


def decrypt(sb: Sandbox, http, queries: list[dict], shop: str = "xiaoya") -> dict:
    return top_call(http, sb.url("taobao"), DECRYPT, shop=shop, query_list=json.dumps(queries))


def test_decryption_answers_the_number_for_a_scene_at_most_20_at_a_time(sb: Sandbox, http):
    trades = sb.world.trades_of("xiaoya")[:21]
    queries = [
        {"oaid": oaid_of(t.buyer, SHOPS["xiaoya"]), "tid": str(t.tid), "scene": "2001"}
        for t in trades
    ]
    answer = decrypt(sb, http, queries[:20])["top_oaid_decrypt_response"]
    receivers = answer["receiver_list"]["receiver"]
    assert [r["mobile"] for r in receivers] == [t.buyer.phone for t in trades[:20]]
    too_many = decrypt(sb, http, queries)
    assert too_many["error_response"]["sub_code"] == "isv.invalid-parameter"
    no_scene = decrypt(sb, http, [{**queries[0], "scene": "9999"}])
    assert "error_response" in no_scene
    # Another shop's OAID is not matched: no number.
    foreign = decrypt(sb, http, queries[:1], shop="sishi")["top_oaid_decrypt_response"]
    assert foreign["receiver_list"]["receiver"][0]["matched"] is False
    assert "mobile" not in foreign["receiver_list"]["receiver"][0]


def test_past_the_daily_quota_decryption_is_refused(sb: Sandbox, http):
    service = sb.taobao.oaid_decryption
    assert service is not None
    quota, service.daily_quota = service.daily_quota, 2
    try:
        trade = sb.world.trades_of("xiaoya")[0]
        query = {
            "oaid": oaid_of(trade.buyer, SHOPS["xiaoya"]),
            "tid": str(trade.tid),
            "scene": "2002",
        }
        assert "top_oaid_decrypt_response" in decrypt(sb, http, [query, query])
        refused = decrypt(sb, http, [query])["error_response"]
        assert refused["sub_code"] == "isv.oaid-decrypt-quota-exceeded"
    finally:
        service.daily_quota = quota
