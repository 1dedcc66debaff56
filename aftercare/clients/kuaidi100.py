"""Kuaidi100 courier tracking: real-time query, subscription, push verification."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aftercare import bounded_json
from aftercare.clients import fields
from aftercare.clients.errors import (
    AuthenticationError,
    MalformedResponse,
    ProviderError,
    ProviderUnavailable,
    RateLimited,
    RequestRejected,
)
from aftercare.clients.http import HttpAnswer, HttpCore, Limiter, json_body
from aftercare.settings import Settings

PROVIDER = "kuaidi100"
# Couriers that only answer when given the receiver's or sender's phone (or its last 4 digits).
PHONE_REQUIRED = frozenset({"shunfeng", "zhongtong"})


class WaybillLocked(RequestRejected):
    """The waybill was queried too often and is locked for a while (one query per 30 min)."""


class PhoneCheckFailed(RequestRejected):
    """The courier requires a phone number matching the parcel and ours did not."""


@dataclass(frozen=True, slots=True)
class TrackingEventRecord:
    """One courier scan."""

    occurred_at: datetime
    context: str
    status_text: str
    area_code: str | None
    area_name: str | None
    status_code: str | None


@dataclass(frozen=True, slots=True)
class TrackingResult:
    """What the courier knows of one waybill; no events and no state means no scans yet."""

    courier: str
    waybill: str
    state: int | None
    signed: bool
    events: tuple[TrackingEventRecord, ...]  # oldest first


@dataclass(frozen=True, slots=True)
class PushNotice:
    """A subscription push: the polling status and the latest tracking result."""

    status: str  # polling | shutdown | abort | updateall
    message: str
    auto_check: bool
    courier_old: str | None
    courier_new: str | None
    result: TrackingResult | None


def sign_query(param: str, key: str, customer: str) -> str:
    """Sign a real-time query: MD5(param + key + customer), 32 upper-case hex."""
    return hashlib.md5((param + key + customer).encode("utf-8")).hexdigest().upper()


def verify_push(param: str, sign: str, salt: str) -> bool:
    """Check a push's sign = MD5(param + salt) in constant time, ignoring hex case."""
    try:
        expected = hashlib.md5((param + salt).encode("utf-8")).hexdigest().upper()
    except UnicodeEncodeError:  # a lone surrogate: no sender could have signed that text
        return False
    given = sign.strip().upper()
    return given.isascii() and hmac.compare_digest(expected.encode(), given.encode())


# returnCode -> (error class, is the code a per-waybill problem). Codes from the provider's docs.
_QUERY_ERRORS: dict[str, type[ProviderError]] = {
    "400": RequestRejected,
    "408": PhoneCheckFailed,
    "501": ProviderUnavailable,
    "502": RateLimited,  # "server busy": the provider's own try-later
    "503": AuthenticationError,  # signature verification failed
    "601": AuthenticationError,  # key expired or no quota left
}
KEY_FIX = "AFTERCARE_KUAIDI100_KEY and AFTERCARE_KUAIDI100_CUSTOMER"


def _refused(code: str, text: str) -> ProviderError:
    """Build the typed error for a refusal; a refused key says which settings to check."""
    error = _QUERY_ERRORS.get(code, RequestRejected)
    if error is AuthenticationError:
        return AuthenticationError(text, provider=PROVIDER, code=code, fix=KEY_FIX)
    return error(text, provider=PROVIDER, code=code)


# The lock answer has no code of its own (unconfirmed); it is told apart by its wording.
_LOCK_WORDS = ("锁定", "频繁")


def parse_autonumber(body: Any) -> list[str]:
    """Read a number-recognition answer: the courier codes it suggests, likeliest first."""
    if isinstance(body, dict):  # a refusal: {"result": false, "returnCode": "600", ...}
        code = str(body.get("returnCode", ""))
        message = fields.optional_text(body.get("message")) or "no message"
        raise _refused(code, f"number recognition refused: {message}")
    if not isinstance(body, list):
        raise MalformedResponse("number recognition answer is not a list", provider=PROVIDER)
    codes: list[str] = []
    for item in body:
        found = item.get("comCode") if isinstance(item, dict) else None
        if isinstance(found, str) and found.strip() and found.strip() not in codes:
            codes.append(found.strip())
    return codes


