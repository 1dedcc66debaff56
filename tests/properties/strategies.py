"""Hypothesis strategies for provider payloads: realistic fields, hostile text, broken shapes."""

from __future__ import annotations

import contextlib
import json
import math
import re
import unicodedata
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from aftercare.clock import CHINA, WIRE_FORMAT

# --- text -----------------------------------------------------------------------------------

INJECTIONS = (
    "${shop}",
    "${x}",
    "$shop",
    "$$",
    "{{7*7}}",
    "{{x}}",
    "{% if 1 %}x{% endif %}",
    "%s",
    "%(shop)s",
    "{0}",
    "{shop}",
    "<script>alert(1)</script>",
    "<b>粗体</b>",
    "' OR 1=1 --",
    "\\u0000",
)
CONTROLS = ("\x00", "\x07", "\x1b[31m", "\r\n", "\t", "\u2028", "\u2029", "\u202e", "\ufeff")
EMOJI = ("😀", "👨‍👩‍👧‍👦", "🇨🇳", "👍🏽", "❤️", "\U0001f9e7")
NON_BMP = ("𠀀", "𪚥", "𝔘𝔫𝔦", "\U0010fffd")
CHINESE = ("质量很差", "快递太慢了", "客服态度不好", "圆通速递", "张三", "小鱼儿2019", "蕾丝文胸")
SURROGATES = ("\ud800", "\udfff", "\udc80")

snippets = st.sampled_from(INJECTIONS + CONTROLS + EMOJI + NON_BMP + CHINESE)
# Cheap to draw, for the many fields of a payload: one hostile piece, sometimes huge.
hostile_piece = st.sampled_from(
    INJECTIONS + CONTROLS + EMOJI + NON_BMP + CHINESE + SURROGATES + ("长" * 5000, "😀" * 3000)
)
any_char_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=40)
# Lone surrogates cannot be encoded at all; for text that must go on the wire.
any_char_text_without_surrogates = st.text(
    st.characters(codec=None, exclude_categories=("Cs",)), max_size=40
)


@st.composite
def hostile_text(draw: st.DrawFn, *, surrogates: bool = True, max_repeat: int = 500) -> str:
    """Text mixing template syntax, HTML, controls, emoji, non-BMP, Chinese, maybe huge."""
    parts = draw(
        st.lists(
            st.one_of(
                snippets,
                st.text(max_size=20),
                any_char_text if surrogates else any_char_text_without_surrogates,
                st.sampled_from(SURROGATES) if surrogates else st.just("x"),
            ),
            max_size=8,
        )
    )
    text = "".join(parts)
    if draw(st.integers(0, 9)) == 0:  # now and then a huge string
        text = text * draw(st.integers(2, max_repeat)) if text else "长" * 20_000
    return text


# --- JSON -----------------------------------------------------------------------------------

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    # Python's json module reads NaN and Infinity, so a provider answer can carry them.
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    hostile_piece,
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=20,
)


def wrong_types(value: Any = None) -> st.SearchStrategy[Any]:
    """Values of other types (and the same value as a number/string of the other kind)."""
    choices: list[st.SearchStrategy[Any]] = [json_values, st.just([]), st.just({})]
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            choices.append(st.just(int(value)))
        with contextlib.suppress(ValueError):
            choices.append(st.just(float(value)))
    elif isinstance(value, int | float) and not isinstance(value, bool):
        choices.append(st.just(str(value)))
    return st.one_of(choices)


@st.composite
def mutated(draw: st.DrawFn, base: st.SearchStrategy[dict[str, Any]]) -> dict[str, Any]:
    """A well-formed object, then maybe some keys dropped, retyped or added."""
    obj = dict(draw(base))
    for _ in range(draw(st.integers(0, 3))):
        action = draw(st.sampled_from(["drop", "retype", "extra", "null", "empty"]))
        keys = sorted(obj)
        if action == "extra" or not keys:
            obj[draw(st.text(max_size=12))] = draw(json_values)
            continue
        key = draw(st.sampled_from(keys))
        if action == "drop":
            del obj[key]
        elif action == "retype":
            obj[key] = draw(wrong_types(obj[key]))
        elif action == "null":
            obj[key] = None
        else:
            obj[key] = ""
    return obj


