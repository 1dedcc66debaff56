"""Taobao Message Service (TMC) by polling: trade messages of permitted sellers, at least once.

`taobao.tmc.user.permit` (with the seller's session) starts a seller's messages;
`taobao.tmc.messages.consume` (app level, 10-200 at a time) hands out messages nobody has
confirmed, each again after the redelivery timeout until `taobao.tmc.messages.confirm` takes
it off the queue. As on the real channel, a message is only a trigger: ids, no guarantee of
order, and duplicates happen (set `duplicate_rate` and `shuffle` to make them likelier).
"""

from __future__ import annotations

import json
import random
import threading
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .shops import SHOPS, Shop
from .top import TopError, invalid
from .wire import china_time
from .world import (
    TRADE_BUYER_SIGNED,
    TRADE_FINISHED,
    WAIT_BUYER_CONFIRM_GOODS,
    WAIT_BUYER_PAY,
    WAIT_SELLER_SEND_GOODS,
    Trade,
    World,
)

TOPICS = {
    WAIT_BUYER_PAY: "taobao_trade_TradeCreate",
    WAIT_SELLER_SEND_GOODS: "taobao_trade_TradeBuyerPay",
    WAIT_BUYER_CONFIRM_GOODS: "taobao_trade_TradeSellerShip",
    TRADE_BUYER_SIGNED: "taobao_trade_TradeSellerShip",
    TRADE_FINISHED: "taobao_trade_TradeSuccess",
}
CLOSE_TOPIC = "taobao_trade_TradeClose"
RATED_TOPIC = "taobao_trade_TradeRated"
# A refund's change of status, as the channel names it (ids only in the content).
REFUND_TOPICS = {
    "WAIT_SELLER_AGREE": "taobao_refund_RefundCreated",
    "WAIT_BUYER_RETURN_GOODS": "taobao_refund_RefundSellerAgreeAgreement",
    "SELLER_REFUSE_BUYER": "taobao_refund_RefundSellerRefuseAgreement",
    "WAIT_SELLER_CONFIRM_GOODS": "taobao_refund_RefundBuyerReturnGoods",
    "SUCCESS": "taobao_refund_RefundSuccess",
    "CLOSED": "taobao_refund_RefundClosed",
}
# A message published before a permit is never delivered; one missed by the cursor (a trade
# paid "in the past" by a test) is picked up within this look-back.
LOOKBACK = timedelta(days=1)


def seller_id(shop: Shop) -> int:
    """The seller's numeric user id, stable per shop."""
    return 100_000_000 + zlib.crc32(shop.code.encode()) % 900_000_000


@dataclass(slots=True)
class QueuedMessage:
    """A message in the queue, due to be handed out (again) from `due`."""

    id: int
    topic: str
    shop: Shop
    content: dict[str, Any]
    published: datetime
    due: datetime  # when it may be handed out (again)
    confirmed: bool = False


