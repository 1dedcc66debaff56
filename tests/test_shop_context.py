"""One shop's context: its zone, windows, merged overrides and session key, built once."""

from datetime import time
from zoneinfo import ZoneInfo

import pytest

from aftercare.settings import Settings
from aftercare.shop_context import ShopNotAuthorised, shop_context


def test_a_shop_context_merges_the_shop_overrides_and_uses_its_own_zone():
    settings = Settings(
        taobao_sessions={"a": "secret-a"},
        reviews={"shops": {"a": {"message_buyer": False}}},
        reminders={"shops": {"a": {"automatic_after_minutes": 45}}},
    )
    shop = shop_context(settings, "a", "Asia/Tokyo")
    assert shop.zone == ZoneInfo("Asia/Tokyo") and shop.working_hours.zone == shop.zone
    assert shop.reviews.message_buyer is False and shop.reminders.automatic_after_minutes == 45
    assert shop.service_window.end == time(22) and shop.marketing_window.end == time(21)
    assert shop.session_key() == "secret-a"
    assert "secret-a" not in repr(shop)
    other = shop_context(settings, "b")
    assert other.zone == ZoneInfo(settings.timezone) and other.reviews.message_buyer is True


def test_a_missing_session_key_names_the_setting_to_fix():
    with pytest.raises(ShopNotAuthorised, match="AFTERCARE_TAOBAO_SESSIONS"):
        shop_context(Settings(taobao_sessions={}), "b").session_key()
