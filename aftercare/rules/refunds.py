"""Refunds and returns: what kind each is, what to do next, and how close its timer is.

The kinds and next steps follow the team's after-sales flow chart (售后服务流程图): 缺货,
未发货退款, 丢件, 少发, 错发, 质量, 七天无理由. When the seller does not act before the
platform's deadline, the platform decides for the buyer: the watch warns at margins.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from aftercare.clock import CHINA

WAIT_SELLER_AGREE = "WAIT_SELLER_AGREE"
WAIT_BUYER_RETURN_GOODS = "WAIT_BUYER_RETURN_GOODS"
WAIT_SELLER_CONFIRM_GOODS = "WAIT_SELLER_CONFIRM_GOODS"
SELLER_REFUSE_BUYER = "SELLER_REFUSE_BUYER"
CLOSED = "CLOSED"
SUCCESS = "SUCCESS"
OPEN = (WAIT_SELLER_AGREE, WAIT_BUYER_RETURN_GOODS, WAIT_SELLER_CONFIRM_GOODS, SELLER_REFUSE_BUYER)
# Where the seller must act before the platform's timer runs out.
SELLER_TURN = (WAIT_SELLER_AGREE, WAIT_SELLER_CONFIRM_GOODS)

# Pinduoduo's after_sales_status codes in these words: the codes are documented, what each
# means for the seller's turn is our reading (AFTERCARE_REFUNDS__PINDUODUO_STATUSES corrects it).
# A code whose goods are on their way back (a return waybill) is looked up with this suffix.
WITH_RETURN = "+return"
PINDUODUO_STATUSES: dict[str, str] = {
    "2": WAIT_SELLER_AGREE,  # 买家申请退款，待商家处理
    "3": WAIT_SELLER_AGREE,  # 退货退款，待商家处理
    "3" + WITH_RETURN: WAIT_SELLER_CONFIRM_GOODS,  # the same, with the return waybill
    "4": SUCCESS,  # 商家同意退款，退款中
    "5": SUCCESS,  # 平台同意退款，退款中
    "6": SELLER_REFUSE_BUYER,  # 驳回退款，待买家处理
    "7": WAIT_BUYER_RETURN_GOODS,  # 已同意退货退款，待用户发货
    "8": SELLER_REFUSE_BUYER,  # 平台处理中 (open, not the seller's turn)
    "9": CLOSED,  # 平台拒绝退款，退款关闭
    "10": SUCCESS,  # 退款成功
    "11": CLOSED,  # 买家撤销
    "12": CLOSED,  # 买家逾期未处理，退款失败
    "13": CLOSED,  # 买家逾期，超过有效期
    "14": WAIT_SELLER_AGREE,  # 换货补寄待商家处理
    "15": WAIT_BUYER_RETURN_GOODS,  # 换货补寄待用户处理
    "16": SUCCESS,  # 换货补寄成功
    "17": CLOSED,  # 换货补寄失败
    "18": WAIT_BUYER_RETURN_GOODS,  # 换货补寄待用户确认完成
    "21": WAIT_SELLER_AGREE,  # 待商家同意维修
    "22": WAIT_BUYER_RETURN_GOODS,  # 待用户确认发货
    "24": CLOSED,  # 维修关闭
    "25": SUCCESS,  # 维修成功
    "27": WAIT_BUYER_RETURN_GOODS,  # 待用户确认收货
    "31": WAIT_BUYER_RETURN_GOODS,  # 已同意拒收退款，待用户拒收
    "32": WAIT_SELLER_AGREE,  # 补寄待商家发货
}


@dataclass(frozen=True, slots=True)
class RefundKind:
    """A kind of refund, in the team's words, with its next step."""

    code: str
    name: str
    next_step: str


