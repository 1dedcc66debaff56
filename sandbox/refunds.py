"""Refunds on the platform: requested by buyers, timed by the platform, moving as people act.

A refund starts WAIT_SELLER_AGREE with the seller's deadline (`refund_remind_timeout`): 48 h
for an order not shipped, 5 days for a shipped one (the commonly cited values). Buyers may
withdraw (CLOSED). A seller who does not act loses to the timer: the platform agrees, so a
refund without goods to return is SUCCESS at the deadline, one with goods goes
WAIT_BUYER_RETURN_GOODS; the buyer then ships the goods back (a return waybill), the seller
must confirm receipt within 10 days, else the platform confirms (SUCCESS). Every change moves
`modified` and `refund_version`. `taobao.refunds.receive.get` lists them by modified time,
`taobao.refund.get` reads one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .catalog import COURIER_NAMES
from .dice import Dice
from .scenarios import ShipPlan
from .shipment import ShipmentScenario
from .shops import ALL_SHOPS, PINDUODUO_SHOPS, SHOPS
from .top import (
    TopError,
    fields_param,
    flag_param,
    id_param,
    int_param,
    invalid,
    missing,
    time_param,
)
from .wire import china_time
from .world import Trade, World

HOUR, DAY = timedelta(hours=1), timedelta(days=1)
VERSION_CHANGED = "isv.refund-version-changed"
UNSHIPPED_DEADLINE, SHIPPED_DEADLINE, RECEIPT_DEADLINE = 48 * HOUR, 5 * DAY, 10 * DAY
# (reason as the buyer states it, goods come back, needs the goods shipped)
REASONS: tuple[tuple[str, bool, bool], ...] = (
    ("不想要了", False, False),
    ("缺货", False, False),
    ("少件/漏发", False, True),
    ("发错货", True, True),
    ("质量问题", True, True),
    ("七天无理由退换货", True, True),
    ("未收到货", False, True),
)


@dataclass(slots=True)
class Refund:
    """One refund and the steps it goes through, by time."""

    refund_id: int
    trade: Trade
    created: datetime
    reason: str
    has_good_return: bool
    refund_fee: str
    steps: list[tuple[datetime, str]] = field(default_factory=list)
    deadlines: dict[str, datetime] = field(default_factory=dict)  # per waiting-on-seller step
    return_parcel: tuple[datetime, str, str] | None = None  # shipped at, company, waybill
    messages: list[tuple[datetime, str]] = field(default_factory=list)  # the seller's, shown
    actions: list[tuple[datetime, str]] = field(default_factory=list)  # the seller's acts
    return_address: str | None = None
    intercept: tuple[datetime, str] | None = None  # asked at, how it will end (success|failed)

    def at(self, now: datetime) -> tuple[datetime, str] | None:
        """(modified, status) as seen at `now`; None before the buyer asked."""
        seen = [step for step in self.steps if step[0] <= now]
        return seen[-1] if seen else None


class Refunds:
    """The refunds of the world's shops, and the two read methods of the gateway."""

    def __init__(self, world: World, now: Any, *, seed: int, rate: float) -> None:
        self.world = world
        self.now = now
        self.refunds: dict[int, Refund] = {}
        world.return_parcels.clear()
        if rate > 0:
            self._generate(seed, rate)

    def _generate(self, seed: int, rate: float) -> None:
        # The Pinduoduo shops' refunds come from a source of their own, after the Taobao
        # shops', so those stay as they were generated before.
        taobao, other = Dice(seed * 104_729 + 17), Dice(seed * 104_729 + 29)
        next_id = 9_100_000_000
        trades = self.world.generated_trades()
        for shops, dice in ((SHOPS, taobao), (PINDUODUO_SHOPS, other)):
            next_id = self._generate_for(shops, trades, dice, rate, next_id)

    def _generate_for(
        self, shops: Any, trades: list[Trade], rng: Dice, rate: float, next_id: int
    ) -> int:
        for trade in trades:
            if trade.shop not in shops or trade.pay_time is None or not rng.chance(rate):
                continue
            shipped = trade.consign_time is not None
            choices = [r for r in REASONS if shipped or not r[2]]
            reason, goods_back, _ = rng.pick(choices)
            start = trade.consign_time or trade.pay_time
            created = start + rng.between(HOUR, 3 * DAY)
            next_id += 1
            refund = Refund(next_id, trade, created, reason, goods_back and shipped, trade.payment)
            self._plan(refund, rng, shipped)
            self.refunds[refund.refund_id] = refund
        return next_id

    def _plan(self, refund: Refund, rng: Dice, shipped: bool) -> None:
        deadline = refund.created + (SHIPPED_DEADLINE if shipped else UNSHIPPED_DEADLINE)
        refund.steps.append((refund.created, "WAIT_SELLER_AGREE"))
        refund.deadlines["WAIT_SELLER_AGREE"] = deadline
        if rng.chance(0.2):  # the buyer withdraws before anyone decides
            refund.steps.append(
                (refund.created + rng.between(HOUR, deadline - refund.created), "CLOSED")
            )
            return
        if not refund.has_good_return:
            refund.steps.append((deadline, "SUCCESS"))
            return
        refund.steps.append((deadline, "WAIT_BUYER_RETURN_GOODS"))
        sent = deadline + rng.between(6 * HOUR, 3 * DAY)
        com = rng.pick(sorted(COURIER_NAMES))
        self._send_back(refund, sent, com, f"RT{refund.refund_id % 10**10:010d}")
        refund.steps.append((sent, "WAIT_SELLER_CONFIRM_GOODS"))
        refund.deadlines["WAIT_SELLER_CONFIRM_GOODS"] = sent + RECEIPT_DEADLINE
        refund.steps.append((sent + RECEIPT_DEADLINE, "SUCCESS"))

    def _send_back(self, refund: Refund, sent: datetime, com: str, waybill: str) -> None:
        """The buyer sends the goods back at `sent`; the courier knows the parcel from then.

        It arrives about two days later, except one in ten that is never scanned (lost).
        """
        refund.return_parcel = (sent, COURIER_NAMES[com], waybill)
        buyer, shop = refund.trade.buyer, ALL_SHOPS[refund.trade.shop]
        lost = refund.refund_id % 10 == 7
        self.world.return_parcels[(com, waybill)] = ShipmentScenario(
            shop=shop.code, tid=refund.trade.tid, com=com, courier_name=COURIER_NAMES[com],
            waybill=waybill, scenario="lost" if lost else "delivered",
            plan=ShipPlan(sent, None if lost else sent + 2 * DAY),
            province=shop.warehouse[0], city=shop.warehouse[1], district=shop.warehouse[2],
            receiver_phone=shop.sender_phone,
            origin=(buyer.province, buyer.city, buyer.district),
            anchor=self.world.anchor, seed=refund.refund_id,
        )  # fmt: skip

    def open_refund(self, tid: int, reason: str, at: datetime) -> Refund:
        """A buyer asks for a refund of a trade at `at` (for tests and demos)."""
        trade = self.world.trade_at(tid, at)
        if trade is None:
            raise ValueError(f"no trade {tid}")
        refund_id = max(self.refunds, default=9_100_000_000) + 1
        refund = Refund(refund_id, trade, at, reason, False, trade.payment)
        refund.steps.append((at, "WAIT_SELLER_AGREE"))
        deadline = at + (SHIPPED_DEADLINE if trade.consign_time else UNSHIPPED_DEADLINE)
        refund.deadlines["WAIT_SELLER_AGREE"] = deadline
        refund.steps.append((deadline, "SUCCESS"))
        self.refunds[refund_id] = refund
        return refund

    def add_message(self, shop: Any, params: dict[str, str]) -> dict[str, Any]:
        """`taobao.refund.message.add`: a message on the refund the buyer sees there."""
        refund = self.refunds.get(id_param(params, "refund_id"))
        now = self.now()
        content = params.get("content", "")
        if refund is None or refund.trade.shop != shop.code or refund.at(now) is None:
            raise TopError(15, "Remote service error", "isv.refund-not-exist", "退款不存在")
        if not content.strip():
            raise invalid("content", "留言内容不能为空")
        if len(content) > 400:
            raise invalid("content", "留言内容不能超过400个字")
        seen = refund.at(now)
        assert seen is not None
        if seen[1] in ("CLOSED", "SUCCESS"):
            raise TopError(
                15, "Remote service error", "isv.refund-finished", "退款已结束，不能留言"
            )
        refund.messages.append((now, content))
        return {"refund_message": {"id": refund.refund_id * 100 + len(refund.messages),
                                   "created": china_time(now)}}  # fmt: skip

    def current(self, shop: Any, refund_id: int, version: str) -> tuple[Refund, datetime, str]:
        """The refund as it stands, if `version` is still its version (compare-and-set)."""
        refund = self.refunds.get(refund_id)
        now = self.now()
        seen = refund.at(now) if refund is not None and refund.trade.shop == shop.code else None
        if refund is None or seen is None:
            raise TopError(15, "Remote service error", "isv.refund-not-exist", "退款不存在")
        if version != str(int(seen[0].timestamp() * 1000)):
            raise TopError(
                15, "Remote service error", VERSION_CHANGED, "退款版本已变化，请重新获取"
            )
        return refund, now, seen[1]

    def _rewrite(self, refund: Refund, now: datetime, status: str) -> None:
        """The seller acted at `now`: what was to come is replaced by what follows the act."""
        refund.steps = [step for step in refund.steps if step[0] <= now]
        refund.steps.append((now, status))
        refund.actions.append((now, status))
        if status == "WAIT_BUYER_RETURN_GOODS":  # the buyer sends the goods the next day
            sent = now + DAY
            self._send_back(refund, sent, "zhongtong", f"RT{refund.refund_id}")
            refund.steps.append((sent, "WAIT_SELLER_CONFIRM_GOODS"))
            refund.deadlines["WAIT_SELLER_CONFIRM_GOODS"] = sent + RECEIPT_DEADLINE
            refund.steps.append((sent + RECEIPT_DEADLINE, "SUCCESS"))
        elif status == "SELLER_REFUSE_BUYER":  # the buyer gives up two days later
            refund.steps.append((now + 2 * DAY, "CLOSED"))

    def agree(self, shop: Any, params: dict[str, str]) -> dict[str, Any]:
        """`taobao.rp.refunds.agree`: refund_infos "id|amount|version", at most 20 a call."""
        infos = [part for part in params.get("refund_infos", "").split(",") if part]
        if not infos:
            raise missing("refund_infos")
        if len(infos) > 20:
            raise invalid("refund_infos", "一次最多同意20笔退款")
        results = []
        for info in infos:
            refund_id, _, rest = info.partition("|")
            amount, _, version = rest.partition("|")
            try:
                refund, now, status = self.current(shop, int(refund_id), version)
                if status not in ("WAIT_SELLER_AGREE", "WAIT_SELLER_CONFIRM_GOODS"):
                    raise TopError(
                        15, "Remote service error", "isv.refund-status-error", "状态不对"
                    )
                if status == "WAIT_SELLER_AGREE" and refund.has_good_return:
                    raise refused("isv.need-return-goods", "需退货")
                if amount != refund.refund_fee:
                    raise refused("isv.amount-error", "金额不对")
                self._rewrite(refund, now, "SUCCESS")
                results.append({"refund_id": int(refund_id), "succ": True, "message": "成功"})
            except (TopError, ValueError) as error:
                message = error.sub_msg if isinstance(error, TopError) else "参数错误"
                code = error.sub_code if isinstance(error, TopError) else "isv.invalid-parameter"
                results.append({"refund_id": refund_id, "succ": False, "message": message,
                                "code": code})  # fmt: skip
        return {"succ": all(r["succ"] for r in results),
                "results": {"refund_mapping_result": results}}  # fmt: skip

    def agree_return(self, shop: Any, params: dict[str, str]) -> dict[str, Any]:
        """`taobao.rp.returngoods.agree`: the buyer may send the goods to the seller's address."""
        for name in ("name", "address", "mobile"):
            if not params.get(name):
                raise missing(name)
        refund, now, status = self.current(
            shop, id_param(params, "refund_id"), params.get("refund_version", "")
        )
        if status != "WAIT_SELLER_AGREE" or not refund.has_good_return:
            raise refused("isv.refund-status-error", "状态不对")
        self._rewrite(refund, now, "WAIT_BUYER_RETURN_GOODS")
        refund.return_address = params["address"]
        return {"is_success": True}

    def refuse(self, shop: Any, params: dict[str, str]) -> dict[str, Any]:
        """`taobao.refund.refuse`: not for unshipped orders nor 七天无理由."""
        if not params.get("refuse_message"):
            raise missing("refuse_message")
        refund, now, status = self.current(
            shop, id_param(params, "refund_id"), params.get("refund_version", "")
        )
        if status != "WAIT_SELLER_AGREE":
            raise refused("isv.refund-status-error", "状态不对")
        if refund.trade.consign_time is None or "七天无理由" in refund.reason:
            raise refused("isv.refuse-not-allowed", "不允许拒绝")
        self._rewrite(refund, now, "SELLER_REFUSE_BUYER")
        return {"refund_refuse_result": True}

    def receive(self, shop: Any, params: dict[str, str]) -> dict[str, Any]:
        """`taobao.refunds.receive.get`: the shop's refunds modified in a window, paged."""
        start = time_param(params, "start_modified")
        end = time_param(params, "end_modified")
        if end < start:
            raise invalid("end_modified", "结束时间不能早于开始时间")
        page_no = int_param(params, "page_no", default=1, low=1, high=10**6)
        page_size = int_param(params, "page_size", default=40, low=1, high=100)
        now = self.now()
        fields = fields_param(params)
        listed = []
        for refund in self.refunds.values():
            seen = refund.at(now)
            if refund.trade.shop == shop.code and seen and start <= seen[0] <= end:
                listed.append((seen[0], refund))
        listed.sort(key=lambda item: (item[0], item[1].refund_id))
        page = listed[(page_no - 1) * page_size : page_no * page_size]
        body: dict[str, Any] = {}
        if flag_param(params, "use_has_next"):
            body["has_next"] = page_no * page_size < len(listed)
        else:
            body["total_results"] = len(listed)
        if page:
            body["refunds"] = {"refund": [self.render(r, now, fields) for _, r in page]}
        return body

    def one(self, shop: Any, params: dict[str, str]) -> dict[str, Any]:
        """`taobao.refund.get`: one refund of the shop, as it stands."""
        refund = self.refunds.get(id_param(params, "refund_id"))
        now = self.now()
        if refund is None or refund.trade.shop != shop.code or refund.at(now) is None:
            raise TopError(15, "Remote service error", "isv.refund-not-exist", "退款不存在")
        return {"refund": self.render(refund, now, fields_param(params))}

    def render(
        self, refund: Refund, now: datetime, fields: frozenset[str] | None
    ) -> dict[str, Any]:
        """A refund as TOP JSON at `now`."""
        seen = refund.at(now)
        assert seen is not None
        modified, status = seen
        trade = refund.trade
        body: dict[str, Any] = {
            "refund_id": refund.refund_id,
            "tid": trade.tid,
            "oid": trade.lines[0].oid,
            "title": trade.lines[0].title,
            "buyer_nick": trade.buyer.nick,
            "seller_nick": SHOPS[trade.shop].seller_nick,
            "total_fee": trade.payment,
            "refund_fee": refund.refund_fee,
            "status": status,
            "order_status": trade.status,
            "has_good_return": refund.has_good_return,
            "good_status": _good_status(refund, now),
            "reason": refund.reason,
            "created": china_time(refund.created),
            "modified": china_time(modified),
            "refund_version": int(modified.timestamp() * 1000),
            "refund_phase": "aftersale" if trade.consign_time else "onsale",
        }
        deadline = refund.deadlines.get(status)
        body["refund_remind_timeout"] = (
            {"exist_timeout": True, "timeout": china_time(deadline), "remind_type": 1}
            if deadline
            else {"exist_timeout": False}
        )
        parcel = refund.return_parcel
        if parcel is not None and parcel[0] <= now:
            body["company_name"], body["sid"] = parcel[1], parcel[2]
        return body if fields is None else {k: v for k, v in body.items() if k in fields}


def _good_status(refund: Refund, now: datetime) -> str:
    parcel = refund.return_parcel
    if parcel is not None and parcel[0] <= now:
        return "BUYER_RETURNED_GOODS"
    return "BUYER_RECEIVED" if refund.trade.end_time else "BUYER_NOT_RECEIVED"


def refused(sub_code: str, message: str) -> TopError:
    return TopError(15, "Remote service error", sub_code, message)
