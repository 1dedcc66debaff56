"""Pinduoduo's open platform (POP): orders read the way the Taobao client reads trades.

Statuses are translated into Taobao's words (the pipelines' vocabulary); the platform's own
pair (`order_status`, `refund_status`) is kept as `raw_status`. Pinduoduo lists paid orders
only, shows no buyer id (the buyer is known by a pseudonym of the receiver's number, else by
the order) and no reviews through its API.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

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
from aftercare.clients.pinduoduo_refunds import expire_time, order_sn, parse_after_sale, yuan
from aftercare.clients.taobao import (
    PHONE_MASKS,
    TradeItemRecord,
    TradeNotFound,
    TradePage,
    TradeRecord,
    pages_backwards,
)
from aftercare.clients.taobao_refunds import RefundPage, RefundRecord
from aftercare.clock import utcnow
from aftercare.rules.refunds import PINDUODUO_STATUSES, SELLER_TURN
from aftercare.settings import Settings

PROVIDER = "pinduoduo"
PLATFORM = "pinduoduo"
# The increment API covers at most 30 minutes per call.
MAX_WINDOW = timedelta(minutes=30)
ORDER_STATUS = {1: "WAIT_SELLER_SEND_GOODS", 2: "WAIT_BUYER_CONFIRM_GOODS", 3: "TRADE_FINISHED"}
REFUNDED = 4  # refund_status: the order's money went back to the buyer
# Pinduoduo shows no buyer nick: what the team sees instead (never an identity).
BUYER_NICK = "拼多多买家"
# Pinduoduo's logistics company ids, named as the courier table knows them; an id not listed
# is passed on by number, and Kuaidi100's own recognition takes it from there.
COURIERS = {
    1: "申通快递", 3: "百世快递", 44: "顺丰速运", 85: "圆通速递", 115: "中通快递",
    118: "EMS", 120: "京东快递", 121: "韵达快递", 131: "德邦快递", 132: "邮政快递包裹",
    384: "极兔速递",
}  # fmt: skip
_AUTH = {
    10016: "AFTERCARE_PINDUODUO_CLIENT_ID",
    10017: "the machine's clock",
    10018: "AFTERCARE_PINDUODUO_CLIENT_SECRET",
    10019: "AFTERCARE_PINDUODUO_TOKENS",
}


def sign(params: dict[str, str], secret: str) -> str:
    """MD5(secret + sorted key+value pairs + secret), upper-case hex."""
    joined = "".join(f"{k}{params[k]}" for k in sorted(params) if k != "sign")
    return hashlib.md5((secret + joined + secret).encode()).hexdigest().upper()


def error_from(body: dict[str, Any]) -> ProviderError:
    """The typed error an error_response stands for."""
    try:
        code = fields.integer(body.get("error_code") or 0)
    except ValueError:
        code = 0
    sub_code = fields.lenient_text(body.get("sub_code")) or ""
    message = " / ".join(str(p) for p in (body.get("error_msg"), body.get("sub_msg")) if p)
    details: dict[str, Any] = {
        "provider": PROVIDER,
        "code": f"{code}:{sub_code}" if sub_code else str(code),
        "request_id": fields.lenient_text(body.get("request_id")),
    }
    if code in _AUTH:
        return AuthenticationError(message, fix=_AUTH[code], **details)
    if sub_code == "api.limit":
        return RateLimited(message, **details)
    if code >= 50000:
        return ProviderUnavailable(message, **details)
    if sub_code == "order.not-exist":
        return TradeNotFound(message, **details)
    return RequestRejected(message, **details)


def parse_order(raw: Any) -> TradeRecord:
    """One order as a TradeRecord in Taobao's words; MalformedResponse when unreadable."""
    try:
        if not isinstance(raw, dict):
            raise TypeError("order is not an object")
        sn = order_sn(raw["order_sn"])
        order_status = fields.integer(raw["order_status"])
        refund_status = fields.integer(raw.get("refund_status") or 1)
        status = "TRADE_CLOSED" if refund_status == REFUNDED else ORDER_STATUS[order_status]
        mobile = fields.optional_text(raw.get("receiver_phone"))
        masked = mobile is None or any(m in mobile for m in PHONE_MASKS) or not mobile.isdigit()
        courier, waybill = _parcel(raw)
        listing = raw.get("item_list") or []
        if not isinstance(listing, list):
            raise TypeError("item_list is not a list")
        items = tuple(_item(sn, n, line, courier, waybill) for n, line in enumerate(listing, 1))
        return TradeRecord(
            tid=sn,
            status=status,
            raw_status=f"order_status={order_status};refund_status={refund_status}",
            trade_type="fixed",
            buyer_nick=BUYER_NICK,
            buyer_open_uid=_buyer(sn, None if masked else mobile),
            created=fields.china_time(raw["created_time"]),
            modified=fields.china_time(raw["updated_at"]),
            pay_time=fields.optional_china_time(raw.get("confirm_time")),
            consign_time=fields.optional_china_time(raw.get("shipping_time")),
            end_time=fields.optional_china_time(raw.get("receive_time")),
            payment=fields.amount(yuan(raw.get("pay_amount"))),
            receiver_name=fields.optional_text(raw.get("receiver_name")) or "",
            receiver_mobile=mobile,
            phone_masked=masked,
            province=fields.optional_text(raw.get("province")),
            city=fields.optional_text(raw.get("city")),
            items=items,
        )
    except (KeyError, TypeError, ValueError) as error:
        sn_shown = raw.get("order_sn") if isinstance(raw, dict) else None
        raise MalformedResponse(
            f"unreadable order {fields.lenient_text(sn_shown) or '?'}: "
            f"{type(error).__name__} {error}",
            provider=PROVIDER,
        ) from None


