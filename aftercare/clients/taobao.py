"""Taobao Open Platform (TOP) shop client: signed gateway calls and trade sync."""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Any, Protocol, TypeVar

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
from aftercare.clients.listing import readable
from aftercare.clients.taobao_ratings import RATE_FIELDS, RatingPage, parse_rating_page
from aftercare.clients.taobao_refunds import (
    REFUND_FIELDS,
    RefundPage,
    RefundRecord,
    parse_refund,
    parse_refund_page,
)
from aftercare.clients.taobao_tmc import MessageBatch, parse_batch
from aftercare.clock import format_china_time, utcnow
from aftercare.settings import Settings

PROVIDER = "taobao"
# OAIDs per taobao.top.oaid.decrypt call, as the platform allows.
MAX_DECRYPT = 20
TRADE_FIELDS = (
    "tid,status,type,buyer_nick,buyer_open_uid,created,modified,pay_time,consign_time,end_time,payment,"
    "total_fee,receiver_name,receiver_mobile,receiver_state,receiver_city,oaid,orders"
)
# Platform codes that mean "your credentials or signature", never worth repeating.
_AUTH_CODES = frozenset({10, 11, 24, 25, 26, 27, 28, 29, 30, 31})
# What to correct for each refusal, by TOP's platform error code.
_AUTH_FIXES = {
    11: "the app's API permissions and IP whitelist on the open platform",
    24: "AFTERCARE_TAOBAO_APP_SECRET and AFTERCARE_TAOBAO_SIGN_METHOD",
    25: "AFTERCARE_TAOBAO_APP_SECRET and AFTERCARE_TAOBAO_SIGN_METHOD",
    26: "the shop's session key in AFTERCARE_TAOBAO_SESSIONS",
    27: "the shop's session key in AFTERCARE_TAOBAO_SESSIONS (expired or revoked: authorise again)",
    28: "AFTERCARE_TAOBAO_APP_KEY",
    29: "AFTERCARE_TAOBAO_APP_KEY",
    30: "this machine's clock (TOP allows 10 minutes of skew)",
    31: "this machine's clock (TOP allows 10 minutes of skew)",
}
_BAN_SECONDS = re.compile(r"([0-9]+)\s*more seconds")
# A ban is never longer than a day; a larger figure is a misreading, not a reason to sleep forever.
_MAX_BAN_SECONDS = 86_400.0
# Characters the platform (or a shop's own export) uses to hide the digits of a phone number.
PHONE_MASKS = ("*", "＊")


class TradeNotFound(RequestRejected):
    """The platform does not know this trade."""


@dataclass(frozen=True, slots=True)
class TradeItemRecord:
    """One sub-order (商品) of a trade, with its shipping details once consigned."""

    oid: str
    title: str
    quantity: int
    price: Decimal
    category_id: str | None
    logistics_company: str | None
    waybill: str | None


@dataclass(frozen=True, slots=True)
class TradeRecord:
    """A trade as the platform reports it; phone_masked means the number cannot be texted."""

    tid: str
    status: str
    trade_type: str
    buyer_nick: str
    created: datetime
    modified: datetime
    pay_time: datetime | None
    consign_time: datetime | None
    end_time: datetime | None
    payment: Decimal
    receiver_name: str
    receiver_mobile: str | None
    phone_masked: bool
    province: str | None
    city: str | None
    items: tuple[TradeItemRecord, ...]
    # Who the buyer is: the nick is blurred and shared by many (display only).
    buyer_open_uid: str | None = None
    # The receiver's OAID: the platform texts the buyer by it without showing us the number.
    oaid: str | None = None
    # The platform's own status where `status` is translated into Taobao's words (Pinduoduo).
    raw_status: str | None = None


@dataclass(frozen=True, slots=True)
class TradePage:
    """One page of trades; total_results is known only when use_has_next was off."""

    trades: tuple[TradeRecord, ...]
    total_results: int | None
    has_next: bool | None
    rejected: tuple[tuple[str, str], ...] = ()  # (tid, reason) of trades we could not read


def sign_request(params: dict[str, str], secret: str, method: str) -> str:
    """Sign TOP params: sort by name, concatenate k1v1k2v2, MD5(secret+s+secret) or HMAC-MD5."""
    joined = "".join(f"{k}{params[k]}" for k in sorted(params) if k != "sign")
    if method == "hmac":
        digest = hmac.new(secret.encode(), joined.encode(), hashlib.md5).hexdigest()
    else:
        digest = hashlib.md5((secret + joined + secret).encode()).hexdigest()
    return digest.upper()


