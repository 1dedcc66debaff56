"""Pinduoduo's after-sales read in Taobao's words, by a table the shop can correct."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from aftercare.clients.errors import MalformedResponse
from aftercare.clients.pinduoduo_refunds import expire_time, parse_after_sale
from aftercare.rules.refunds import PINDUODUO_STATUSES
from aftercare.settings import Settings


def after_sale(**changes: object) -> dict[str, object]:
    raw: dict[str, object] = {
        "id": 5001, "order_sn": "261120-42", "after_sales_status": 2, "after_sales_type": 2,
        "after_sale_reason": "不想要了", "refund_amount": "59.90", "goods_name": "苹果 10斤",
        "created_time": "2026-11-20 10:00:00", "updated_time": "2026-11-20 10:05:07",
    }  # fmt: skip
    raw.update(changes)
    return raw


def test_a_refund_waiting_on_the_seller_reads_in_taobao_words_with_its_own_kept():
    record = parse_after_sale(after_sale(), PINDUODUO_STATUSES)
    assert (record.refund_id, record.tid, record.status) == (
        "5001",
        "261120-42",
        "WAIT_SELLER_AGREE",
    )
    assert record.raw_status == "after_sales_status=2;after_sales_type=2"
    assert record.refund_fee == Decimal("59.90") and not record.has_good_return
    # No refund version on this platform: the update time (Beijing) in milliseconds.
    assert record.version == int(datetime(2026, 11, 20, 2, 5, 7, tzinfo=UTC).timestamp()) * 1000


def test_a_return_on_its_way_back_is_waiting_for_the_receipt():
    asked = parse_after_sale(
        after_sale(after_sales_status=3, after_sales_type=3), PINDUODUO_STATUSES
    )
    assert asked.status == "WAIT_SELLER_AGREE" and asked.has_good_return
    sent = parse_after_sale(
        after_sale(after_sales_status=3, after_sales_type=3, tracking_number=" RT77 "),
        PINDUODUO_STATUSES,
    )
    assert sent.status == "WAIT_SELLER_CONFIRM_GOODS"
    assert (sent.return_waybill, sent.good_status) == ("RT77", "BUYER_RETURNED_GOODS")


def test_a_code_nobody_read_is_refused_naming_the_setting_never_guessed():
    with pytest.raises(MalformedResponse) as raised:
        parse_after_sale(after_sale(after_sales_status=19), PINDUODUO_STATUSES)
    assert "after_sales_status 19" in str(raised.value)
    assert "AFTERCARE_REFUNDS__PINDUODUO_STATUSES" in str(raised.value)


def test_the_shop_corrects_one_code_and_keeps_the_rest(monkeypatch):
    monkeypatch.setenv("AFTERCARE_REFUNDS__PINDUODUO_STATUSES", '{"8": "WAIT_SELLER_AGREE"}')
    reading = Settings().refunds.pinduoduo_reading()
    assert reading["8"] == "WAIT_SELLER_AGREE" and reading["10"] == "SUCCESS"
    record = parse_after_sale(after_sale(after_sales_status=8), reading)
    assert record.status == "WAIT_SELLER_AGREE"
    monkeypatch.setenv("AFTERCARE_REFUNDS__PINDUODUO_STATUSES", '{"8": "WAITING"}')
    with pytest.raises(ValueError, match="pinduoduo_statuses"):
        Settings()


@pytest.mark.parametrize(
    "raw", [{"id": 1}, after_sale(order_sn=""), after_sale(updated_time="soon"), "refund"]
)
def test_an_unreadable_after_sale_is_refused_with_its_reason(raw):
    with pytest.raises(MalformedResponse, match="unreadable after-sale"):
        parse_after_sale(raw, PINDUODUO_STATUSES)


def test_the_deadline_is_the_platform_s_own_and_only_while_the_seller_must_act():
    assert expire_time({"expire_time": 1795000000}) == datetime.fromtimestamp(1795000000, UTC)
    assert expire_time({"expire_time": None}) is None
    with pytest.raises(MalformedResponse):
        expire_time({"expire_time": "tomorrow"})


def test_margins_must_be_hours_to_warn_at():
    with pytest.raises(ValueError):
        Settings(refunds={"alert_margin_hours": []})
    with pytest.raises(ValueError):
        Settings(refunds={"alert_margin_hours": [12, 0]})
