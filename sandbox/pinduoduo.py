"""Pinduoduo's open platform (POP) gateway: signed calls, the order increment and one order.

One router takes every call: `type` names the API; `client_id`, `access_token` (the shop),
`timestamp` (Unix seconds), `data_type=JSON` and `sign` = MD5(secret + sorted key+value pairs
+ secret), upper-case hex. Errors come as {"error_response": {error_code, error_msg, ...}}.
`pdd.order.number.list.increment.get` lists a shop's orders updated in at most 30 minutes,
paged (newest-first paging is the caller's business); `pdd.order.information.get` reads one.
Orders are paid ones only; `order_status` is 1 to ship, 2 shipped, 3 received, and
`refund_status` 1 none, 2 in progress, 3 refunding, 4 refunded.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import Any

from . import pinduoduo_refunds as after_sales
from .catalog import COURIER_NAMES
from .clock import SimClock
from .pinduoduo_refunds import MAX_WINDOW, order_sn
from .refunds import Refunds
from .shops import ALL_SHOPS, CREDENTIALS, Shop
from .stats import SandboxStats
from .wire import Reply, Request, china_time, json_reply, real_now, top_request_id
from .world import TRADE_FINISHED, WAIT_SELLER_SEND_GOODS, Trade, World

INCREMENT = "pdd.order.number.list.increment.get"
ONE_ORDER = "pdd.order.information.get"
AFTER_SALES = "pdd.refund.list.increment.get"
ONE_AFTER_SALE = "pdd.refund.information.get"
PERMIT = "pdd.pmc.user.permit"
# Pinduoduo's logistics company ids for the couriers the world ships with.
LOGISTICS_IDS = {
    "shunfeng": 44, "zhongtong": 115, "yuantong": 85, "yunda": 121, "shentong": 1,
    "ems": 118, "jd": 120, "jtexpress": 384, "youzhengguonei": 132, "debangwuliu": 131,
    "baishiwuliu": 3, "unknown": 999,
}  # fmt: skip
_COM_BY_NAME = {name: com for com, name in COURIER_NAMES.items()}


class PddError(Exception):
    """An error answer of the gateway."""

    def __init__(self, code: int, message: str, sub_code: str = "", sub_msg: str = "") -> None:
        super().__init__(message)
        self.code, self.message, self.sub_code, self.sub_msg = code, message, sub_code, sub_msg

    def reply(self) -> Reply:
        """The error body, answered with HTTP 200 as the gateway does."""
        body = {
            "error_code": self.code,
            "error_msg": self.message,
            "sub_code": self.sub_code,
            "sub_msg": self.sub_msg,
            "request_id": top_request_id(),
        }
        return json_reply({"error_response": body})


def pdd_sign(params: dict[str, str], secret: str) -> str:
    """The gateway's signature of `params` (everything but `sign`)."""
    text = "".join(f"{k}{v}" for k, v in sorted(params.items()) if k != "sign")
    return hashlib.md5((secret + text + secret).encode()).hexdigest().upper()