def error_from_response(body: dict[str, Any]) -> ProviderError:
    """Map a TOP error_response to the typed error it stands for (an unreadable code is 0)."""
    try:
        code = fields.integer(body.get("code") or 0)
    except ValueError:
        code = 0
    sub_code = fields.lenient_text(body.get("sub_code")) or ""
    message = " / ".join(str(p) for p in (body.get("msg"), body.get("sub_msg")) if p)
    details: dict[str, Any] = {
        "provider": PROVIDER,
        "code": f"{code}:{sub_code}" if sub_code else str(code),
        "request_id": fields.lenient_text(body.get("request_id")),
    }
    if code == 7:  # App Call Limited: the ban's length is only given in words
        match = _BAN_SECONDS.search(str(body.get("sub_msg") or ""))
        retry_after = min(float(match[1]), _MAX_BAN_SECONDS) if match else None
        return RateLimited(message, retry_after=retry_after, **details)
    if code == 9 or (code == 15 and sub_code.startswith("isp.")):
        return ProviderUnavailable(message, **details)
    if code in _AUTH_CODES:
        return AuthenticationError(message, fix=_AUTH_FIXES.get(code, ""), **details)
    if sub_code == "isv.trade-not-exist":
        return TradeNotFound(message, **details)
    return RequestRejected(message, **details)


def parse_trade(raw: Any) -> TradeRecord:
    """Turn one trade object into a TradeRecord, or raise MalformedResponse."""
    try:
        if not isinstance(raw, dict):
            raise TypeError("trade is not an object")
        orders = raw.get("orders") or {}
        if not isinstance(orders, dict):
            raise TypeError("orders is not an object")
        order_list = orders.get("order") or []
        if not isinstance(order_list, list):
            raise TypeError("orders.order is not a list")
        items = tuple(_parse_item(o) for o in order_list)
        mobile = fields.optional_text(raw.get("receiver_mobile"))
        status = fields.optional_text(raw["status"])
        if status is None:
            raise ValueError("no status")
        return TradeRecord(
            tid=fields.identifier(raw["tid"]),
            status=status,
            trade_type=fields.optional_text(raw.get("type")) or "fixed",
            buyer_nick=fields.text(raw["buyer_nick"]),
            buyer_open_uid=fields.optional_text(raw.get("buyer_open_uid")),
            oaid=(fields.lenient_text(raw.get("oaid")) or "")[:64] or None,
            created=fields.china_time(raw["created"]),
            modified=fields.china_time(raw["modified"]),
            pay_time=fields.optional_china_time(raw.get("pay_time")),
            consign_time=fields.optional_china_time(raw.get("consign_time")),
            end_time=fields.optional_china_time(raw.get("end_time")),
            payment=fields.amount(raw.get("payment")),
            receiver_name=fields.optional_text(raw.get("receiver_name")) or "",
            receiver_mobile=mobile,
            phone_masked=mobile is None or any(mask in mobile for mask in PHONE_MASKS),
            province=fields.optional_text(raw.get("receiver_state")),
            city=fields.optional_text(raw.get("receiver_city")),
            items=items,
        )
    except (KeyError, TypeError, ValueError) as error:
        tid = _key(raw, "tid")
        raise MalformedResponse(
            f"unreadable trade {tid}: {type(error).__name__} {error}", provider=PROVIDER
        ) from None


def _parse_item(raw: Any) -> TradeItemRecord:
    if not isinstance(raw, dict):
        raise TypeError("order is not an object")
    num = raw.get("num")
    quantity = 1 if num is None or num == "" else fields.count(num)
    if quantity < 1:
        raise ValueError(f"quantity {quantity}")
    return TradeItemRecord(
        oid=fields.identifier(raw["oid"]),
        title=fields.optional_text(raw.get("title")) or "",
        quantity=quantity,
        price=fields.amount(raw.get("price")),
        category_id=fields.optional_text(raw.get("cid")),
        logistics_company=fields.optional_text(raw.get("logistics_company")),
        waybill=fields.optional_text(raw.get("invoice_no")),
    )


