"""What an agent does next for each anomaly, and which notice the buyer gets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from aftercare.rules.anomalies import AnomalyKind, Severity


@dataclass(frozen=True, slots=True)
class Play:
    """The prescribed next step for a case and the notice template for the buyer, if any."""

    next_action: str
    instruction: str
    due_in: timedelta
    notice: str | None
    closes_on_delivery: bool = True
    clears_itself: bool = False  # closes when the anomaly is no longer seen


_NOW = timedelta(0)
PLAYS: dict[tuple[AnomalyKind, Severity], Play] = {
    (AnomalyKind.NO_TRACKING, Severity.MINOR): Play(
        "ask_warehouse",
        "问仓库是否漏发/缺货，安抚买家；如快递爆仓，24-48小时内给买家答复，1-2个工作日复查",
        _NOW,
        "logistics_no_tracking",
        clears_itself=True,
    ),
    (AnomalyKind.STALLED, Severity.MINOR): Play(
        "push_courier",
        "联系快递催件，告知买家进展，持续跟踪直到签收",
        _NOW,
        "logistics_stalled_minor",
        clears_itself=True,
    ),
    (AnomalyKind.STALLED, Severity.SERIOUS): Play(
        "decide_lost_or_reship",
        "向快递核实是否丢件或爆仓，24-48小时内答复买家，决定丢件处理与补发",
        _NOW,
        "logistics_stalled_serious",
        clears_itself=True,
    ),
    (AnomalyKind.PROBLEM, Severity.SERIOUS): Play(
        "contact_buyer_and_courier",
        "疑难件：电话+旺旺联系买家核对地址电话；3天联系不上让快递一周内退回；快递原因则道歉并催件",
        _NOW,
        "logistics_problem",
        clears_itself=True,
    ),
    (AnomalyKind.REFUSED, Severity.SERIOUS): Play(
        "ask_buyer_why_refused",
        "联系买家了解拒收原因，确认退款或重新发货，跟踪退回件",
        _NOW,
        "logistics_refused",
    ),
    (AnomalyKind.RETURNING, Severity.MINOR): Play(
        "track_return",
        "跟踪退回件，联系买家确认补发或退款，退回签收后登记",
        timedelta(hours=4),
        "logistics_returning",
    ),
    (AnomalyKind.SIGNED_BY_PROXY, Severity.MINOR): Play(
        "confirm_proxy_signature",
        "非本人签收：先问买家是否家人/同事/门卫/驿站代收，再向快递核实，然后告知买家",
        _NOW,
        "logistics_signed_by_proxy",
        closes_on_delivery=False,
    ),
    (AnomalyKind.OVERDUE, Severity.MINOR): Play(
        "push_courier",
        "超出该省正常时效：催件并告知买家，持续跟踪直到签收",
        timedelta(hours=2),
        "logistics_overdue",
    ),
    (AnomalyKind.EXPIRED, Severity.SERIOUS): Play(
        "register_loss_and_reship",
        "丢件：核实登记，补发并告知新单号，跟踪并回访；每月汇总丢件",
        _NOW,
        "logistics_lost",
        clears_itself=True,
    ),
    (AnomalyKind.UNTRACKABLE, Severity.MINOR): Play(
        "track_by_hand",
        "无法自动查件（快递公司无法识别或查询结果无法读取）：核对快递公司与单号，手动查件跟踪",
        _NOW,
        None,
        clears_itself=True,
    ),
    (AnomalyKind.SHIPPED_WITHOUT_WAYBILL, Severity.MINOR): Play(
        "ask_warehouse_for_waybill",
        "订单显示已发货却没有运单号：问仓库是否真的发出并补录单号；无需物流的商品核实后关闭",
        _NOW,
        None,
        closes_on_delivery=False,
    ),
}

# When several anomalies appear at once, only the most pressing one is told to the buyer.
NOTICE_PRIORITY: tuple[tuple[AnomalyKind, Severity], ...] = (
    (AnomalyKind.EXPIRED, Severity.SERIOUS),
    (AnomalyKind.STALLED, Severity.SERIOUS),
    (AnomalyKind.PROBLEM, Severity.SERIOUS),
    (AnomalyKind.REFUSED, Severity.SERIOUS),
    (AnomalyKind.RETURNING, Severity.MINOR),
    (AnomalyKind.SIGNED_BY_PROXY, Severity.MINOR),
    (AnomalyKind.NO_TRACKING, Severity.MINOR),
    (AnomalyKind.STALLED, Severity.MINOR),
    (AnomalyKind.OVERDUE, Severity.MINOR),
)


def play_for(kind: AnomalyKind, severity: Severity) -> Play:
    """Return the play for an anomaly."""
    return PLAYS[(kind, severity)]