# --- fields ---------------------------------------------------------------------------------

moments = st.datetimes(
    min_value=datetime(2015, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)
)


def china_wire(moment: datetime) -> str:
    return moment.astimezone(CHINA).strftime(WIRE_FORMAT)


good_times = moments.map(china_wire)
bad_times = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "yesterday",
            "2026-02-30 10:00:00",
            "2026-11-20 24:00:00",
            "2026/11/20 10:00:00",
            "2026-11-20T10:00:00+08:00",
            "2026-11-20T02:00:00Z",
            "20261120100000",
            "2026-11-20",
            "10:00:00",
            "0001-01-01 00:00:00",
            "0001-01-01 07:59:59",
            "9999-12-31 23:59:59",
            "２０２６-１１-２０ １０:００:００",
            " 2026-11-20 10:00:00 ",
            "2026-11-20 10:00:00\x00",
            "2026-11-20 10:00:00.123",
        ]
    ),
    st.integers(0, 2_000_000_000_000),
    st.floats(),
    moments.map(lambda m: m.isoformat()),
    moments.map(lambda m: m.strftime("%d/%m/%Y %H:%M")),
    hostile_piece,
)
times = st.one_of(good_times, good_times, bad_times)

FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
good_mobiles = st.from_regex(r"\A1[3-9][0-9]{9}\Z")
mobiles = st.one_of(
    good_mobiles,
    good_mobiles.map(int),
    good_mobiles.map(lambda m: m[:3] + "*" * 8),
    good_mobiles.map(lambda m: m[:3] + "****" + m[-4:]),
    good_mobiles.map(lambda m: f" {m} "),
    good_mobiles.map(lambda m: f"+86 {m}"),
    good_mobiles.map(lambda m: f"{m[:3]}-{m[3:7]}-{m[7:]}"),
    good_mobiles.map(lambda m: m.translate(FULLWIDTH)),
    st.sampled_from(["", " ", "1381234", "00000000000", "135＊＊＊＊＊＊＊＊", "*"]),
    hostile_piece,
)

ids = st.one_of(
    st.integers(1, 10**19),
    st.integers(1, 10**19).map(str),
    st.sampled_from(["0", "-5", "1.5", "1e5", "１２３", "1_000", " 42 ", "x"]),
    st.floats(),
    st.text(max_size=8),
)
amounts = st.one_of(
    st.decimals(min_value=0, max_value=100_000, places=2).map(str),
    st.floats(min_value=0, max_value=100_000, allow_nan=False),
    st.integers(0, 100_000),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "sNaN", "-1.00", "1e999999", "12,50", ""]),
    st.floats(),
    st.text(max_size=8),
)
counts = st.one_of(
    st.integers(-5, 100), st.integers(1, 100).map(str), st.floats(), st.text(max_size=4)
)
short_text = st.one_of(st.text(max_size=20), hostile_piece, st.sampled_from(CHINESE))

# --- Kuaidi100 ------------------------------------------------------------------------------

kuaidi_states = st.one_of(
    st.sampled_from(["0", "1", "2", "3", "4", "5", "6", "14", 3, 0]),
    st.sampled_from(["", None, "9", "99", "-1", "3.0", "x", True, 3.5, float("inf"), float("nan")]),
    st.integers(),
    json_values,
)


@st.composite
def kuaidi_events(draw: st.DrawFn) -> dict[str, Any]:
    event: dict[str, Any] = {"time": draw(times), "context": draw(short_text)}
    if draw(st.booleans()):
        event["ftime"] = draw(times)
    for key, values in (
        ("status", short_text),
        ("areaCode", st.one_of(st.from_regex(r"\A[0-9]{12}\Z"), st.integers(0, 10**12))),
        ("areaName", short_text),
        ("statusCode", st.sampled_from(["301", "303", "1001", 301, 0, ""])),
    ):
        if draw(st.booleans()):
            event[key] = draw(values)
    return event


