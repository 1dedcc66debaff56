"""Review follow-up rules: causes, first contact, the ladder, the deadline (pinned clocks)."""

import dataclasses
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from aftercare.rules.explanations import EXPLANATION_LIMIT, Part
from aftercare.rules.reviews import (
    OrderFacts,
    Outcome,
    Settlement,
    WorkingHours,
    after_outcome,
    classify,
    explanation_deadline,
    explanation_due_at,
    first_contact_at,
    load_causes,
    render_explanation,
    settle,
)

SH = ZoneInfo("Asia/Shanghai")
CAUSES = load_causes()
BY_NAME = {c.name: c for c in CAUSES}
CLEAN = OrderFacts(had_logistics_case=False, had_other_case=False)
HOURS = WorkingHours(time(9), time(18), SH)


def at(month, day, hour, minute=0, zone=SH):
    return datetime(2026, month, day, hour, minute, tzinfo=zone)


@pytest.mark.parametrize(
    ("text", "cause"),
    [
        ("质量太差了，才穿两次就开线了", "quality"),
        ("洗一次掉色掉得厉害，差评", "quality"),
        ("发错货了！拍的110码发来130码", "wrong_item"),
        ("拍了两件只收到一件，另一件问了也没个说法", "wrong_item"),
        ("色差太大了，图片是粉色收到是橘色", "description"),
        ("一打开一股刺鼻的异味，不敢穿", "description"),
        ("尺码偏小，建议买大一码", "description"),
        ("物流慢得离谱，半个月才收到", "logistics"),
        ("包装破损，东西都压变形了", "logistics"),
        ("快递员态度极差，打电话还凶人", "logistics"),
        ("客服态度太差了，问个问题直接不理人", "service"),
        ("一般般吧", "mood"),
        ("不喜欢，感觉不值这个价", "mood"),
        ("差评 差评 差评", "malicious"),
        ("差差差差差差差差", "malicious"),
        ("同款别家便宜一半，大家去看看 http://t.cn/A6xYz0q", "malicious"),
        ("加V信 tb88866 领同款更便宜，这家太坑", "malicious"),
    ],
)
def test_cause_from_the_review_text(text, cause):
    assert classify(text, CLEAN, CAUSES).name == cause


def test_cause_from_the_order_facts_when_the_text_says_nothing():
    text = "收到了，一般"
    assert classify(text, CLEAN, CAUSES).name == "mood"
    stalled = OrderFacts(had_logistics_case=True, had_other_case=False)
    assert classify(text, stalled, CAUSES).name == "logistics"


def test_causes_are_data_and_can_be_edited(tmp_path):
    custom = tmp_path / "causes.toml"
    custom.write_text(
        '[quality]\nlabel="q"\nkeywords=["一般"]\ncontact="same_day"\nshop_at_fault=true\n'
        'script="s"\nremedy="r"\nexplanation="e"\n'
        '[mood]\nlabel="m"\nkeywords=[]\ncontact="next_day"\nshop_at_fault=false\n'
        'script="s"\nremedy="r"\nexplanation="e"\n',
        encoding="utf-8",
    )
    assert classify("一般般吧", CLEAN, load_causes(str(custom))).name == "quality"


@pytest.mark.parametrize(
    ("cause", "rated", "now", "expected"),
    [
        # mood: the next working morning, never right after the review
        ("mood", at(11, 20, 10), at(11, 20, 10, 5), at(11, 21, 9)),
        ("mood", at(11, 20, 23), at(11, 20, 23, 5), at(11, 21, 9)),
        ("mood", at(11, 20, 10), at(11, 22, 15), at(11, 22, 15)),  # first seen late: at once
        # others: at once in working hours, else the next working morning
        ("quality", at(11, 20, 10), at(11, 20, 10, 5), at(11, 20, 10, 5)),
        ("logistics", at(11, 20, 19), at(11, 20, 19, 5), at(11, 21, 9)),
        ("service", at(11, 20, 7), at(11, 20, 7, 5), at(11, 20, 9)),
        ("mood", at(11, 30, 20), at(11, 30, 20), at(12, 1, 9)),  # across a month end
    ],
)
def test_first_contact(cause, rated, now, expected):
    assert first_contact_at(BY_NAME[cause], rated, now, HOURS) == expected


