"""Plain API clients for couriers, shops and SMS; they never import Prefect."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from aftercare.clients.kuaidi100 import Kuaidi100Client
from aftercare.clients.robot import RobotClient
from aftercare.clients.sms import SmsClient
from aftercare.clients.taobao import TaobaoClient
from aftercare.settings import Settings

C = TypeVar("C")
_clients: dict[tuple[type, int], tuple[Settings, object]] = {}
_lock = threading.Lock()


def _shared(kind: type[C], settings: Settings, build: Callable[[Settings], C]) -> C:
    # One client per settings object, so all threads share its connection pool and rate limit.
    # The settings are kept alongside so their id cannot be reused by another object.
    with _lock:
        key = (kind, id(settings))
        if key not in _clients:
            _clients[key] = (settings, build(settings))
        return _clients[key][1]  # type: ignore[return-value]


def kuaidi100(settings: Settings) -> Kuaidi100Client:
    """Return the process-wide Kuaidi100 client for these settings."""
    return _shared(Kuaidi100Client, settings, Kuaidi100Client.from_settings)


def taobao(settings: Settings) -> TaobaoClient:
    """Return the process-wide TOP client for these settings."""
    return _shared(TaobaoClient, settings, TaobaoClient.from_settings)


def sms(settings: Settings) -> SmsClient:
    """Return the process-wide SMS client for these settings."""
    return _shared(SmsClient, settings, SmsClient.from_settings)


def robot(settings: Settings) -> RobotClient:
    """Return the process-wide staff robot client for these settings."""
    return _shared(RobotClient, settings, RobotClient.from_settings)
