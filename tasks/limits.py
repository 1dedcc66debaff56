"""Provider rate limits shared by every worker, as Prefect global concurrency limits."""

from __future__ import annotations

import math

from prefect.concurrency.sync import rate_limit

from aftercare import clients
from aftercare.clients.http import Limiter
from aftercare.clients.kuaidi100 import Kuaidi100Client
from aftercare.clients.platform import PINDUODUO, ShopPlatform
from aftercare.clients.sms import SmsClient
from aftercare.clients.taobao import TaobaoClient
from aftercare.settings import Settings

# One limit per provider account; the set-up creates them (deployments/setup.py).
LIMIT_NAMES = {
    "kuaidi100": "aftercare-kuaidi100-query",
    "taobao": "aftercare-taobao-call",
    "sms": "aftercare-sms-send",
    "pinduoduo": "aftercare-pinduoduo-call",
}


class PrefectRateLimit:
    """Take one slot of a global rate limit per call; strict, so a missing limit is an error."""

    def __init__(self, name: str) -> None:
        self.name = name

    def acquire(self) -> None:
        """Wait for a slot of the provider account's limit."""
        rate_limit(self.name, occupy=1, strict=True)


_limits: dict[str, PrefectRateLimit] = {}


def limit_for(settings: Settings, provider: str) -> Limiter | None:
    """Return the shared limit of a provider, when the settings ask for Prefect's limits."""
    if not settings.prefect_rate_limits:
        return None
    return _limits.setdefault(provider, PrefectRateLimit(LIMIT_NAMES[provider]))


def limit_specs(settings: Settings) -> dict[str, tuple[int, float]]:
    """Return each limit's (slots, slots freed per second), from the per-second settings."""
    rates = {
        "kuaidi100": settings.kuaidi100_queries_per_second,
        "taobao": settings.taobao_calls_per_second,
        "sms": settings.sms_sends_per_second,
        "pinduoduo": settings.pinduoduo_calls_per_second,
    }
    return {LIMIT_NAMES[p]: (max(1, math.ceil(rate)), rate) for p, rate in rates.items()}


def kuaidi100(settings: Settings) -> Kuaidi100Client:
    """The Kuaidi100 client, paced by the shared limit when there is one."""
    return clients.kuaidi100(settings, limit_for(settings, "kuaidi100"))


def taobao(settings: Settings) -> TaobaoClient:
    """The TOP client, paced by the shared limit when there is one."""
    return clients.taobao(settings, limit_for(settings, "taobao"))


def platform(settings: Settings, name: str) -> ShopPlatform:
    """The client of a shop's platform, paced by its shared limit when there is one."""
    if name == PINDUODUO:
        return clients.pinduoduo(settings, limit_for(settings, "pinduoduo"))
    return taobao(settings)


def sms(settings: Settings) -> SmsClient:
    """The SMS client, paced by the shared limit when there is one."""
    return clients.sms(settings, limit_for(settings, "sms"))
