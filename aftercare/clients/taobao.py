"""Taobao Open Platform (TOP) shop client: signed gateway calls and trade sync (DOMAIN.md §4)."""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol, TypeVar

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
from aftercare.clients.taobao_ratings import RATE_FIELDS, RatingPage, parse_rating_page
from aftercare.clock import format_china_time, parse_china_time, utcnow
from aftercare.settings import Settings

PROVIDER = "taobao"
TRADE_FIELDS = (
    "tid,status,type,buyer_nick,created,modified,pay_time,consign_time,end_time,payment,"
    "total_fee,receiver_name,receiver_mobile,receiver_state,receiver_city,orders"
)
# Platform codes that mean "your credentials or signature", never worth repeating.
_AUTH_CODES = frozenset({10, 11, 24, 25, 26, 27, 28, 29, 30, 31})
_BAN_SECONDS = re.compile(r"(\d+)\s*more seconds")


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
    """Map a TOP error_response to the typed error it stands for."""
    code = int(body.get("code", 0) or 0)
    sub_code = str(body.get("sub_code") or "")
    message = " / ".join(str(p) for p in (body.get("msg"), body.get("sub_msg")) if p)
    details: dict[str, Any] = {
        "provider": PROVIDER,
        "code": f"{code}:{sub_code}" if sub_code else str(code),
        "request_id": body.get("request_id"),
    }
    if code == 7:  # App Call Limited: the ban's length is only given in words
        match = _BAN_SECONDS.search(str(body.get("sub_msg") or ""))
        return RateLimited(message, retry_after=float(match[1]) if match else None, **details)
    if code == 9 or (code == 15 and sub_code.startswith("isp.")):
        return ProviderUnavailable(message, **details)
    if code in _AUTH_CODES:
        return AuthenticationError(message, **details)
    if sub_code == "isv.trade-not-exist":
        return TradeNotFound(message, **details)
    return RequestRejected(message, **details)


def parse_trade(raw: Any) -> TradeRecord:
    """Turn one trade object into a TradeRecord, or raise MalformedResponse."""
    try:
        orders = raw.get("orders") or {}
        items = tuple(_parse_item(o) for o in (orders.get("order") or []))
        mobile = str(raw.get("receiver_mobile") or "").strip() or None
        return TradeRecord(
            tid=str(int(raw["tid"])),
            status=str(raw["status"]),
            trade_type=str(raw.get("type") or "fixed"),
            buyer_nick=str(raw["buyer_nick"]),
            created=parse_china_time(raw["created"]),
            modified=parse_china_time(raw["modified"]),
            pay_time=_optional_time(raw.get("pay_time")),
            consign_time=_optional_time(raw.get("consign_time")),
            end_time=_optional_time(raw.get("end_time")),
            payment=Decimal(str(raw.get("payment") or "0")),
            receiver_name=str(raw.get("receiver_name") or ""),
            receiver_mobile=mobile,
            phone_masked=mobile is None or "*" in mobile,
            province=raw.get("receiver_state") or None,
            city=raw.get("receiver_city") or None,
            items=items,
        )
    except (KeyError, TypeError, ValueError, AttributeError, InvalidOperation) as error:
        tid = raw.get("tid") if isinstance(raw, dict) else None
        raise MalformedResponse(
            f"unreadable trade {tid}: {type(error).__name__} {error}", provider=PROVIDER
        ) from None


def _parse_item(raw: dict[str, Any]) -> TradeItemRecord:
    return TradeItemRecord(
        oid=str(int(raw["oid"])),
        title=str(raw.get("title") or ""),
        quantity=int(raw.get("num") or 1),
        price=Decimal(str(raw.get("price") or "0")),
        category_id=str(raw["cid"]) if raw.get("cid") is not None else None,
        logistics_company=raw.get("logistics_company") or None,
        waybill=str(raw["invoice_no"]).strip() if raw.get("invoice_no") else None,
    )


def _optional_time(value: Any) -> datetime | None:
    return parse_china_time(value) if value else None


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
            core=HttpCore(PROVIDER, retry=settings.retry, limiter=limiter),
        )

    def call(self, method: str, session: str, params: dict[str, str]) -> dict[str, Any]:
        """Call one API method and return the body inside its `<method>_response` wrapper."""
        wrapper = method.removeprefix("taobao.").replace(".", "_") + "_response"

        def form() -> dict[str, str]:
            signed = {
                **params,
                "method": method,
                "app_key": self.app_key,
                "session": session,
                "timestamp": format_china_time(self.wall_clock()),
                "format": "json",
                "v": "2.0",
                "sign_method": self.sign_method,
            }
            signed["sign"] = sign_request(signed, self._secret, self.sign_method)
            return signed

        def decode(response: requests.Response) -> dict[str, Any]:
            body = json_body(response, PROVIDER, method)
            if not isinstance(body, dict):
                raise MalformedResponse(f"{method}: answer is not an object", provider=PROVIDER)
            if isinstance(body.get("error_response"), dict):
                raise error_from_response(body["error_response"])
            inner = body.get(wrapper)
            if not isinstance(inner, dict):
                raise MalformedResponse(f"{method}: no {wrapper}", provider=PROVIDER)
            return inner

        return self.core.call(
            self.gateway_url, form=form, decode=decode, idempotent=True, what=f"taobao {method}"
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
        raw_trades = (inner.get("trades") or {}).get("trade") or []
        if not isinstance(raw_trades, list):
            raise MalformedResponse("trades.trade is not a list", provider=PROVIDER)
        trades, rejected = [], []
        for raw in raw_trades:
            try:
                trades.append(parse_trade(raw))
            except MalformedResponse as error:  # one bad trade must not cost the whole page
                tid = str(raw.get("tid", "?")) if isinstance(raw, dict) else "?"
                rejected.append((tid, error.message))
        total = inner.get("total_results")
        return TradePage(
            trades=tuple(trades),
            total_results=int(total) if total is not None else None,
            has_next=inner.get("has_next"),
            rejected=tuple(rejected),
        )

    def iter_modified_trades(
        self, session: str, start: datetime, end: datetime, *, page_size: int
    ) -> Iterator[TradePage]:
        """Yield every trade modified in the window, one page at a time, last page first.

        Trades modified while we page leave the window and shift later trades to earlier pages,
        so paging from the last page down never skips one (the platform's own advice). That needs
        the total count, which TOP only gives with use_has_next off.
        """
        yield from _backwards(
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
        yield from _backwards(
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


def _backwards(fetch: Callable[[int], P], page_size: int) -> Iterator[P]:
    """Yield all pages of a listing, last page first (see iter_modified_trades)."""
    first = fetch(1)
    pages = math.ceil((first.total_results or 0) / page_size)
    if pages <= 1:
        yield first
        return
    for page_no in range(pages, 0, -1):
        yield fetch(page_no)
