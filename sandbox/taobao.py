"""Taobao Open Platform (TOP) gateway: signature checks and the trade methods."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from . import refund_intercepts
from .clock import SimClock
from .jst_sms import OaidSms, oaid_of
from .oaid_decrypt import OaidDecryption
from .refunds import Refunds
from .shops import CREDENTIALS, Shop, shop_by_session
from .stats import SandboxStats
from .taobao_rates import TradeRates
from .tmc import MessageChannel
from .top import (
    TopError,
    fields_param,
    flag_param,
    id_param,
    int_param,
    invalid,
    time_param,
    top_sign,
)
from .wire import Reply, Request, china_time, json_reply, parse_china_time, real_now, top_request_id
from .world import TRADE_STATUSES, Trade, World

__all__ = ["Taobao", "TopError", "render_trade", "top_sign"]

# TOP's umbrella statuses accepted by the `status` filter.
_STATUS_GROUPS: dict[str, frozenset[str]] = {
    "ALL_WAIT_PAY": frozenset({"WAIT_BUYER_PAY", "TRADE_NO_CREATE_PAY"}),
    "ALL_CLOSED": frozenset({"TRADE_CLOSED", "TRADE_CLOSED_BY_TAOBAO"}),
}

_ORDER_FIELDS = (
    "oid",
    "title",
    "num",
    "price",
    "cid",
    "status",
    "logistics_company",
    "invoice_no",
)


class Taobao:
    """Handle `POST /taobao/router/rest` for the three shops' sessions."""

    name = "taobao"

    def __init__(
        self, world: World, clock: SimClock, stats: SandboxStats, *, skew_minutes: float = 10
    ) -> None:
        self.world = world
        self.clock = clock
        self.stats = stats
        self.max_skew = timedelta(minutes=skew_minutes)
        self._app_key: str = CREDENTIALS["taobao"]["app_key"]
        self._secret: str = CREDENTIALS["taobao"]["app_secret"]
        self.rates = TradeRates(world, clock)
        self.channel = MessageChannel(world, clock.now, self._app_key, seed=0)
        self.secret = self._secret  # the message stream signs with the app's secret too
        self.oaid_sms: OaidSms | None = None  # attached by the sandbox, beside its SMS provider
        self.oaid_decryption: OaidDecryption | None = None  # attached beside it
        self.refunds = Refunds(world, clock.now, seed=0, rate=0.0)  # replaced by the sandbox
        self._methods: dict[str, Callable[[Shop, dict[str, str]], dict[str, Any]]] = {
            "taobao.trades.sold.increment.get": self._increment,
            "taobao.trade.fullinfo.get": self._fullinfo,
            "taobao.traderates.get": self.rates.get,
            "taobao.traderate.explain.add": self.rates.explain,
            "taobao.tmc.user.permit": lambda shop, _: self.channel.permit(shop),
            "taobao.jst.sms.oaid.message.send": self._send_by_oaid,
            "taobao.top.oaid.decrypt": self._decrypt_oaids,
            "taobao.refunds.receive.get": lambda shop, params: self.refunds.receive(shop, params),
            "taobao.refund.get": lambda shop, params: self.refunds.one(shop, params),
            "taobao.rp.refunds.agree": lambda shop, params: self.refunds.agree(shop, params),
            "taobao.rp.returngoods.agree": lambda shop, p: self.refunds.agree_return(shop, p),
            "taobao.refund.refuse": lambda shop, params: self.refunds.refuse(shop, params),
            "taobao.refund.detail.get": lambda shop, p: refund_intercepts.detail(
                self.refunds, shop, p
            ),
            "taobao.rp.refund.intercept": lambda shop, p: refund_intercepts.intercept(
                self.refunds, shop, p
            ),
            "taobao.refund.message.add": lambda shop, params: self.refunds.add_message(
                shop, params
            ),
        }
        # Calls of the app itself, made without a seller's session.
        self._app_methods: dict[str, Callable[[dict[str, str]], dict[str, Any]]] = {
            "taobao.tmc.messages.consume": lambda params: self.channel.consume(params),
            "taobao.tmc.messages.confirm": lambda params: self.channel.confirm(params),
        }

    def handle(self, request: Request) -> Reply:
        """Authenticate and dispatch one gateway call."""
        try:
            params = request.params
            method = params.get("method", "")
            app_call = self._app_methods.get(method)
            if app_call is not None:
                self._authenticate(params, with_session=False)
                payload = app_call(params)
            else:
                shop = self._authenticate(params)
                assert shop is not None
                call = self._methods.get(method)
                if call is None:
                    raise TopError(22, "Invalid method", "isv.method-not-exist", f"{method} 不存在")
                payload = call(shop, params)
        except TopError as error:
            return error.reply()
        key = method.removeprefix("taobao.").replace(".", "_") + "_response"
        payload["request_id"] = top_request_id()
        return json_reply({key: payload})

    def _send_by_oaid(self, shop: Shop, params: dict[str, str]) -> dict[str, Any]:
        if self.oaid_sms is None:
            raise TopError(22, "Invalid method", "isv.method-not-exist", "短信服务未开通")
        return self.oaid_sms.send(shop, params)

    def _decrypt_oaids(self, shop: Shop, params: dict[str, str]) -> dict[str, Any]:
        if self.oaid_decryption is None:
            raise TopError(22, "Invalid method", "isv.method-not-exist", "解密服务未开通")
        return self.oaid_decryption.decrypt(shop, params)

    def _authenticate(self, params: dict[str, str], *, with_session: bool = True) -> Shop | None:
        if not params.get("method"):
            raise TopError(21, "Missing method")
        app_key = params.get("app_key", "")
        if not app_key:
            raise TopError(28, "Missing app key")
        if app_key != self._app_key:
            raise TopError(29, "Invalid app key")
        sign = params.get("sign", "")
        if not sign:
            raise TopError(24, "Missing signature")
        sign_method = params.get("sign_method", "md5")
        if sign_method not in ("md5", "hmac"):
            raise TopError(
                25, "Invalid signature", sub_msg=f"unsupported sign_method {sign_method}"
            )
        expected = top_sign(params, self._secret, sign_method)
        if not hmac.compare_digest(sign.encode(), expected.encode()):
            self.stats.count_rejected_signature(self.name)
            raise TopError(25, "Invalid signature")
        stamp = params.get("timestamp", "")
        if not stamp:
            raise TopError(30, "Missing timestamp")
        try:
            sent = parse_china_time(stamp)
        except ValueError:
            raise TopError(
                31, "Invalid timestamp", sub_msg="timestamp must be yyyy-MM-dd HH:mm:ss"
            ) from None
        # Skew is judged on the real wall clock, as the real gateway does, never the sim clock.
        if abs(real_now() - sent) > self.max_skew:
            raise TopError(31, "Invalid timestamp", sub_msg="时间戳误差超过10分钟")
        version = params.get("v", "")
        if not version:
            raise TopError(32, "Missing version")
        if version != "2.0":
            raise TopError(34, "Unsupported version")
        if params.get("format", "json") != "json":
            raise TopError(23, "Invalid format", sub_msg="the sandbox only speaks format=json")
        if not with_session:
            return None
        session = params.get("session", "")
        if not session:
            raise TopError(26, "Missing session")
        shop = shop_by_session(session)
        if shop is None:
            raise TopError(27, "Invalid session", "invalid-sessionkey", "SessionKey非法")
        return shop

    def _increment(self, shop: Shop, params: dict[str, str]) -> dict[str, Any]:
        start = time_param(params, "start_modified")
        end = time_param(params, "end_modified")
        if end < start:
            raise invalid("end_modified", "结束时间不能早于开始时间")
        if end - start > timedelta(days=1):
            raise invalid("start_modified", "开始时间与结束时间之间的间隔不能超过一天")
        page_no = int_param(params, "page_no", default=1, low=1, high=10**6)
        page_size = int_param(params, "page_size", default=40, low=1, high=100)
        use_has_next = flag_param(params, "use_has_next")
        wanted = _status_filter(params.get("status", ""))
        fields = fields_param(params)
        trades = self.world.modified_between(shop.code, start, end, not_after=self.clock.now())
        if wanted is not None:
            trades = [t for t in trades if t.status in wanted]
        page = trades[(page_no - 1) * page_size : page_no * page_size]
        payload: dict[str, Any] = {}
        if use_has_next:
            payload["has_next"] = page_no * page_size < len(trades)
        else:
            payload["total_results"] = len(trades)
        if page:
            payload["trades"] = {"trade": [self._render(t, shop, fields) for t in page]}
        return payload

    def _fullinfo(self, shop: Shop, params: dict[str, str]) -> dict[str, Any]:
        tid = id_param(params, "tid")
        now = self.clock.now()
        trade = self.world.trade_at(tid, now)
        if trade is None or trade.shop != shop.code or trade.created > now:
            raise TopError(15, "Remote service error", "isv.trade-not-exist", "交易不存在")
        return {"trade": self._render(trade, shop, fields_param(params))}

    def _render(self, trade: Trade, shop: Shop, fields: frozenset[str] | None) -> dict[str, Any]:
        """Render a trade; a planted one's wire fields replace what it would say (planted.py)."""
        rendered = render_trade(trade, shop, fields)
        rendered.update(self.world.wire_overrides.get(("trade", trade.tid), {}))
        return rendered

    def busy(self, request: Request) -> Reply:
        """Answer TOP's flow control: code 7 App Call Limited."""
        return TopError(
            7,
            "App Call Limited",
            "accesscontrol.limited-by-app-access-count",
            "This ban will last for 1 more seconds",
        ).reply()

    rate_limited = busy

    def platform_error(self, request: Request) -> Reply:
        """Answer a platform-side fault (isp.*), which callers may retry."""
        return TopError(
            15, "Remote service error", "isp.remote-service-timeout", "调用后端服务超时"
        ).reply()

    def sample_body(self, request: Request) -> dict[str, Any]:
        """Return a plausible success body, for truncation by the malformed fault."""
        method = request.params.get("method", "taobao.trades.sold.increment.get")
        key = method.removeprefix("taobao.").replace(".", "_") + "_response"
        if method == "taobao.traderates.get":
            rate = {"tid": 4123456789012345678, "result": "neutral", "content": "一般般吧"}
            body: dict[str, Any] = {"total_results": 1, "trade_rates": {"trade_rate": [rate]}}
        elif method == "taobao.traderate.explain.add":
            body = {"is_success": True}
        else:
            trade = {"tid": 4123456789012345678, "status": "WAIT_BUYER_PAY", "buyer_nick": "tb_82"}
            body = {"total_results": 1, "trades": {"trade": [trade]}}
        return {key: {**body, "request_id": top_request_id()}}