def _key(raw: Any, name: str) -> str:
    """A record's key for error messages and rejects: short text, '?' when unreadable."""
    value = raw.get(name) if isinstance(raw, dict) else None
    return (fields.lenient_text(value) or "?")[:64]


def parse_trade_page(inner: Any) -> TradePage:
    """Parse a trades.sold.increment.get answer; one unreadable trade does not cost the page."""
    if not isinstance(inner, dict):
        raise MalformedResponse("trades answer is not an object", provider=PROVIDER)
    listing = inner.get("trades") or {}
    if not isinstance(listing, dict):
        raise MalformedResponse("trades is not an object", provider=PROVIDER)
    raw_trades = listing.get("trade") or []
    if not isinstance(raw_trades, list):
        raise MalformedResponse("trades.trade is not a list", provider=PROVIDER)
    try:
        total = inner.get("total_results")
        total_results = fields.count(total) if total is not None else None
        has_next = fields.flag(inner.get("has_next"))
    except (TypeError, ValueError) as error:
        raise MalformedResponse(f"unreadable trades page: {error}", provider=PROVIDER) from None
    trades, rejected = readable(raw_trades, parse_trade, "tid")
    return TradePage(
        trades=tuple(trades),
        total_results=total_results,
        has_next=has_next,
        rejected=tuple(rejected),
    )


def unwrap_answer(body: Any, method: str) -> dict[str, Any]:
    """Return the body inside a gateway answer's `<method>_response`, or raise its typed error."""
    wrapper = method.removeprefix("taobao.").replace(".", "_") + "_response"
    if not isinstance(body, dict):
        raise MalformedResponse(f"{method}: answer is not an object", provider=PROVIDER)
    if isinstance(body.get("error_response"), dict):
        raise error_from_response(body["error_response"])
    inner = body.get(wrapper)
    if not isinstance(inner, dict):
        raise MalformedResponse(f"{method}: no {wrapper}", provider=PROVIDER)
    return inner


