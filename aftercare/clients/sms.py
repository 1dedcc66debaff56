"""Alibaba Cloud SMS (SendSms RPC API): template sends and send-detail look-ups."""

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

from aftercare.clients import fields
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


def _auth_fix(code: str) -> str:
    """Say what to correct for a refused SMS call."""
    if code.startswith("InvalidAccessKeyId"):
        return "AFTERCARE_SMS_ACCESS_KEY_ID"
    if code.startswith("Forbidden"):
        return "the access key's SMS permissions (RAM policy) on the provider's console"
    return "AFTERCARE_SMS_ACCESS_KEY_SECRET"


_RECIPIENT = ("isv.MOBILE_NUMBER_ILLEGAL", "isv.MOBILE_COUNT_OVER_LIMIT", "isv.BLACK_KEY_CONTROL")


def error_from_answer(body: dict[str, Any], status: int) -> ProviderError:
    """Map a non-OK answer to the typed error it stands for."""
    code = str(body.get("Code") or "")
    details: dict[str, Any] = {
        "provider": PROVIDER,
        "status": status,
        "code": code,
        "request_id": fields.lenient_text(body.get("RequestId")),
    }
    message = str(body.get("Message") or code or "unknown error")
    if code.startswith(_THROTTLED):
        return RateLimited(message, **details)  # refused before sending: safe to repeat
    if code.startswith("isp.") or code in ("ServiceUnavailable", "InternalError"):
        return ProviderUnavailable(message, maybe_processed=True, **details)
    if code.startswith(_AUTH) or code == "SignatureNonceUsed":
        return AuthenticationError(message, fix=_auth_fix(code), **details)
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
            core=HttpCore(
                PROVIDER,
                retry=settings.retry,
                proxy=settings.http_proxy,
                per_second=settings.sms_sends_per_second,
                limiter=limiter,
            ),
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
            decode=lambda r: parse_send_answer(json_body(r, PROVIDER, "sms"), r.status_code),
            idempotent=False,
            what=f"sms send {template_code}",
        )

    def find_sent(self, *, phone: str, day: date, out_id: str) -> SentSms | None:
        """Look up whether a message with this out_id went to the phone on that (China) day."""
        return self.sent_on(phone=phone, day=day).get(out_id)

    def sent_on(self, *, phone: str, day: date) -> dict[str, SentSms]:
        """Return every message sent to the phone on that (China) day, by out_id."""
        sent: dict[str, SentSms] = {}
        page = 1
        while True:
            listed, total = self.core.call(
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
                decode=lambda r: parse_send_details(json_body(r, PROVIDER, "sms"), r.status_code),
                idempotent=True,
                what="sms query send details",
            )
            sent.update((item.out_id, item) for item in listed)
            if page * 50 >= total or not listed:
                return sent
            page += 1


def ok_answer(body: Any, status: int) -> dict[str, Any]:
    """Return a decoded answer whose Code is OK, or raise the typed error it stands for."""
    if not isinstance(body, dict):
        raise MalformedResponse("answer is not an object", provider=PROVIDER, status=status)
    if body.get("Code") != "OK":
        raise error_from_answer(body, status)
    return body


def parse_send_answer(body: Any, status: int) -> str:
    """Return a SendSms answer's BizId ("" if unreadable: the provider took the message)."""
    return fields.lenient_text(ok_answer(body, status).get("BizId")) or ""


def parse_send_details(body: Any, status: int) -> tuple[list[SentSms], int]:
    """Read one QuerySendDetails page: the messages it lists (with an OutId), and the total."""
    answer = ok_answer(body, status)
    try:
        total = fields.count(answer.get("TotalCount") or 0)
        listing = answer.get("SmsSendDetailDTOs") or {}
        if not isinstance(listing, dict):
            raise TypeError("SmsSendDetailDTOs is not an object")
        details = listing.get("SmsSendDetailDTO") or []
        if not isinstance(details, list):
            raise TypeError("SmsSendDetailDTO is not a list")
    except (TypeError, ValueError) as error:
        # Unreadable: never take it for "not sent", which would send the message again.
        raise MalformedResponse(
            f"unreadable send details: {error}", provider=PROVIDER, status=status
        ) from None
    return [
        SentSms(
            out_id=item["OutId"],
            biz_id=fields.lenient_text(item.get("BizId")),
            template_code=fields.lenient_text(item.get("TemplateCode")) or "",
            status=_send_status(item.get("SendStatus")),
        )
        for item in details
        if isinstance(item, dict) and isinstance(item.get("OutId"), str) and item["OutId"]
    ], total


def _send_status(value: Any) -> int:
    """1 waiting for receipt, 2 failed, 3 delivered; anything unreadable counts as waiting."""
    try:
        status = fields.integer(value)
    except ValueError:
        return 1
    return status if status in (1, 2, 3) else 1