@st.composite
def kuaidi_answers(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "message": "ok",
        "nu": draw(st.text(max_size=20)),
        "ischeck": draw(st.sampled_from(["0", "1", 1, 0, True, None])),
        "condition": "F00",
        "com": draw(st.sampled_from(["yuantong", "zhongtong", "shunfeng"])),
        "status": "200",
        "state": draw(kuaidi_states),
        "data": draw(st.lists(mutated(kuaidi_events()), max_size=6)),
    }


kuaidi_failures = st.fixed_dictionaries(
    {
        "result": st.sampled_from([False, "false", 0, None]),
        "returnCode": st.one_of(
            st.sampled_from(["400", "408", "500", "501", "502", "503", "601", "999", 500, 400]),
            json_values,
        ),
        "message": st.one_of(
            st.sampled_from(["该单号查询过于频繁，已被锁定", "找不到对应公司", "查询无结果"]),
            json_values,
        ),
    }
)
kuaidi_bodies = st.one_of(mutated(kuaidi_answers()), mutated(kuaidi_failures), json_values)


@st.composite
def push_params(draw: st.DrawFn) -> str:
    body: dict[str, Any] = {
        "status": draw(st.sampled_from(["polling", "shutdown", "abort", "updateall"])),
        "message": draw(st.sampled_from(["", "3天查询无记录", "60天无变化"])),
        "autoCheck": draw(st.sampled_from(["0", "1", 1])),
        "comOld": draw(st.sampled_from(["", "yuantong", None])),
        "comNew": draw(st.sampled_from(["", "zhongtong", None])),
        "lastResult": draw(mutated(kuaidi_answers())),
    }
    body = draw(mutated(st.just(body)))
    return json.dumps(body, ensure_ascii=draw(st.booleans()))


push_texts = st.one_of(
    push_params(),
    json_values.map(json.dumps),
    hostile_text(max_repeat=20),
    st.integers(1, 200_000).map(lambda n: "[" * n),
    st.integers(1, 200_000).map(lambda n: '{"status":"polling","lastResult":' * n),
    st.just('{"status": "polling", "lastResult": {"data": [], "state": Infinity}}'),
)

# --- TOP ------------------------------------------------------------------------------------

TRADE_STATUSES = (
    "TRADE_NO_CREATE_PAY",
    "WAIT_BUYER_PAY",
    "SELLER_CONSIGNED_PART",
    "WAIT_SELLER_SEND_GOODS",
    "WAIT_BUYER_CONFIRM_GOODS",
    "TRADE_BUYER_SIGNED",
    "TRADE_FINISHED",
    "TRADE_CLOSED",
    "TRADE_CLOSED_BY_TAOBAO",
)


@st.composite
def trade_items(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "oid": draw(st.one_of(st.integers(1, 10**19), ids)),
        "title": draw(short_text),
        "num": draw(counts),
        "price": draw(amounts),
        "cid": draw(st.one_of(st.integers(1, 10**8), st.none(), json_values)),
        "logistics_company": draw(st.one_of(st.sampled_from(["圆通速递", "中通快递"]), short_text)),
        "invoice_no": draw(st.one_of(st.from_regex(r"\A[A-Z]{2}[0-9]{13}\Z"), short_text)),
    }


@st.composite
def trades(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "tid": draw(st.one_of(st.integers(1, 10**19), ids)),
        "status": draw(st.one_of(st.sampled_from(TRADE_STATUSES), short_text)),
        "type": draw(st.sampled_from(["fixed", "tmall_i18n", "step"])),
        "buyer_nick": draw(short_text),
        "created": draw(times),
        "modified": draw(times),
        "pay_time": draw(st.one_of(st.none(), times)),
        "consign_time": draw(st.one_of(st.none(), times)),
        "end_time": draw(st.one_of(st.none(), times)),
        "payment": draw(amounts),
        "receiver_name": draw(short_text),
        "receiver_mobile": draw(mobiles),
        "receiver_state": draw(st.one_of(st.sampled_from(["浙江省", "北京"]), short_text)),
        "receiver_city": draw(st.one_of(st.sampled_from(["杭州市", ""]), short_text)),
        "orders": draw(
            st.one_of(
                st.fixed_dictionaries({"order": st.lists(mutated(trade_items()), max_size=4)}),
                json_values,
            )
        ),
    }