def parse_query_response(body: Any, courier: str, waybill: str) -> TrackingResult:
    """Turn a decoded query answer into a TrackingResult, or raise the matching typed error."""
    if not isinstance(body, dict):
        raise MalformedResponse("query answer is not an object", provider=PROVIDER)
    if body.get("result") is False or ("returnCode" in body and "data" not in body):
        code = str(body.get("returnCode", ""))
        message = str(body.get("message", ""))
        if code == "500":  # "no result, query later": no scans yet, not a failure
            return TrackingResult(courier, waybill, None, False, ())
        if code == "400" and any(word in message for word in _LOCK_WORDS):
            raise WaybillLocked(f"waybill locked: {message}", provider=PROVIDER, code=code)
        raise _refused(code, f"query refused: {message or 'no message'}")
    return _parse_result(body, courier, waybill)


def _parse_result(body: dict[str, Any], courier: str, waybill: str) -> TrackingResult:
    try:
        raw_events = body["data"]
        if not isinstance(raw_events, list):
            raise TypeError("data is not a list")
        events = [_parse_event(item) for item in raw_events]
        state_text = body.get("state")
        state = fields.integer(state_text) if state_text not in (None, "") else None
        # An undocumented state (resultv2 sub-states, new codes) is read by the rules, not
        # refused here; only a negative one is no state at all.
        if state is not None and state < 0:
            raise ValueError(f"negative state {state}")
        signed = str(body.get("ischeck", "0")) == "1"
    except (KeyError, TypeError, ValueError) as error:
        raise MalformedResponse(
            f"unreadable tracking answer: {error}", provider=PROVIDER, body=_excerpt(body)
        ) from None
    events.sort(key=lambda e: e.occurred_at)
    return TrackingResult(courier, waybill, state, signed, tuple(events))


def _parse_event(item: Any) -> TrackingEventRecord:
    if not isinstance(item, dict):
        raise TypeError("event is not an object")
    context = item["context"]
    if not isinstance(context, str):
        raise TypeError("context is not text")
    return TrackingEventRecord(
        occurred_at=fields.china_time(item.get("ftime") or item["time"]),
        context=fields.text(context),
        status_text=fields.optional_text(item.get("status")) or "",
        area_code=fields.optional_text(item.get("areaCode")),
        area_name=fields.optional_text(item.get("areaName")),
        status_code=fields.optional_text(item.get("statusCode") or None),
    )


def _excerpt(body: Any) -> str:
    try:
        return json.dumps(body)[:300]
    except (TypeError, ValueError, RecursionError):
        return ""


def parse_push(param: str) -> PushNotice:
    """Parse a verified push's param JSON."""
    try:
        body = bounded_json.loads(param)
        if not isinstance(body, dict):
            raise TypeError("push is not an object")
        last = body.get("lastResult")
        result = (
            _parse_result(
                last,
                fields.optional_text(last.get("com")) or "",
                fields.optional_text(last.get("nu")) or "",
            )
            if isinstance(last, dict) and "data" in last
            else None
        )
        status = fields.optional_text(body["status"])
        if status is None:
            raise ValueError("no status")
        return PushNotice(
            status=status,
            message=fields.optional_text(body.get("message")) or "",
            auto_check=str(body.get("autoCheck", "0")) == "1",
            courier_old=fields.optional_text(body.get("comOld")),
            courier_new=fields.optional_text(body.get("comNew")),
            result=result,
        )
    except (ValueError, KeyError, TypeError, RecursionError) as error:
        # RecursionError: JSON nested deeper than the decoder can follow.
        raise MalformedResponse(
            f"unreadable push: {type(error).__name__} {error}", provider=PROVIDER
        ) from None


