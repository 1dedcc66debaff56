"""Courier names as shops write them map to Kuaidi100 codes, from one table kept as data."""

import pytest

from aftercare.rules.couriers import courier_code, courier_name


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("圆通速递", "yuantong"),
        ("邮政快递包裹", "youzhengguonei"),
        ("中国邮政", "youzhengguonei"),
        ("京东快递", "jd"),
        ("京东物流", "jd"),
        ("德邦快递", "debangkuaidi"),
        ("百世快递", "huitongkuaidi"),
        ("百世汇通", "huitongkuaidi"),
        ("极兔速递", "jtexpress"),
        ("J&T", "jtexpress"),
        ("ＳＦ", "shunfeng"),
        ("sf express", "shunfeng"),
        (" 顺丰 速运 ", "shunfeng"),
        ("顺丰快运", "shunfengkuaiyun"),
        ("宅急送", "zhaijisong"),
        ("安能物流", "annengwuliu"),
        ("EMS", "ems"),
    ],
)
def test_every_common_way_of_writing_a_courier_maps_to_its_code(written, code):
    assert courier_code(written) == code


@pytest.mark.parametrize("written", [None, "", "  ", "火星快递", "请联系客服"])
def test_a_courier_nobody_knows_has_no_code(written):
    assert courier_code(written) is None


def test_each_code_has_the_name_buyers_know():
    assert courier_name("youzhengguonei") == "邮政快递包裹"
    assert courier_name("unknown") == "unknown"
