"""Outside text shown to staff: one line, bounded, literal in markdown and robot alerts."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aftercare.display import ELLIPSIS, markdown_text, one_line, robot_text
from tests.properties.strategies import has_control, hostile_text

HOSTILE = "|<script>alert(1)</script>{{7*7}}\n# 标题 {% if %} $var {0} [链接](http://x.cn) 𠀋👍🏽"
# After escaping, a markdown renderer sees no markup: every ASCII punctuation is escaped.
UNESCAPED = re.compile(r"(?<!\\)(?:\\\\)*[!\"#$%&'()*+,\-./:;<=>?@\[\]^_`{|}~]")


def unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def test_one_line_folds_breaks_and_controls_and_bounds_the_text():
    assert one_line("a\r\nb\u2028c\x00d\u202ee\tf", 100) == "a b c d e f"
    assert one_line("长" * 100_000, 10) == "长" * 9 + ELLIPSIS
    assert one_line("𠀋👍🏽", 10) == "𠀋👍🏽", "non-BMP characters and emoji are kept whole"


def test_markdown_text_is_literal_when_rendered():
    shown = markdown_text(HOSTILE)
    assert "\n" not in shown and "<script>" not in shown and "|<" not in shown
    assert not UNESCAPED.search(shown)
    assert unescape(shown) == one_line(HOSTILE, 200), "renders as exactly the buyer's words"
    assert "\\{\\{7\\*7\\}\\}" in shown and "𠀋👍🏽" in shown


@pytest.mark.parametrize(
    "raw", ["| a | b |", "<img src=x onerror=alert(1)>", "www.example.com", "a@b.cn", "&lt;"]
)
def test_markdown_text_leaves_no_table_cell_html_link_or_entity(raw):
    shown = markdown_text(raw)
    assert not UNESCAPED.search(shown)
    assert unescape(shown) == raw


def test_robot_text_makes_markup_inert_for_dingtalk():
    shown = robot_text(HOSTILE, 200)
    assert not set("<>[]()|#*`\n") & set(shown)
    assert "＜script＞" in shown and "{{7＊7}}" in shown and "𠀋👍🏽" in shown


@settings(max_examples=200, deadline=None)
@given(text=hostile_text(), limit=st.integers(1, 300))
def test_escaping_never_raises_and_stays_on_one_bounded_line(text, limit):
    for shown in (one_line(text, limit), robot_text(text, limit)):
        assert len(shown) <= limit and not has_control(shown) and "\n" not in shown
    escaped = markdown_text(text, limit)
    assert not UNESCAPED.search(escaped) and not has_control(escaped)
    assert unescape(escaped) == one_line(text, limit)


def test_the_daily_report_table_keeps_its_columns_whatever_the_courier_is_called():
    from aftercare.report_view import detail_lines

    figures = {
        "anomalies": [("stalled", "火星|快递\n# 标题<script>x</script>", 2)],
        "notices_sent": 1,
        "reminders_sent": 0,
        "paid_after_reminder": 0,
        "recovered_amount": 0,
        "reviews_opened": 0,
        "reviews_closed": {},
        "care_sent": {},
        "held_back": {"invalid mobile number": 1},
        "failed": {"provider said: <b>isv.MOBILE_NUMBER_ILLEGAL</b>\n- fake": 1},
        "parcels_with_check_errors": 0,
        "rejected_records": {"taobao.trade": 1},
    }
    text = "\n".join(detail_lines(figures))
    row = next(line for line in text.splitlines() if line.startswith("| 物流停滞"))
    assert len(re.findall(r"(?<!\\)\|", row)) == 4, "three cells, the courier's pipe escaped"
    assert "<script>" not in text and "<b>" not in text and "\n# 标题" not in text
    assert "\n- fake" not in text
