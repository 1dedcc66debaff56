"""Alibaba Cloud SMS (SendSms RPC API): template sends and send-detail look-ups (DOMAIN.md §5)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

import requests

from aftercare.clients.errors import (
    AuthenticationError,
    MalformedResponse,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    RequestRejected,
)
from aftercare.clients.http import HttpCore, Limiter, json_body
from aftercare.clock import utcnow
from aftercare.settings import Settings

PROVIDER = "sms"
API_VERSION = "2017-05-25"


class InvalidRecipient(RequestRejected):
    """The provider refuses the phone number (isv.MOBILE_NUMBER_ILLEGAL and the like)."""


@dataclass(frozen=True, slots=True)
class SentSms:
    """A message the provider has on record for a phone and day."""

    out_id: str
    biz_id: str | None
    template_code: str
    status: int  # 1 waiting for receipt, 2 failed, 3 delivered


def percent_encode(value: str) -> str:
    """Encode per RFC 3986 as the RPC signature requires (space %20, * %2A, ~ kept)."""
    return quote(value, safe="~")


def sign_rpc(params: dict[str, str], secret: str, http_method: str = "POST") -> str:
    """Sign RPC params: HMAC-SHA1(secret + '&', method&%2F&encoded(canonical query)), base64."""
    canonical = "&".join(
        f"{percent_encode(k)}={percent_encode(params[k])}"
        for k in sorted(params)
        if k != "Signature"
    )
    to_sign = f"{http_method}&{percent_encode('/')}&{percent_encode(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


_THROTTLED = ("isv.BUSINESS_LIMIT_CONTROL", "Throttling", "isv.DAY_LIMIT_CONTROL")
_AUTH = ("SignatureDoesNotMatch", "InvalidAccessKeyId", "IncompleteSignature", "Forbidden")
_RECIPIENT = ("isv.MOBILE_NUMBER_ILLEGAL", "isv.MOBILE_COUNT_OVER_LIMIT", "isv.BLACK_KEY_CONTROL")


def error_from_answer(body: dict[str, Any], status: int) -> ProviderError:
    """Map a non-OK answer to the typed error it stands for."""
    code = str(body.get("Code") or "")
    details: dict[str, Any] = {
        "provider": PROVIDER,
        "status": status,
        "code": code,
        "request_id": body.get("RequestId"),
    }
    message = str(body.get("Message") or code or "unknown error")
    if code.startswith(_THROTTLED):
        return RateLimited(message, **details)  # refused before sending: safe to repeat
    if code.startswith("isp.") or code in ("ServiceUnavailable", "InternalError"):
        return ProviderUnavailable(message, maybe_processed=True, **details)
    if code.startswith(_AUTH) or code == "SignatureNonceUsed":
        return AuthenticationError(message, **details)
    if code.startswith(_RECIPIENT):
        return InvalidRecipient(message, **details)
    return RequestRejected(message, **details)


class SmsClient:
    """Send template SMS through one Alibaba Cloud account."""

    def __init__(
        self,
        *,
        endpoint: str,
        access_key_id: str,
        access_key_secret: str,
        region: str,
        core: HttpCore,
        wall_clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.endpoint = endpoint
        self.access_key_id = access_key_id
        self._secret = access_key_secret
        self.region = region
        self.core = core
        self.wall_clock = wall_clock

    @classmethod
    def from_settings(cls, settings: Settings, limiter: Limiter | None = None) -> SmsClient:
        """Build the client the settings describe."""
        return cls(
            endpoint=settings.sms_url,
            access_key_id=settings.sms_access_key_id,
            access_key_secret=settings.sms_access_key_secret.get_secret_value(),
            region=settings.sms_region,
            core=HttpCore(PROVIDER, retry=settings.retry, limiter=limiter),
        )

    def _form(self, action: str, params: dict[str, str]) -> Callable[[], dict[str, str]]:
        def form() -> dict[str, str]:
            signed = {
                **params,
                "Action": action,
                "Version": API_VERSION,
                "Format": "JSON",
                "AccessKeyId": self.access_key_id,
                "SignatureMethod": "HMAC-SHA1",
                "SignatureVersion": "1.0",
                "SignatureNonce": uuid.uuid4().hex,  # fresh per attempt: the API refuses reuse
                "Timestamp": self.wall_clock().strftime("%Y-%m-%dT%H:%M:%SZ"),
                "RegionId": self.region,
            }
            signed["Signature"] = sign_rpc(signed, self._secret)
            return signed

        return form

    def send(
        self,
        *,
        phone: str,
        sign_name: str,
        template_code: str,
        params: dict[str, str],
        out_id: str,
    ) -> str:
        """Send one template SMS and return the provider's BizId.

        Not idempotent at the provider: a failure after the request may have been processed
        is raised, not retried, so the caller can look it up by out_id before sending again.
        """
        return self.core.call(
            self.endpoint,
            form=self._form(
                "SendSms",
                {
                    "PhoneNumbers": phone,
                    "SignName": sign_name,
                    "TemplateCode": template_code,
                    "TemplateParam": json.dumps(params, ensure_ascii=False),
                    "OutId": out_id,
                },
            ),
            decode=lambda r: str(_ok_answer(r).get("BizId") or ""),
            idempotent=False,
            what=f"sms send {template_code}",
        )

    def find_sent(self, *, phone: str, day: date, out_id: str) -> SentSms | None:
        """Look up whether a message with this out_id went to the phone on that (China) day."""
        page = 1
        while True:
            body = self.core.call(
                self.endpoint,
                form=self._form(
                    "QuerySendDetails",
                    {
                        "PhoneNumber": phone,
                        "SendDate": day.strftime("%Y%m%d"),
                        "PageSize": "50",
                        "CurrentPage": str(page),
                    },
                ),
                decode=_ok_answer,
                idempotent=True,
                what="sms query send details",
            )
            details = (body.get("SmsSendDetailDTOs") or {}).get("SmsSendDetailDTO") or []
            for item in details:
                if isinstance(item, dict) and item.get("OutId") == out_id:
                    return SentSms(
                        out_id=out_id,
                        biz_id=item.get("BizId"),
                        template_code=str(item.get("TemplateCode") or ""),
                        status=int(item.get("SendStatus") or 1),
                    )
            if page * 50 >= int(body.get("TotalCount") or 0):
                return None
            page += 1


def _ok_answer(response: requests.Response) -> dict[str, Any]:
    body = json_body(response, PROVIDER, "sms")
    if not isinstance(body, dict):
        raise MalformedResponse("answer is not an object", provider=PROVIDER)
    if body.get("Code") != "OK":
        raise error_from_answer(body, response.status_code)
    return body
