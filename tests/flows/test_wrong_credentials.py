"""Wrong credentials fail at once, never retried, and the failure names the setting to fix."""

from __future__ import annotations

import pytest

from aftercare.settings import get_settings
from flows.dispatch_messages import dispatch_messages
from flows.logistics_check import logistics_check
from tests.conftest import ANCHOR
from tests.flows.test_dispatch_promises import queue

pytestmark = [
    pytest.mark.usefixtures("prefect_server"),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


def test_a_wrong_top_secret_fails_once_per_shop_and_names_the_setting(
    settings, sandbox, monkeypatch
):
    monkeypatch.setenv("AFTERCARE_TAOBAO_APP_SECRET", "not-the-secret")
    get_settings.cache_clear()
    before = sandbox.stats.requests["taobao"]

    state = logistics_check(as_of=ANCHOR, return_state=True)

    assert state.is_failed()
    assert "AFTERCARE_TAOBAO_APP_SECRET" in str(state.message)
    assert "not-the-secret" not in str(state.message)
    # One refused call per shop: neither the HTTP policy nor the task retried a refusal.
    assert sandbox.stats.requests["taobao"] - before == 3


def test_a_wrong_sms_key_names_its_setting(settings, sandbox, monkeypatch):
    queue(settings.database_url, 1)
    monkeypatch.setenv("AFTERCARE_SMS_ACCESS_KEY_ID", "NOSUCHKEY")
    get_settings.cache_clear()
    state = dispatch_messages(as_of=ANCHOR, return_state=True)
    assert state.is_failed() and "AFTERCARE_SMS_ACCESS_KEY_ID" in str(state.message)
    assert not sandbox.sms_sent