def _status_filter(raw: str) -> frozenset[str] | None:
    if not raw:
        return None
    if raw in _STATUS_GROUPS:
        return _STATUS_GROUPS[raw]
    if raw not in TRADE_STATUSES:
        raise invalid("status", f"不支持的交易状态{raw}")
    return frozenset({raw})


def _mask_mobile(phone: str) -> str:
    # As TOP desensitises it: the head and the last four digits stay visible.
    return phone[:3] + "****" + phone[-4:]


def render_trade(trade: Trade, shop: Shop, fields: frozenset[str] | None) -> dict[str, Any]:
    """Render a trade as TOP JSON, keeping only `fields` when given."""
    buyer = trade.buyer
    shipped = trade.waybill is not None
    full: dict[str, Any] = {
        "tid": trade.tid,
        "status": trade.status,
        "type": trade.type,
        "seller_nick": shop.seller_nick,
        "buyer_nick": buyer.nick,
        "buyer_open_uid": buyer.uid,
        "created": china_time(trade.created),
        "modified": china_time(trade.modified),
    }
    for name in ("pay_time", "consign_time", "end_time"):
        value = getattr(trade, name)
        if value is not None:
            full[name] = china_time(value)
    full.update(
        {
            "payment": trade.payment,
            "total_fee": trade.total_fee,
            "post_fee": trade.post_fee,
            "num": sum(line.num for line in trade.lines),
            "receiver_name": buyer.name,
            "receiver_mobile": buyer.phone if shop.can_decrypt_phone else _mask_mobile(buyer.phone),
            # The receiver's OAID: reaches the buyer by SMS without the number (jst_sms.py).
            "oaid": oaid_of(buyer, shop),
            "receiver_state": buyer.province,
            "receiver_city": buyer.city,
            "receiver_district": buyer.district,
            "receiver_address": buyer.address,
        }
    )
    orders = []
    for line in trade.lines:
        order: dict[str, Any] = {
            "oid": line.oid,
            "title": line.title,
            "num": line.num,
            "price": line.price,
            "cid": line.cid,
            "status": trade.status,
        }
        if shipped:
            order["logistics_company"] = trade.logistics_company
            order["invoice_no"] = trade.waybill
        orders.append(order)
    full["orders"] = {"order": orders}
    if fields is None:
        return full
    result = {k: v for k, v in full.items() if k in fields}
    sub = {f.split(".", 1)[1] for f in fields if f.startswith("orders.")}
    if "orders" not in fields and sub:
        keep = [k for k in _ORDER_FIELDS if k in sub]
        result["orders"] = {"order": [{k: o[k] for k in keep if k in o} for o in orders]}
    return result