def parse_subscribe_answer(body: Any) -> bool:
    """Read a subscription answer: True subscribed, False already subscribed (501), or raise."""
    if not isinstance(body, dict):
        raise MalformedResponse("subscription answer is not an object", provider=PROVIDER)
    code = str(body.get("returnCode", ""))
    if code == "200":
        return True
    if code == "501":
        return False
    message = str(body.get("message", ""))
    if code in ("600", "601"):
        raise AuthenticationError(message, provider=PROVIDER, code=code, fix=KEY_FIX)
    if code == "500":
        raise ProviderUnavailable(message, provider=PROVIDER, code=code)
    raise RequestRejected(f"subscription refused: {message}", provider=PROVIDER, code=code)


class Kuaidi100Client:
    """Query and subscribe waybills with one Kuaidi100 account."""

    def __init__(self, *, base_url: str, customer: str, key: str, core: HttpCore) -> None:
        self.base_url = base_url.rstrip("/")
        self.customer = customer
        self._key = key
        self.core = core

    @classmethod
    def from_settings(cls, settings: Settings, limiter: Limiter | None = None) -> Kuaidi100Client:
        """Build the client the settings describe."""
        core = HttpCore(
            PROVIDER,
            retry=settings.retry,
            proxy=settings.http_proxy,
            per_second=settings.kuaidi100_queries_per_second,
            limiter=limiter,
        )
        return cls(
            base_url=settings.kuaidi100_url,
            customer=settings.kuaidi100_customer,
            key=settings.kuaidi100_key.get_secret_value(),
            core=core,
        )

    def query(
        self,
        courier: str,
        waybill: str,
        *,
        phone: str | None = None,
        origin: str | None = None,
        destination: str | None = None,
    ) -> TrackingResult:
        """Ask the courier for the waybill's full tracking history."""
        param = json.dumps(
            {
                "com": courier,
                "num": waybill,
                "phone": phone or "",
                "from": origin or "",
                "to": destination or "",
                "resultv2": "4",  # area names and the detailed status codes (303 proxy-signed...)
                "show": "0",
                "order": "desc",
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )

        def form() -> dict[str, str]:
            sign = sign_query(param, self._key, self.customer)
            return {"customer": self.customer, "param": param, "sign": sign}

        return self.core.call(
            f"{self.base_url}/poll/query.do",
            form=form,
            decode=lambda r: parse_query_response(
                json_body(r, PROVIDER, "query"), courier, waybill
            ),
            idempotent=True,
            what=f"kuaidi100 query {courier} {waybill}",
        )

    def detect_courier(self, waybill: str) -> list[str]:
        """Ask Kuaidi100 which couriers a waybill belongs to (free number recognition)."""
        return self.core.call(
            f"{self.base_url}/autonumber/auto",
            form=lambda: {"num": waybill, "key": self._key},
            method="GET",
            decode=lambda r: parse_autonumber(json_body(r, PROVIDER, "autonumber")),
            idempotent=True,
            what=f"kuaidi100 number recognition {waybill}",
        )

    def subscribe(
        self,
        courier: str,
        waybill: str,
        *,
        callback_url: str,
        salt: str,
        phone: str | None = None,
        destination: str | None = None,
    ) -> bool:
        """Subscribe pushes for a waybill; False when it was already subscribed (code 501)."""
        param = json.dumps(
            {
                "company": courier,
                "number": waybill,
                "to": destination or "",
                "key": self._key,
                "parameters": {
                    "callbackurl": callback_url,
                    "salt": salt,
                    "resultv2": "4",
                    "autoCom": "0",
                    "phone": phone or "",
                },
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )

        def decode(response: HttpAnswer) -> bool:
            return parse_subscribe_answer(json_body(response, PROVIDER, "subscribe"))

        return self.core.call(
            f"{self.base_url}/poll",
            form=lambda: {"schema": "json", "param": param},
            decode=decode,
            idempotent=True,  # a repeated subscription is answered 501 and changes nothing
            what=f"kuaidi100 subscribe {courier} {waybill}",
        )