class MessageChannel:
    """The app's message queue of its permitted sellers' trade events."""

    def __init__(
        self,
        world: World,
        now: Any,
        app_key: str,
        *,
        seed: int,
        redeliver_after: timedelta = timedelta(minutes=1),
        duplicate_rate: float = 0.0,
        shuffle: bool = False,
    ) -> None:
        self.world = world
        self.now = now
        self.app_key = app_key
        self.redeliver_after = redeliver_after
        self.duplicate_rate = duplicate_rate
        self.shuffle = shuffle
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._permitted: dict[str, datetime] = {}
        self._published: set[tuple[int, str, datetime]] = set()
        self._queue: dict[int, QueuedMessage] = {}
        self._next_id = 7_000_000_000
        self.delivered = 0
        self.redelivered = 0
        self.refunds: Any = None  # the sandbox's refunds (refunds.py), when it has any

    def reset(self) -> None:
        """Forget permits and messages (the world stays as it is)."""
        with self._lock:
            self._permitted.clear()
            self._published.clear()
            self._queue.clear()
            self.delivered = self.redelivered = 0

    def permit(self, shop: Shop) -> dict[str, Any]:
        """`taobao.tmc.user.permit`: the seller's messages flow from now on."""
        with self._lock:
            self._permitted.setdefault(shop.code, self.now())
        return {"is_success": True}

    def consume(self, params: dict[str, str]) -> dict[str, Any]:
        """`taobao.tmc.messages.consume`: up to `quantity` messages nobody has confirmed."""
        self._check_group(params)
        raw = params.get("quantity", "100") or "100"
        if not raw.isdigit() or not 10 <= int(raw) <= 200:
            raise invalid("quantity", "quantity必须在10到200之间")
        out = self.hand_out(int(raw))
        if not out:
            return {}
        return {"messages": {"tmc_message": out}}

    def hand_out(self, quantity: int) -> list[dict[str, Any]]:
        """Up to `quantity` due messages (plus the faults' repeats), each due again later."""
        now = self.now()
        with self._lock:
            self._publish(now)
            ready = [m for m in self._queue.values() if not m.confirmed and m.due <= now]
            batch = sorted(ready, key=lambda m: m.id)[:quantity]
            for message in batch:
                self.redelivered += message.due > message.published
                message.due = now + self.redeliver_after
            out = list(batch)
            out += [m for m in batch if self._random.random() < self.duplicate_rate]
            if self.shuffle:
                self._random.shuffle(out)
            self.delivered += len(out)
        return [self._render(m) for m in out]

    def settle(self, message_id: int, *, failed: bool = False) -> None:
        """Take a message off the queue, or (failed) hand it out again at the next pull."""
        with self._lock:
            message = self._queue.get(message_id)
            if message is None:
                return
            if failed:
                message.due = min(message.due, self.now())
            else:
                message.confirmed = True

    def confirm(self, params: dict[str, str]) -> dict[str, Any]:
        """`taobao.tmc.messages.confirm`: the listed messages are done (unknown ids ignored)."""
        self._check_group(params)
        raw = [part for part in params.get("s_message_ids", "").split(",") if part.strip()]
        if len(raw) > 200:
            raise invalid("s_message_ids", "一次最多确认200条消息")
        try:
            ids = {int(part) for part in raw}
        except ValueError:
            raise invalid("s_message_ids", "消息ID必须是数字") from None
        for message_id in ids:
            self.settle(message_id)
        return {"is_success": True}

    def unconfirmed(self) -> int:
        """How many published messages nobody has confirmed yet."""
        with self._lock:
            return sum(not m.confirmed for m in self._queue.values())

    def publish_now(self) -> None:
        """Publish every change up to the clock (without handing anything out)."""
        with self._lock:
            self._publish(self.now())

    def _check_group(self, params: dict[str, str]) -> None:
        group = params.get("group_name", "")
        if group not in ("", "default"):
            raise TopError(15, "Remote service error", "isv.group-not-exist", f"分组{group}不存在")

    def _publish(self, now: datetime) -> None:
        """Queue a message for each change of a permitted seller's trades up to `now`."""
        for code, since in self._permitted.items():
            shop = SHOPS[code]
            start = max(since, now - LOOKBACK)
            for when, trade in self.world.changes_between(code, start, now):
                topic = TOPICS.get(trade.status, CLOSE_TOPIC)
                self._add(shop, topic, trade, when)
            for rating in self.world.ratings_between(code, start, now):
                rated = self.world.trade_at(rating.tid, rating.created)
                if rated is not None:
                    self._add(shop, RATED_TOPIC, rated, rating.created, oid=rating.oid)
            for when, status, refund in self.refund_steps(code, start, now):
                extra = {"refund_id": refund.refund_id, "refund_fee": refund.refund_fee}
                self._add(shop, REFUND_TOPICS[status], refund.trade, when, extra=extra)

    def refund_steps(
        self, code: str, start: datetime, end: datetime
    ) -> list[tuple[datetime, str, Any]]:
        """(when, status, refund) of the shop's refund changes in (start, end]."""
        if self.refunds is None:
            return []
        return [
            (when, status, refund)
            for refund in self.refunds.refunds.values()
            if refund.trade.shop == code
            for when, status in refund.steps
            if start < when <= end
        ]

    def _add(
        self,
        shop: Shop,
        topic: str,
        trade: Trade,
        when: datetime,
        oid: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        content: dict[str, Any] = {
            "tid": trade.tid,
            "oid": oid or trade.lines[0].oid,
            "seller_nick": shop.seller_nick,
            "buyer_nick": trade.buyer.nick,
            "buyer_open_uid": trade.buyer.uid,
            "payment": trade.payment,
            "type": trade.type,
        }
        if topic == CLOSE_TOPIC:
            content["status"] = trade.status
        content.update(extra or {})
        self._enqueue(shop, topic, int(extra["refund_id"]) if extra else trade.tid, content, when)

    def _enqueue(
        self, shop: Shop, topic: str, subject: int, content: dict[str, Any], when: datetime
    ) -> None:
        """Queue a message once per (subject, topic, time): a change is published once."""
        key = (subject, topic, when)
        if key in self._published:
            return
        self._published.add(key)
        self._next_id += 1
        self._queue[self._next_id] = QueuedMessage(self._next_id, topic, shop, content, when, when)

    def _render(self, message: QueuedMessage) -> dict[str, Any]:
        return {
            "id": message.id,
            "topic": message.topic,
            "pub_app_key": self.app_key,
            "pub_time": china_time(message.published),
            "user_id": seller_id(message.shop),
            "user_nick": message.shop.seller_nick,
            "content": json.dumps(message.content, ensure_ascii=False),
        }
