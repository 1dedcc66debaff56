"""Staff alerts through a DingTalk-style group robot webhook (HMAC-SHA256 signed)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote_plus

from aftercare.clients import fields
from aftercare.clients.errors import (
    AuthenticationError,
    MalformedResponse,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    RequestRejected,
)
from aftercare.clients.http import HttpAnswer, HttpCore, json_body
from aftercare.settings import Settings

PROVIDER = "robot"
_AUTH = {300001, 310000}
_THROTTLED = {130101}


def sign_robot(timestamp_ms: int, secret: str) -> str:
    """Sign a robot call: base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}")), URL-encoded."""
    digest = hmac.new(
        secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256
    ).digest()
    return quote_plus(base64.b64encode(digest).decode())


def error_from_answer(body: dict[str, Any]) -> ProviderError:
    """Map a robot errcode to the typed error it stands for."""
    message = str(body.get("errmsg") or "robot error")
    try:
        code = fields.integer(body.get("errcode", -1))
    except ValueError:
        return MalformedResponse(f"unreadable errcode: {message}", provider=PROVIDER)
    if code in _AUTH:
        fix = "AFTERCARE_ROBOT_ACCESS_TOKEN" if code == 300001 else "AFTERCARE_ROBOT_SECRET"
        return AuthenticationError(message, provider=PROVIDER, code=str(code), fix=fix)
    if code in _THROTTLED:
        return RateLimited(message, provider=PROVIDER, code=str(code), retry_after=60.0)
    if code == -1:
        return ProviderUnavailable(message, provider=PROVIDER, code=str(code))
    return RequestRejected(message, provider=PROVIDER, code=str(code))


def check_answer(answer: Any) -> None:
    """Return if the robot took the message (errcode 0), else raise the typed error."""
    if not isinstance(answer, dict):
        raise MalformedResponse("robot answer is not an object", provider=PROVIDER)
    try:
        accepted = fields.integer(answer.get("errcode", -1)) == 0
    except ValueError:
        accepted = False
    if not accepted:
        raise error_from_answer(answer)


class RobotClient:
    """Post markdown alerts to one staff group."""

    def __init__(
        self,
        *,
        url: str,
        access_token: str,
        secret: str,
        core: HttpCore,
        wall_clock_ms: Callable[[], int] = lambda: int(time.time() * 1000),
    ) -> None:
        self.url = url
        self._token = access_token
        self._secret = secret
        self.core = core
        self.wall_clock_ms = wall_clock_ms

    @classmethod
    def from_settings(cls, settings: Settings) -> RobotClient:
        """Build the client the settings describe."""
        return cls(
            url=settings.robot_url,
            access_token=settings.robot_access_token.get_secret_value(),
            secret=settings.robot_secret.get_secret_value(),
            core=HttpCore(PROVIDER, retry=settings.retry, proxy=settings.http_proxy),
        )

    def post(self, title: str, markdown: str) -> None:
        """Post one markdown message to the group."""
        payload = json.dumps(
            {"msgtype": "markdown", "markdown": {"title": title, "text": markdown}},
            ensure_ascii=False,
        ).encode()

        def signed_url() -> str:
            stamp = self.wall_clock_ms()
            return (
                f"{self.url}?access_token={self._token}&timestamp={stamp}"
                f"&sign={sign_robot(stamp, self._secret)}"
            )

        def decode(response: HttpAnswer) -> None:
            check_answer(json_body(response, PROVIDER, "robot"))

        # A repeated alert only bothers the staff group twice; losing one is worse.
        self.core.call(
            signed_url, json_payload=payload, decode=decode, idempotent=True, what="robot alert"
        )