KINDS = {
    kind.code: kind
    for kind in (
        RefundKind(
            "unshipped_change_mind", "未发货退款", "问清原因，尽力挽留一次；实在不行同意退款"
        ),
        RefundKind("out_of_stock", "缺货", "联系顾客说明缺货，同意全额退款，改库存"),
        RefundKind("short_shipped", "少发", "核实重量与件数；确认少发则补发并告知新单号"),
        RefundKind("wrong_item", "错发", "全额退款并承担寄回运费，或安排换发；找到责任人"),
        RefundKind("quality", "质量问题", "请顾客拍照并登记图片，退款或换货（寄回运费我们承担）"),
        RefundKind("seven_days", "七天无理由", "同意退货并给出退货地址，收到退回拆包检查后确认"),
        RefundKind("lost_parcel", "丢件/未收到货", "核实物流并登记丢件，补发告知单号或全额退款"),
        RefundKind("other", "其他", "按顾客要求酌情处理，先安抚再核实"),
    )
}
# Words of the buyer's stated reason, checked in this order (the first that matches wins).
_REASON_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("out_of_stock", ("缺货", "没货", "无货")),
    ("short_shipped", ("少件", "漏发", "少发", "数量不符")),
    ("wrong_item", ("发错", "错发", "颜色/尺码不符", "与订单不符")),
    ("quality", ("质量", "破损", "瑕疵", "做工", "描述不符", "假冒")),
    ("lost_parcel", ("未收到", "没收到", "丢件", "物流一直", "快递一直")),
    ("seven_days", ("七天无理由", "7天无理由", "不喜欢", "不合适")),
    ("unshipped_change_mind", ("不想要", "拍错", "多拍", "协商一致")),
)


def classify(reason: str, shipped: bool) -> RefundKind:
    """The kind of a refund from its stated reason and whether the goods left."""
    for code, words in _REASON_WORDS:
        if any(word in reason for word in words):
            if code == "seven_days" and not shipped:
                return KINDS["unshipped_change_mind"]  # nothing to return yet
            return KINDS[code]
    return KINDS["unshipped_change_mind"] if not shipped else KINDS["other"]


def margin_reached(
    deadline: datetime | None, now: datetime, margins: Sequence[timedelta]
) -> timedelta | None:
    """The smallest margin the time left is within (None: not yet within any, or no timer).

    Past the deadline counts as the smallest margin: the case is as urgent as it gets.
    """
    if deadline is None:
        return None
    left = deadline - now
    within = [m for m in margins if left <= m]
    return min(within) if within else None


def decided_by_timer(
    before: str | None, deadline: datetime | None, after: str, changed_at: datetime
) -> bool:
    """Whether a change is the platform acting because the seller's time ran out."""
    return (
        before in SELLER_TURN
        and deadline is not None
        and changed_at >= deadline
        and after in (SUCCESS, WAIT_BUYER_RETURN_GOODS)
    )


def time_left_words(deadline: datetime | None, now: datetime) -> str:
    """The time left before the platform decides, as the team says it."""
    if deadline is None:
        return "无时限"
    seconds = int((deadline - now).total_seconds())
    if seconds <= 0:
        return "已超时"
    hours, rest = divmod(seconds, 3600)
    return f"剩 {hours} 小时 {rest // 60} 分" if hours else f"剩 {rest // 60} 分钟"


STATUS_NAMES = {
    WAIT_SELLER_AGREE: "等待卖家同意",
    WAIT_BUYER_RETURN_GOODS: "等待买家退货",
    WAIT_SELLER_CONFIRM_GOODS: "等待卖家确认收货",
    SELLER_REFUSE_BUYER: "卖家已拒绝",
    CLOSED: "退款关闭",
    SUCCESS: "退款成功",
}
# Once the goods are back, the next step is the receipt, whatever the kind.
RECEIPT_STEP = "退货已寄回：到货后拆包检查，在时限前确认收货；有问题拒绝并写明理由"


def next_step(kind: str, status: str) -> str:
    """What to do next for a refund of this kind in this status."""
    if status == WAIT_SELLER_CONFIRM_GOODS:
        return RECEIPT_STEP
    return KINDS.get(kind, KINDS["other"]).next_step


