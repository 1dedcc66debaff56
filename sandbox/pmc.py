"""Pinduoduo's message service (PMC): order and after-sale messages of permitted malls.

`pdd.pmc.user.permit` (with the shop's token) starts a mall's messages. Each message is
{"id", "commandType": "Common", "time", "sendTime", "message": {"type", "mallID", "content"}},
its content a JSON text naming the order (`tid`, the order_sn) or the after-sale
(`refund_id`, `tid`). As on Taobao's channel, a message is only a trigger, comes at least
once and in no promised order; one not acknowledged is sent again after the redelivery timeout.
"""

from __future__ import annotations

import json
import zlib
from datetime import datetime
from typing import Any

from .pinduoduo_refunds import order_sn
from .shops import ALL_SHOPS, PINDUODUO_SHOPS, Shop
from .tmc import LOOKBACK, MessageChannel, QueuedMessage
from .world import TRADE_FINISHED, WAIT_SELLER_SEND_GOODS

TRADE_TOPICS = {
    WAIT_SELLER_SEND_GOODS: "pdd_trade_TradeConfirmed",
    TRADE_FINISHED: "pdd_trade_TradeSuccess",
}
SHIPPED_TOPIC = "pdd_trade_TradeSellerShip"
CLOSED_TOPIC = "pdd_trade_TradeClose"
REFUND_TOPICS = {
    "WAIT_SELLER_AGREE": "pdd_refund_RefundCreated",
    "WAIT_BUYER_RETURN_GOODS": "pdd_refund_RefundAgreeAgreement",
    "SELLER_REFUSE_BUYER": "pdd_refund_RefundRefuseAgreement",
    "WAIT_SELLER_CONFIRM_GOODS": "pdd_refund_RefundBuyerReturnGoods",
    "SUCCESS": "pdd_refund_RefundSuccess",
    "CLOSED": "pdd_refund_RefundClosed",
}


def mall_id(shop: Shop) -> int:
    """The mall's numeric id, stable per shop."""
    return 500_000 + zlib.crc32(shop.code.encode()) % 9_000_000


class PddMessageChannel(MessageChannel):
    """The app's PMC queue: the same at-least-once queue, in Pinduoduo's topics and shape."""

    def permit(self, shop: Shop) -> dict[str, Any]:
        """`pdd.pmc.user.permit`: the mall's messages flow from now on."""
        with self._lock:
            self._permitted.setdefault(shop.code, self.now())
        return {"is_success": True}

    def settle_id(self, message_id: Any, *, failed: bool = False) -> None:
        """Settle by the id an Ack or Fail names (anything else is ignored)."""
        if isinstance(message_id, int) and not isinstance(message_id, bool):
            self.settle(message_id, failed=failed)

    def _publish(self, now: datetime) -> None:
        for code, since in self._permitted.items():
            shop = ALL_SHOPS[code]
            if code not in PINDUODUO_SHOPS:
                continue
            start = max(since, now - LOOKBACK)
            for when, trade in self.world.changes_between(code, start, now):
                if trade.pay_time is None:  # the platform shows paid orders only
                    continue
                if trade.status.startswith("TRADE_CLOSED"):
                    topic = CLOSED_TOPIC
                elif trade.consign_time is not None and trade.status != TRADE_FINISHED:
                    topic = SHIPPED_TOPIC
                else:
                    topic = TRADE_TOPICS.get(trade.status, SHIPPED_TOPIC)
                self._add(shop, topic, trade, when, extra={"tid": order_sn(trade)})
            for when, status, refund in self.refund_steps(code, start, now):
                extra = {"refund_id": refund.refund_id, "tid": order_sn(refund.trade)}
                self._add(shop, REFUND_TOPICS[status], refund.trade, when, extra=extra)

    def _add(self, shop: Shop, topic: str, trade: Any, when: datetime, oid: Any = None,
             extra: dict[str, Any] | None = None) -> None:  # fmt: skip
        content = {**(extra or {}), "mall_id": mall_id(shop)}
        self._enqueue(shop, topic, int(content.get("refund_id") or trade.tid), content, when)

    def _render(self, message: QueuedMessage) -> dict[str, Any]:
        sent = int(message.published.timestamp() * 1000)
        return {
            "id": message.id,
            "commandType": "Common",
            "time": sent,
            "sendTime": sent,
            "message": {
                "type": message.topic,
                "mallID": mall_id(message.shop),
                "content": json.dumps(message.content, ensure_ascii=False),
            },
        }