def _buyer(order_sn: str, mobile: str | None) -> str:
    """A pseudonym of the buyer: by the receiver's number where we see it, else the order's."""
    seed = f"phone:{mobile}" if mobile else f"order:{order_sn}"
    return "pdd-" + hashlib.sha256(seed.encode()).hexdigest()[:24]


def _parcel(raw: dict[str, Any]) -> tuple[str | None, str | None]:
    waybill = fields.optional_text(raw.get("tracking_number"))
    if not waybill:
        return None, None
    company = raw.get("logistics_id")
    number = fields.integer(company) if company not in (None, "") else 0
    return COURIERS.get(number, f"拼多多物流{number}"), waybill.strip()


def _item(sn: str, n: int, raw: Any, courier: str | None, waybill: str | None) -> TradeItemRecord:
    if not isinstance(raw, dict):
        raise TypeError("item is not an object")
    return TradeItemRecord(
        oid=f"{sn}-{n}"[:32],
        title=fields.optional_text(raw.get("goods_name")) or "",
        quantity=fields.integer(raw.get("goods_count") or 1),
        price=fields.amount(yuan(raw.get("goods_price"))),
        category_id=None,
        logistics_company=courier,
        waybill=waybill,
    )


class PinduoduoClient:
    """Call the POP gateway; each call carries the shop's access token."""

    def __init__(
        self,
        *,
        gateway_url: str,
        client_id: str,
        client_secret: str,
        core: HttpCore,
        wall_clock: Callable[[], datetime] = utcnow,
        refund_statuses: dict[str, str] | None = None,
    ) -> None:
        self.gateway_url = gateway_url
        self.refund_statuses = PINDUODUO_STATUSES if refund_statuses is None else refund_statuses
        self.client_id = client_id
        self._secret = client_secret
        self.core = core
        self.wall_clock = wall_clock

    @classmethod
    def from_settings(cls, settings: Settings, limiter: Limiter | None = None) -> PinduoduoClient:
        """Build the client the settings describe."""
        return cls(
            gateway_url=settings.pinduoduo_url,
            client_id=settings.pinduoduo_client_id,
            client_secret=settings.pinduoduo_client_secret.get_secret_value(),
            core=HttpCore(
                PROVIDER,
                retry=settings.retry,
                proxy=settings.http_proxy,
                per_second=settings.pinduoduo_calls_per_second,
                limiter=limiter,
            ),
            refund_statuses=settings.refunds.pinduoduo_reading(),
        )

    def call(self, api: str, token: str, params: dict[str, str]) -> dict[str, Any]:
        """Call one API and return the body inside its `<name>_response` wrapper."""

        def form() -> dict[str, str]:
            signed = {
                **params,
                "type": api,
                "client_id": self.client_id,
                "access_token": token,
                "timestamp": str(int(self.wall_clock().timestamp())),
                "data_type": "JSON",
            }
            signed["sign"] = sign(signed, self._secret)
            return signed

        def decode(response: HttpAnswer) -> dict[str, Any]:
            body = json_body(response, PROVIDER, api)
            if not isinstance(body, dict):
                raise MalformedResponse(f"{api}: answer is not an object", provider=PROVIDER)
            if isinstance(body.get("error_response"), dict):
                raise error_from(body["error_response"])
            inner = next((v for k, v in body.items() if k.endswith("_response")), None)
            if not isinstance(inner, dict):
                raise MalformedResponse(f"{api}: no response object", provider=PROVIDER)
            return inner

        return self.core.call(
            self.gateway_url, form=form, decode=decode, idempotent=True, what=f"pdd {api}"
        )

    def orders_page(
        self, token: str, start: datetime, end: datetime, *, page_no: int, page_size: int
    ) -> TradePage:
        """One page of orders updated within [start, end] (at most 30 minutes)."""
        inner = self.call(
            "pdd.order.number.list.increment.get",
            token,
            {
                "start_updated_at": str(int(start.timestamp())),
                "end_updated_at": str(int(end.timestamp())),
                "is_lucky_flag": "0",
                "order_status": "5",
                "refund_status": "5",
                "page": str(page_no),
                "page_size": str(page_size),
            },
        )
        listing = inner.get("order_sn_list") or []
        if not isinstance(listing, list):
            raise MalformedResponse("order_sn_list is not a list", provider=PROVIDER)
        trades, rejected = readable(listing, parse_order, "order_sn")
        total = fields.integer(inner.get("total_count") or 0)
        return TradePage(tuple(trades), total, None, tuple(rejected))

    def iter_modified_trades(
        self, session: str, start: datetime, end: datetime, *, page_size: int
    ) -> Iterator[TradePage]:
        """Every order updated in the window, 30 minutes a call, each slice's last page first."""
        size = min(page_size, 100)
        slice_start = start.astimezone(UTC)
        while slice_start < end:
            slice_end = min(slice_start + MAX_WINDOW, end)
            yield from pages_backwards(
                partial(self._slice_page, session, slice_start, slice_end, size), size
            )
            slice_start = slice_end

    def _slice_page(
        self, token: str, start: datetime, end: datetime, size: int, page_no: int
    ) -> TradePage:
        return self.orders_page(token, start, end, page_no=page_no, page_size=size)

    def trade(self, session: str, tid: str) -> TradeRecord:
        """One order, read live (pdd.order.information.get)."""
        inner = self.call("pdd.order.information.get", session, {"order_sn": tid})
        return parse_order(inner.get("order_info"))

    def refunds_page(
        self, token: str, start: datetime, end: datetime, *, page_no: int, page_size: int
    ) -> RefundPage:
        """One page of after-sales updated within [start, end] (at most 30 minutes).

        Those in the seller's turn get their deadline from `pdd.refund.information.get`.
        """
        inner = self.call(
            "pdd.refund.list.increment.get",
            token,
            {
                "start_updated_at": str(int(start.timestamp())),
                "end_updated_at": str(int(end.timestamp())),
                "after_sales_status": "1",  # every status
                "after_sales_type": "1",  # every type
                "page": str(page_no),
                "page_size": str(page_size),
            },
        )
        listing = inner.get("refund_list") or []
        if not isinstance(listing, list):
            raise MalformedResponse("refund_list is not a list", provider=PROVIDER)
        refunds, rejected = readable(
            listing, partial(parse_after_sale, statuses=self.refund_statuses), "id"
        )
        timed = tuple(self._with_deadline(token, r) for r in refunds)
        return RefundPage(timed, fields.integer(inner.get("total_count") or 0), tuple(rejected))

    def _with_deadline(self, token: str, refund: RefundRecord) -> RefundRecord:
        if refund.status not in SELLER_TURN:
            return refund
        inner = self.call(
            "pdd.refund.information.get",
            token,
            {"after_sales_id": refund.refund_id, "order_sn": refund.tid},
        )
        if not (refund.raw_status or "").startswith(
            f"after_sales_status={inner.get('after_sales_status')};"
        ):
            # Moved on since the list was read: its deadline is for the next sync to see.
            return refund
        return replace(refund, seller_deadline=expire_time(inner))

    def iter_refunds(
        self, token: str, start: datetime, end: datetime, *, page_size: int
    ) -> Iterator[RefundPage]:
        """Every after-sale updated in the window, 30 minutes a call, last page first."""
        size = min(page_size, 100)
        slice_start = start.astimezone(UTC)
        while slice_start < end:
            slice_end = min(slice_start + MAX_WINDOW, end)
            yield from pages_backwards(
                partial(self._refunds_at, token, slice_start, slice_end, size), size
            )
            slice_start = slice_end

    def _refunds_at(
        self, token: str, start: datetime, end: datetime, size: int, page_no: int
    ) -> RefundPage:
        return self.refunds_page(token, start, end, page_no=page_no, page_size=size)

    def permit_messages(self, token: str) -> None:
        """Start the mall's messages on the message service (pdd.pmc.user.permit)."""
        inner = self.call("pdd.pmc.user.permit", token, {})
        if inner.get("is_success") is not True:
            raise MalformedResponse("message permit not confirmed", provider=PROVIDER)