def alert_line(
    kind: str, status: str, refund_id: str, tid: str, fee: str, deadline: datetime, now: datetime
) -> str:
    """One staff line for a refund whose timer runs out soon (no buyer in it)."""
    named = KINDS.get(kind, KINDS["other"]).name
    return (
        f"{named}·{STATUS_NAMES.get(status, status)}：退款 {refund_id}（订单 {tid}，¥{fee}）"
        f"{time_left_words(deadline, now)}，超时平台将直接判给买家。"
        f"下一步：{next_step(kind, status)}"
    )


AGREE = "agree"  # refund the money, nothing comes back
AGREE_RETURN = "agree_return"  # the buyer sends the goods back first
CONFIRM_RECEIPT = "confirm_receipt"  # the goods are back: refund
REFUSE = "refuse"  # with a reason the buyer sees; always a person's decision
INTERCEPT = "intercept"  # stop the parcel in transit and have it come back; a person's call
# What an agent can have carried out in one command.
ACTIONS = (AGREE, AGREE_RETURN, REFUSE, INTERCEPT)
# Kinds where the goods in transit are not wanted: stopping the parcel saves its return.
_INTERCEPTABLE = frozenset({"unshipped_change_mind", "seven_days", "wrong_item", "out_of_stock"})
# What the flow chart does for each kind, when the seller agrees.
_AGREEMENT = {
    "unshipped_change_mind": AGREE,
    "out_of_stock": AGREE,
    "lost_parcel": AGREE,
    "short_shipped": AGREE,
    "wrong_item": AGREE_RETURN,
    "quality": AGREE_RETURN,
    "seven_days": AGREE_RETURN,
}


@dataclass(frozen=True, slots=True)
class Proposal:
    """What the rules propose for a refund now, and whether it may be done without a person."""

    action: str | None
    automatic: bool
    why: str


def propose(
    kind: str,
    status: str,
    has_good_return: bool,
    fee: Decimal,
    auto: Mapping[str, float],
    delivered_at: datetime | None = None,
    in_transit: bool = False,
) -> Proposal:
    """The next platform action for a refund, automatic only where the shop allowed its kind
    up to an amount; receipts always need a person (the parcel is opened and checked), and so
    does a refusal: "not received" against a parcel our tracking saw signed for."""
    if status == WAIT_SELLER_CONFIRM_GOODS:
        return Proposal(CONFIRM_RECEIPT, False, "退货到了先拆包检查，再确认收货")
    if status != WAIT_SELLER_AGREE:
        return Proposal(None, False, "不在卖家处理的阶段")
    if kind == "lost_parcel" and delivered_at is not None:
        return Proposal(REFUSE, False, refusal_reason(delivered_at))
    if in_transit and kind in _INTERCEPTABLE:
        return Proposal(INTERCEPT, False, "包裹还在路上：先拦截退回，拦截结果出来再处理退款")
    action = _AGREEMENT.get(kind)
    if action is None:
        return Proposal(None, False, "按顾客要求酌情处理，由客服决定")
    if has_good_return and action == AGREE:
        action = AGREE_RETURN  # the buyer asked to send the goods back
    limit = auto.get(kind)
    if limit is None:
        return Proposal(action, False, "本店未开启这类退款的自动处理")
    if fee > Decimal(str(limit)):
        return Proposal(action, False, f"金额 ¥{fee} 超过自动处理上限 ¥{limit:g}")
    return Proposal(action, True, "本店允许自动处理")


def refusal_reason(delivered_at: datetime) -> str:
    """What the buyer reads when "not received" is refused: the signing our tracking saw."""
    signed = delivered_at.astimezone(CHINA)
    return (
        f"物流信息显示包裹已于 {signed:%m月%d日 %H:%M} 签收。请先核实是否家人、快递柜或驿站代收；"
        "如确实没有收到，请提供情况说明，我们会联系快递核实处理。"
    )