@pytest.mark.parametrize(
    ("rated", "deadline", "post_at"),
    [
        # the last allowed day, at the start of work
        (at(11, 20, 15), at(12, 20, 15), at(12, 20, 9)),
        # work starts after the deadline that day: the day before
        (at(11, 20, 8), at(12, 20, 8), at(12, 19, 9)),
        # across a month end and a year end
        (at(12, 2, 12), datetime(2027, 1, 1, 12, tzinfo=SH), datetime(2027, 1, 1, 9, tzinfo=SH)),
        (at(1, 31, 12), at(3, 2, 12), at(3, 2, 9)),
        # rated at 23:30 Shanghai, given in UTC: the day is Shanghai's
        (
            datetime(2026, 11, 20, 15, 30, tzinfo=ZoneInfo("UTC")),
            datetime(2026, 12, 20, 15, 30, tzinfo=ZoneInfo("UTC")),
            at(12, 20, 9),
        ),
    ],
)
def test_explanation_deadline_and_posting_day(rated, deadline, post_at):
    assert explanation_deadline(rated, 30) == deadline
    due = explanation_due_at(deadline, HOURS, 0)
    assert due == post_at and due < deadline
    assert explanation_due_at(deadline, HOURS, 2) == post_at - timedelta(days=2)


def test_explanations_fit_the_platform_limit_and_cite_facts():
    facts = {"courier": "圆通速递", "shipped": "11月18日", "delivered": "11月20日"}
    for cause in CAUSES:
        text = render_explanation(cause, facts)
        assert 0 < len(text) <= EXPLANATION_LIMIT and "${" not in text
    assert "圆通速递" in render_explanation(BY_NAME["logistics"], facts)
    long = dataclasses.replace(BY_NAME["mood"], explanation=(Part("长" * 900),))
    assert len(render_explanation(long, facts)) == EXPLANATION_LIMIT


LADDER = dict(max_unreachable=3, hours=HOURS, now=at(11, 21, 10))


@pytest.mark.parametrize(
    ("outcome", "agreed", "unreachable", "declines", "action", "message"),
    [
        (
            Outcome.AGREED_TO_REVISE,
            at(11, 23, 10),
            0,
            0,
            "check_revision",
            "review_revision_reminder",
        ),
        (Outcome.COMPENSATION_ACCEPTED, None, 0, 1, "check_revision", "review_revision_reminder"),
        (Outcome.DECLINED, None, 0, 1, "offer_compensation", None),
        (Outcome.COMPENSATION_DECLINED, at(11, 25, 10), 0, 1, "follow_up_again", None),
        (Outcome.COMPENSATION_DECLINED, None, 0, 2, "await_explanation", None),
        (Outcome.UNREACHABLE, None, 1, 0, "call_again", None),
        (Outcome.UNREACHABLE, None, 3, 0, "await_explanation", None),
        (Outcome.MALICIOUS_REPORTED, None, 0, 0, "await_explanation", None),
    ],
)
def test_follow_up_ladder(outcome, agreed, unreachable, declines, action, message):
    step = after_outcome(
        outcome,
        agreed_next_contact=agreed,
        unreachable_count=unreachable,
        declines=declines,
        **LADDER,
    )
    assert step.action == action and step.message == message
    if agreed and action != "await_explanation":
        assert step.at == agreed, "the agreed time (核实时间) is kept"
    if action == "call_again":
        assert step.at == at(11, 22, 9)


@pytest.mark.parametrize(
    ("result", "reply", "appended", "now", "expected"),
    [
        ("good", False, False, at(11, 25, 10), Settlement.RECOVERED),
        ("bad", True, False, at(11, 25, 10), Settlement.EXPLAINED),
        ("bad", False, False, at(11, 25, 10), Settlement.WAIT),
        ("bad", False, True, at(11, 25, 10), Settlement.EXPLAIN),
        ("neutral", False, False, at(12, 20, 9), Settlement.EXPLAIN),
        ("bad", False, False, at(12, 20, 16), Settlement.EXPIRED),
        ("good", False, False, at(12, 20, 9), Settlement.RECOVERED),
    ],
)
def test_settling_a_case(result, reply, appended, now, expected):
    assert (
        settle(
            result=result,
            has_reply=reply,
            appended=appended,
            now=now,
            explain_at=at(12, 20, 9),
            deadline=at(12, 20, 15),
        )
        is expected
    )


def test_a_refused_explanation_closes_the_case_by_the_platforms_code():
    from aftercare.rules.reviews import CLOSINGS, Settlement, explanation_refused

    # Already explained: our earlier attempt went through, its answer was lost.
    assert explanation_refused("isv.explain-exists", "x") == CLOSINGS[Settlement.EXPLAINED]
    late = explanation_refused("isv.explain-not-allowed", "window closed")
    assert late.kind == "explanation no longer possible"
    assert late.reason == "explanation no longer possible: window closed"
    other = explanation_refused("isv.invalid-parameter", "too long")
    assert other.kind == "explanation refused" and "too long" in other.reason
    assert explanation_refused(None, "?").kind == "explanation refused"