trade_objects = st.one_of(mutated(trades()), json_values)


@st.composite
def trade_pages(draw: st.DrawFn) -> dict[str, Any]:
    inner: dict[str, Any] = {
        "trades": {"trade": draw(st.lists(trade_objects, max_size=4))},
        "total_results": draw(st.one_of(st.integers(0, 10_000), st.integers(0, 100).map(str))),
    }
    if draw(st.booleans()):
        inner["has_next"] = draw(st.sampled_from([True, False, "true", "false"]))
    return inner


@st.composite
def ratings(draw: st.DrawFn) -> dict[str, Any]:
    rating = {
        "tid": draw(st.one_of(st.integers(1, 10**19), ids)),
        "oid": draw(st.one_of(st.integers(1, 10**19), ids)),
        "role": "buyer",
        "nick": draw(short_text),
        "result": draw(st.one_of(st.sampled_from(["good", "neutral", "bad"]), short_text)),
        "created": draw(times),
        "rated_nick": "丝施品牌店",
        "item_title": draw(short_text),
        "item_price": draw(amounts),
        "content": draw(short_text),
        "reply": draw(st.one_of(st.none(), short_text)),
        "valid_score": draw(st.booleans()),
    }
    if draw(st.booleans()):
        rating["append_content"] = draw(short_text)
        rating["append_created"] = draw(times)
    return rating


rating_objects = st.one_of(mutated(ratings()), json_values)


@st.composite
def rating_pages(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "trade_rates": {"trade_rate": draw(st.lists(rating_objects, max_size=4))},
        "total_results": draw(st.one_of(st.integers(0, 10_000), st.integers(0, 100).map(str))),
    }


def page_shapes(pages: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[Any]:
    return st.one_of(
        mutated(pages), st.dictionaries(st.text(max_size=12), json_values), json_values
    )


top_errors = st.fixed_dictionaries(
    {
        "code": st.one_of(
            st.sampled_from([7, 9, 15, 25, 27, 41, "7", "15", 7.0, "x", None, True]),
            st.integers(),
            st.floats(),
            json_values,
        ),
        "msg": st.one_of(
            st.sampled_from(["App Call Limited", "Remote service error"]), json_values
        ),
        "sub_code": st.one_of(
            st.sampled_from(["isp.top-remote-connection-timeout", "isv.trade-not-exist", ""]),
            json_values,
        ),
        "sub_msg": st.one_of(
            st.sampled_from(
                [
                    "This ban will last for 12 more seconds",
                    "This ban will last for 99999999999999999999 more seconds",
                    "This ban will last for " + "9" * 400 + " more seconds",
                    "This ban will last for ١٢ more seconds",
                ]
            ),
            json_values,
        ),
        "request_id": st.one_of(st.text(max_size=20), json_values),
    }
)

# --- checks ---------------------------------------------------------------------------------


def is_utc(moment: object) -> bool:
    return (
        isinstance(moment, datetime)
        and moment.tzinfo is not None
        and moment.utcoffset() == timedelta(0)
    )


def is_text(value: object) -> bool:
    """A str that can be stored and logged (UTF-8 encodable: no lone surrogates)."""
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def is_opt_text(value: object) -> bool:
    return value is None or (is_text(value) and value != "")


def is_amount(value: object) -> bool:
    return isinstance(value, Decimal) and value.is_finite() and value >= 0


ID = re.compile(r"\A[1-9][0-9]*\Z")
FORBIDDEN = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def has_control(text: str) -> bool:
    return any(unicodedata.category(ch) in FORBIDDEN for ch in text)


def finite_or_none(value: float | None) -> bool:
    return value is None or (math.isfinite(value) and value >= 0)