class TaobaoClient:
    """Call the TOP gateway for one app; each call carries the shop's session key."""

    def __init__(
        self,
        *,
        gateway_url: str,
        app_key: str,
        app_secret: str,
        sign_method: str,
        core: HttpCore,
        wall_clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.gateway_url = gateway_url
        self.app_key = app_key
        self._secret = app_secret
        self.sign_method = sign_method
        self.core = core
        self.wall_clock = wall_clock

    @classmethod
    def from_settings(cls, settings: Settings, limiter: Limiter | None = None) -> TaobaoClient:
        """Build the client the settings describe."""
        return cls(
            gateway_url=settings.taobao_url,
            app_key=settings.taobao_app_key,
            app_secret=settings.taobao_app_secret.get_secret_value(),
            sign_method=settings.taobao_sign_method,
            core=HttpCore(
                PROVIDER,
                retry=settings.retry,
                proxy=settings.http_proxy,
                per_second=settings.taobao_calls_per_second,
                limiter=limiter,
            ),
        )

    def call(
        self, method: str, session: str, params: dict[str, str], *, idempotent: bool = True
    ) -> dict[str, Any]:
        """Call one API method and return the body inside its `<method>_response` wrapper."""

        def form() -> dict[str, str]:
            signed = {
                **params,
                "method": method,
                "app_key": self.app_key,
                # The app's own calls (the message channel) carry no seller session.
                **({"session": session} if session else {}),
                "timestamp": format_china_time(self.wall_clock()),
                "format": "json",
                "v": "2.0",
                "sign_method": self.sign_method,
            }
            signed["sign"] = sign_request(signed, self._secret, self.sign_method)
            return signed

        def decode(response: HttpAnswer) -> dict[str, Any]:
            return unwrap_answer(json_body(response, PROVIDER, method), method)

        return self.core.call(
            self.gateway_url,
            form=form,
            decode=decode,
            idempotent=idempotent,
            what=f"taobao {method}",
        )

    def trades_page(
        self,
        session: str,
        start: datetime,
        end: datetime,
        *,
        page_no: int,
        page_size: int,
        use_has_next: bool = False,
    ) -> TradePage:
        """Fetch one page of trades modified within [start, end] (window at most one day)."""
        inner = self.call(
            "taobao.trades.sold.increment.get",
            session,
            {
                "start_modified": format_china_time(start),
                "end_modified": format_china_time(end),
                "page_no": str(page_no),
                "page_size": str(page_size),
                "use_has_next": "true" if use_has_next else "false",
                "fields": TRADE_FIELDS,
            },
        )
        return parse_trade_page(inner)

    def iter_modified_trades(
        self, session: str, start: datetime, end: datetime, *, page_size: int
    ) -> Iterator[TradePage]:
        """Yield every trade modified in the window, one page at a time, last page first.

        Trades modified while we page leave the window and shift later trades to earlier pages,
        so paging from the last page down never skips one (the platform's own advice). That needs
        the total count, which TOP only gives with use_has_next off.
        """
        yield from pages_backwards(
            lambda page_no: self.trades_page(
                session, start, end, page_no=page_no, page_size=page_size
            ),
            page_size,
        )

    def ratings_page(
        self,
        session: str,
        start: datetime,
        end: datetime,
        *,
        page_no: int,
        page_size: int,
        result: str | None = None,
        tid: str | None = None,
    ) -> RatingPage:
        """Fetch one page of the ratings buyers gave the shop, created within [start, end]."""
        params = {
            "rate_type": "get",
            "role": "buyer",
            "start_date": format_china_time(start),
            "end_date": format_china_time(end),
            "page_no": str(page_no),
            "page_size": str(page_size),
            "use_has_next": "false",
            "fields": RATE_FIELDS,
        }
        if result:
            params["result"] = result
        if tid:
            params["tid"] = tid
        return parse_rating_page(self.call("taobao.traderates.get", session, params))

    def iter_ratings(
        self,
        session: str,
        start: datetime,
        end: datetime,
        *,
        page_size: int,
        result: str | None = None,
        tid: str | None = None,
    ) -> Iterator[RatingPage]:
        """Yield every rating created in the window, one page at a time, last page first."""
        yield from pages_backwards(
            lambda page_no: self.ratings_page(
                session, start, end, page_no=page_no, page_size=page_size, result=result, tid=tid
            ),
            page_size,
        )

    def explain(self, session: str, oid: str, reply: str) -> None:
        """Post the shop's public explanation of a rating (taobao.traderate.explain.add)."""
        inner = self.call("taobao.traderate.explain.add", session, {"oid": oid, "reply": reply})
        if inner.get("is_success") is not True:
            raise MalformedResponse("explanation not confirmed", provider=PROVIDER)

    def send_sms_by_oaid(
        self,
        session: str,
        *,
        oaid: str,
        order_id: str,
        sign_name: str,
        template_code: str,
        params: dict[str, str],
        out_id: str,
    ) -> str:
        """Text a buyer by OAID through the platform (taobao.jst.sms.oaid.message.send).

        Not idempotent, and the platform offers no lookup: a failure after the request may
        have been processed is raised, never retried here.
        """
        request = {
            "oaid": oaid,
            "order_id": order_id,
            "sms_free_sign_name": sign_name,
            "template_code": template_code,
            "params": json.dumps(params, ensure_ascii=False),
            "extend": out_id,
        }
        inner = self.call(
            "taobao.jst.sms.oaid.message.send",
            session,
            {"param_send_message_by_o_a_i_d_request": json.dumps(request, ensure_ascii=False)},
            idempotent=False,
        )
        return (
            fields.lenient_text(inner.get("req_id"))
            or fields.lenient_text(inner.get("request_id"))
            or "oaid"
        )

    def decrypt_oaids(
        self, session: str, queries: list[tuple[str, str]], scene: str
    ) -> dict[str, str | None]:
        """The mobile behind each (oaid, tid), at most 20 (taobao.top.oaid.decrypt).

        None where the platform did not match the OAID or answered a virtual number with an
        extension (it takes calls, not texts). The numbers live only in what this returns.
        """
        if not 1 <= len(queries) <= MAX_DECRYPT:
            raise ValueError(f"decrypt 1-{MAX_DECRYPT} OAIDs per call, not {len(queries)}")
        query_list = [{"oaid": oaid, "tid": tid, "scene": scene} for oaid, tid in queries]
        inner = self.call(
            "taobao.top.oaid.decrypt", session, {"query_list": json.dumps(query_list)}
        )
        listing = inner.get("receiver_list") or {}
        if isinstance(listing, dict):
            listing = listing.get("receiver") or []
        if not isinstance(listing, list):
            raise MalformedResponse("receiver_list is not a list", provider=PROVIDER)
        found: dict[str, str | None] = {oaid: None for oaid, _ in queries}
        for receiver in listing:
            if not isinstance(receiver, dict) or receiver.get("oaid") not in found:
                continue
            mobile = fields.lenient_text(receiver.get("mobile")) or ""
            if receiver.get("matched") is not False and mobile.isdigit():
                found[str(receiver["oaid"])] = mobile
        return found

    def refunds_page(
        self, session: str, start: datetime, end: datetime, *, page_no: int, page_size: int
    ) -> RefundPage:
        """One page of the refunds buyers asked of the shop, modified within [start, end]."""
        params = {
            "start_modified": format_china_time(start),
            "end_modified": format_china_time(end),
            "page_no": str(page_no),
            "page_size": str(page_size),
            "use_has_next": "false",
            "fields": REFUND_FIELDS,
        }
        return parse_refund_page(self.call("taobao.refunds.receive.get", session, params))

    def iter_refunds(
        self, session: str, start: datetime, end: datetime, *, page_size: int
    ) -> Iterator[RefundPage]:
        """Every refund modified in the window, last page first (none skipped as they move)."""
        yield from pages_backwards(
            partial(self._refunds_at, session, start, end, page_size), page_size
        )

    def _refunds_at(
        self, session: str, start: datetime, end: datetime, page_size: int, page_no: int
    ) -> RefundPage:
        return self.refunds_page(session, start, end, page_no=page_no, page_size=page_size)

    def refund(self, session: str, refund_id: str) -> RefundRecord:
        """One refund, read live (taobao.refund.get): before acting on it."""
        inner = self.call(
            "taobao.refund.get", session, {"refund_id": refund_id, "fields": REFUND_FIELDS}
        )
        return parse_refund(inner.get("refund"))

    def add_refund_message(self, session: str, refund_id: str, content: str) -> str:
        """A message on the buyer's refund, shown to them there (taobao.refund.message.add).

        Not idempotent and without a lookup: a failure after the request may have been
        processed is raised, never retried here.
        """
        inner = self.call(
            "taobao.refund.message.add",
            session,
            {"refund_id": refund_id, "content": content},
            idempotent=False,
        )
        message = inner.get("refund_message")
        found = message.get("id") if isinstance(message, dict) else None
        return fields.lenient_text(found) or refund_id

    def permit_messages(self, session: str) -> None:
        """Start the seller's messages on the app's channel (taobao.tmc.user.permit)."""
        inner = self.call("taobao.tmc.user.permit", session, {})
        if inner.get("is_success") is not True:
            raise MalformedResponse("message permit not confirmed", provider=PROVIDER)

    def consume_messages(self, quantity: int, group: str = "default") -> MessageBatch:
        """Take up to `quantity` (10-200) unconfirmed messages (taobao.tmc.messages.consume)."""
        inner = self.call(
            "taobao.tmc.messages.consume", "", {"quantity": str(quantity), "group_name": group}
        )
        return parse_batch(inner)

    def confirm_messages(self, ids: list[str], group: str = "default") -> None:
        """Take handled messages off the queue, at most 200 at a time (tmc.messages.confirm)."""
        for start in range(0, len(ids), 200):
            chunk = ",".join(ids[start : start + 200])
            inner = self.call(
                "taobao.tmc.messages.confirm", "", {"s_message_ids": chunk, "group_name": group}
            )
            if inner.get("is_success") is not True:
                raise MalformedResponse("confirmation not acknowledged", provider=PROVIDER)

    def trade(self, session: str, tid: str) -> TradeRecord:
        """Fetch one trade live (taobao.trade.fullinfo.get), e.g. to re-check before messaging."""
        inner = self.call(
            "taobao.trade.fullinfo.get", session, {"tid": tid, "fields": TRADE_FIELDS}
        )
        return parse_trade(inner.get("trade"))


class _Page(Protocol):
    @property
    def total_results(self) -> int | None: ...


P = TypeVar("P", bound=_Page)


def pages_backwards(fetch: Callable[[int], P], page_size: int) -> Iterator[P]:
    """Yield all pages of a listing, last page first (see iter_modified_trades)."""
    first = fetch(1)
    pages = math.ceil((first.total_results or 0) / page_size)
    if pages <= 1:
        yield first
        return
    for page_no in range(pages, 0, -1):
        yield fetch(page_no)
