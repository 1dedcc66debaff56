"""Every template within what carriers allow: opt-out, no review inducement,
no debt-collection words, and a bounded number of billed messages."""

from __future__ import annotations

import pytest

from aftercare.rules.explanations import UNRECORDED_DEEDS
from aftercare.templates import MAX_PARAM_CHARS, load_templates, sms_segments

TEMPLATES = load_templates()
SIGNATURE = "【丝施品牌旗舰店】"  # the longest sandbox signature, sent in front of every text
REALISTIC = {
    "shop": "丝施品牌旗舰店",
    "courier": "圆通速递",
    "waybill": "YT1234567890123",
    "item": "纯棉短袖T恤女夏季宽松",
    "hours": "2",
    "tip": "浅色衣物首次清洗请单独手洗",
    "holiday": "中秋节",
    "product": "羊毛围巾",
}
# 邀请好评 / 诱导好评 (inviting or rewarding a good review) is banned content.
REVIEW_INDUCEMENT = ("好评", "五星", "5星", "给个好", "全五分")
REWARDS = ("返现", "红包", "优惠券", "礼品", "小礼", "奖励", "现金", "补偿", "积分")
DEBT_COLLECTION = ("欠款", "催收", "逾期", "违约", "法律", "起诉", "征信", "后果自负")


def filled(text: str, params: dict[str, str]) -> str:
    for name, value in params.items():
        text = text.replace("${" + name + "}", value)
    return SIGNATURE + text


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_marketing_carries_the_opt_out_and_no_text_invites_a_good_review(name):
    template = TEMPLATES[name]
    assert template.kind in ("transactional", "marketing")
    if template.kind == "marketing":
        assert template.text.endswith("回T退订"), "marketing must say how to opt out"
    assert not any(word in template.text for word in REVIEW_INDUCEMENT), template.text
    if "评价" in template.text:  # asking to revise is allowed, never for something in return
        assert not any(word in template.text for word in REWARDS), template.text
    if name.startswith("unpaid"):
        assert not any(word in template.text for word in DEBT_COLLECTION), template.text


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_each_text_takes_at_most_two_messages_and_three_with_the_longest_values(name):
    template = TEMPLATES[name]
    assert sms_segments(filled(template.text, REALISTIC)) <= 2
    longest = dict.fromkeys(template.variables, "长" * MAX_PARAM_CHARS)
    assert sms_segments(filled(template.text, longest)) <= 3


@pytest.mark.parametrize(
    ("length", "segments"), [(1, 1), (70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)]
)
def test_segments_are_counted_as_carriers_bill_them(length, segments):
    assert sms_segments("字" * length) == segments
    assert sms_segments("😀" * 35) == 1 and sms_segments("😀" * 36) == 2, "emoji count twice"


# Texts leave the moment a pipeline decides, before anyone has done anything: a text that says
# a deed is done ("我们已帮您催促快递") tells the buyer something untrue.
DEEDS_NOT_YET_DONE = (
    *UNRECORDED_DEEDS,
    *("已帮您", "已催促", "已联系", "已在", "为您安排", "为您处理"),
)


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_no_text_says_a_deed_was_done_before_anyone_did_it(name):
    text = TEMPLATES[name].text
    assert not [deed for deed in DEEDS_NOT_YET_DONE if deed in text], text