class Pinduoduo:
    """The gateway, serving the Pinduoduo shops of the world."""

    name = "pinduoduo"

    def __init__(self, world: World, clock: SimClock, stats: SandboxStats) -> None:
        self.world = world
        self.clock = clock
        self.stats = stats
        keys = CREDENTIALS["pinduoduo"]
        self.client_id: str = keys["client_id"]
        self.secret: str = keys["client_secret"]
        self._shops = {token: ALL_SHOPS[code] for code, token in keys["tokens"].items()}
        self.refunds: Refunds | None = None  # the world's refunds, set by the sandbox
        self.channel: Any = None  # the message service (pmc.py), set by the sandbox

    def handle(self, request: Request) -> Reply:
        """Authenticate and answer one call."""
        params = request.params
        try:
            shop = self._authenticate(params)
            api = params.get("type", "")
            if api == INCREMENT:
                payload = {"order_sn_increment_get_response": self._increment(shop, params)}
            elif api == ONE_ORDER:
                payload = {"order_info_get_response": self._one(shop, params)}
            elif api == PERMIT and self.channel is not None:
                payload = {"pmc_user_permit_response": self.channel.permit(shop)}
            elif api in (AFTER_SALES, ONE_AFTER_SALE):
                payload = self._after_sales(api, shop, params)
            else:
                raise PddError(10001, f"接口{api}不存在", "api.not-exist")
        except PddError as error:
            return error.reply()
        return json_reply(payload)

    def _authenticate(self, params: dict[str, str]) -> Shop:
        if params.get("client_id") != self.client_id:
            raise PddError(10016, "client_id不存在", "client_id.invalid")
        stamp = params.get("timestamp", "")
        if not stamp.isdigit():
            raise PddError(10000, "timestamp不合法", "timestamp.invalid")
        if abs(datetime.fromtimestamp(int(stamp), UTC) - real_now()) > timedelta(minutes=10):
            raise PddError(10017, "timestamp已过期", "timestamp.expired")
        if not hmac.compare_digest(params.get("sign", ""), pdd_sign(params, self.secret)):
            raise PddError(10018, "签名错误", "sign.invalid")
        shop = self._shops.get(params.get("access_token", ""))
        if shop is None:
            raise PddError(10019, "access_token已过期或不存在", "access_token.invalid")
        return shop

    def _increment(self, shop: Shop, params: dict[str, str]) -> dict[str, Any]:
        try:
            start = datetime.fromtimestamp(int(params["start_updated_at"]), UTC)
            end = datetime.fromtimestamp(int(params["end_updated_at"]), UTC)
            page = int(params.get("page", "1"))
            size = int(params.get("page_size", "100"))
        except (KeyError, ValueError):
            raise PddError(10000, "参数错误", "param.invalid") from None
        if not start <= end or end - start > MAX_WINDOW:
            raise PddError(10000, "时间跨度不能超过30分钟", "param.invalid")
        if page < 1 or not 1 <= size <= 100:
            raise PddError(10000, "page_size最大100", "param.invalid")
        orders = [
            t
            for t in self.world.modified_between(shop.code, start, end, not_after=self.clock.now())
            if t.pay_time is not None  # the order list shows paid orders only
        ]
        chosen = orders[(page - 1) * size : page * size]
        body: dict[str, Any] = {
            "total_count": len(orders),
            "order_sn_list": [render_order(t, shop) for t in chosen],
        }
        if params.get("use_has_next") == "true":
            body["has_next"] = page * size < len(orders)
        return body

    def _after_sales(self, api: str, shop: Shop, params: dict[str, str]) -> dict[str, Any]:
        desk, now = self.refunds, self.clock.now()
        if desk is None:
            raise PddError(10001, f"接口{api}不存在", "api.not-exist")
        try:
            if api == AFTER_SALES:
                body = after_sales.increment(desk, shop.code, params, now)
                return {"refund_increment_get_response": body}
            return {"refund_information_get_response": after_sales.information(
                desk, shop.code, params, now)}  # fmt: skip
        except after_sales.BadParameter as error:
            raise PddError(10000, str(error), "param.invalid") from None
        except LookupError as error:
            raise PddError(10000, str(error), "refund.not-exist") from None

    def _one(self, shop: Shop, params: dict[str, str]) -> dict[str, Any]:
        sn = params.get("order_sn", "")
        digits = sn.partition("-")[2]
        now = self.clock.now()
        trade = self.world.trade_at(int(digits), now) if digits.isdigit() else None
        if trade is None or trade.shop != shop.code or order_sn(trade) != sn or not trade.pay_time:
            raise PddError(10000, "订单不存在", "order.not-exist")
        return {"order_info": render_order(trade, shop)}

    def busy(self, request: Request) -> Reply:
        """Answer the gateway's flow control."""
        return PddError(10000, "接口调用次数超限", "api.limit").reply()

    rate_limited = busy

    def platform_error(self, request: Request) -> Reply:
        """Answer a platform-side fault, which callers may retry."""
        return PddError(50000, "系统繁忙", "system.busy").reply()

    def sample_body(self, request: Request) -> dict[str, Any]:
        """A plausible success body, for truncation by the malformed fault."""
        return {"order_sn_increment_get_response": {"total_count": 0, "order_sn_list": []}}


def render_order(trade: Trade, shop: Shop) -> dict[str, Any]:
    """An order as the gateway renders it (times as Beijing time, money in yuan)."""
    buyer = trade.buyer
    status = trade.status
    if status == WAIT_SELLER_SEND_GOODS:
        order_status = 1
    elif status == TRADE_FINISHED or trade.end_time is not None:
        order_status = 3
    else:
        order_status = 2
    order: dict[str, Any] = {
        "order_sn": order_sn(trade),
        "order_status": order_status,
        "refund_status": 4 if status.startswith("TRADE_CLOSED") else 1,
        "created_time": china_time(trade.created),
        "updated_at": china_time(trade.modified),
        "pay_amount": float(trade.payment),
        "receiver_name": buyer.name,
        "receiver_phone": buyer.phone if shop.can_decrypt_phone else buyer.phone[:3] + "****",
        "province": buyer.province,
        "city": buyer.city,
        "town": buyer.district,
        "item_list": [
            {"goods_id": line.oid, "goods_name": line.title, "goods_count": line.num,
             "goods_price": float(line.price)}
            for line in trade.lines
        ],
    }  # fmt: skip
    if trade.pay_time is not None:
        order["confirm_time"] = china_time(trade.pay_time)
    if trade.waybill is not None and trade.consign_time is not None:
        order["tracking_number"] = trade.waybill
        order["logistics_id"] = LOGISTICS_IDS.get(_com_of(trade), 999)
        order["shipping_time"] = china_time(trade.consign_time)
    if trade.end_time is not None:
        order["receive_time"] = china_time(trade.end_time)
    return order


def _com_of(trade: Trade) -> str:
    return _COM_BY_NAME.get(trade.logistics_company or "", "unknown")
