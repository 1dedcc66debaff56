"""Member-centre imports and signed webhooks: bad input gets a reason, forgeries a refusal."""

import time
from datetime import date

import pytest

from aftercare.members import parse_members_csv
from aftercare.rules.care import is_opt_out
from aftercare.webhooks import check, sign

CSV = """buyer_nick,name,mobile,birthday,grade,tags,marketing_consent,consent_at
小鱼儿2019,张三,13812345678,1990-11-21,2,老客户|高价值,1,2026-01-05 10:00:00
tb_8234871,李四,1381234,1992-02-30,x,,0,
,王五,13900000000,1991-01-01,1,,1,
大橙子,,,,,新客,1,yesterday
"""


def test_member_export_is_read_and_every_bad_field_has_a_reason():
    members, problems = parse_members_csv(CSV)
    assert [m["buyer_nick"] for m in members] == ["小鱼儿2019", "tb_8234871", "大橙子"]
    first = members[0]
    assert first["birthday"] == date(1990, 11, 21) and first["consent"] and first["grade"] == 2
    assert first["tags"] == "老客户|高价值"
    second = members[1]
    assert second["phone"] is None and second["birthday"] is None and second["grade"] is None
    reasons = " | ".join(f"{k}: {r}" for k, r in problems)
    for expected in (
        "invalid mobile",
        "unreadable birthday",
        "unreadable grade",
        "no buyer_nick",
        "unreadable consent_at",
    ):
        assert expected in reasons


def test_an_export_without_the_needed_columns_is_refused_whole():
    members, problems = parse_members_csv("nick,phone\na,1\n")
    assert members == [] and "missing columns" in problems[0][1]


@pytest.mark.parametrize(
    ("reply", "stop"),
    [
        ("TD", True),
        ("td", True),
        (" T ", True),
        ("退订", True),
        ("回T退订", True),
        ("T。", True),
        ("好的谢谢", False),
        ("TDD", False),
        ("什么时候发货", False),
        ("", False),
    ],
)
def test_opt_out_replies(reply, stop):
    assert is_opt_out(reply) is stop


SECRET = "s3cret"
BODY = b'[{"phone_number": "13812345678", "content": "TD"}]'


def test_a_correctly_signed_fresh_call_passes():
    now = time.time()
    stamp = str(int(now))
    assert (
        check(
            secret=SECRET, timestamp=stamp, signature=sign(SECRET, stamp, BODY), body=BODY, now=now
        )
        is None
    )


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"signature": "0" * 64}, "bad signature"),
        ({"body": BODY + b" "}, "bad signature"),
        ({"secret": "other"}, "bad signature"),
        ({"timestamp": None}, "missing"),
        ({"timestamp": "yesterday"}, "bad timestamp"),
        ({"now_shift": 3600}, "stale"),
        ({"body": b"x" * (64 * 1024 + 1)}, "too large"),
    ],
)
def test_forged_stale_or_oversized_calls_are_refused(change, reason):
    now = time.time()
    stamp = str(int(now))
    args = {
        "secret": SECRET,
        "timestamp": stamp,
        "signature": sign(SECRET, stamp, BODY),
        "body": BODY,
        "now": now + change.pop("now_shift", 0),
    }
    if "secret" in change:
        args["signature"] = sign(change.pop("secret"), stamp, BODY)
    args.update(change)
    assert reason in (check(**args) or "")
