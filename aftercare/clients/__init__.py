"""Plain API clients for couriers, shops and SMS; they never import Prefect."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from aftercare.clients.http import Limiter
from aftercare.clients.kuaidi100 import Kuaidi100Client
from aftercare.clients.pinduoduo import PinduoduoClient
from aftercare.clients.robot import RobotClient
from aftercare.clients.sms import SmsClient
from aftercare.clients.taobao import TaobaoClient
from aftercare.settings import Settings

C = TypeVar("C")
_clients: dict[tuple[type, int, int], tuple[Settings, Limiter | None, object]] = {}
_lock = threading.Lock()


def _shared(
    kind: type[C],
    settings: Settings,
    build: Callable[[Settings, Limiter | None], C],
    limiter: Limiter | None,
) -> C:
    # One client per settings object (and limiter), so all threads share its connection pool
    # and rate limit. Both are kept alongside so their ids cannot be reused by other objects.
    with _lock:
        key = (kind, id(settings), id(limiter))
        if key not in _clients:
            _clients[key] = (settings, limiter, build(settings, limiter))
        return _clients[key][2]  # type: ignore[return-value]


def kuaidi100(settings: Settings, limiter: Limiter | None = None) -> Kuaidi100Client:
    """Return the process-wide Kuaidi100 client for these settings."""
    return _shared(Kuaidi100Client, settings, Kuaidi100Client.from_settings, limiter)


def taobao(settings: Settings, limiter: Limiter | None = None) -> TaobaoClient:
    """Return the process-wide TOP client for these settings."""
    return _shared(TaobaoClient, settings, TaobaoClient.from_settings, limiter)


def pinduoduo(settings: Settings, limiter: Limiter | None = None) -> PinduoduoClient:
    """Return the process-wide Pinduoduo client for these settings."""
    return _shared(PinduoduoClient, settings, PinduoduoClient.from_settings, limiter)


def sms(settings: Settings, limiter: Limiter | None = None) -> SmsClient:
    """Return the process-wide SMS client for these settings."""
    return _shared(SmsClient, settings, SmsClient.from_settings, limiter)


def robot(settings: Settings) -> RobotClient:
    """Return the process-wide staff robot client for these settings."""
    return _shared(RobotClient, settings, lambda s, _: RobotClient.from_settings(s), None)
