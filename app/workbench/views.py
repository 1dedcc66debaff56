"""How the workbench shows things: Beijing time, masked buyers, the team's own words."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from aftercare.case_work import Worked
from aftercare.clock import CHINA
from aftercare.privacy import mask_name, mask_phone, redact
from aftercare.rules.refunds import KINDS
from aftercare.rules.workbench import OUTCOME_NAMES, CaseOutcome
from aftercare.wording import ANOMALY_NAMES, NEXT_ACTION_NAMES, TRADE_STATUS_NAMES, purpose_name

KIND_NAMES = {
    "review": "中差评跟进",
    "refund": "退款/退货",
    "handoff": "千牛联系",
    **ANOMALY_NAMES,
}
ACTION_NAMES = {
    **NEXT_ACTION_NAMES,
    "await_explanation": "等待公开解释",
    "ask_warehouse": "问仓库",
    "push_courier": "催快递",
    "decide_lost_or_reship": "判定丢件或补发",
    "contact_buyer_and_courier": "联系买家与快递",
    "ask_buyer_why_refused": "问买家拒签原因",
    "track_return": "跟踪退回",
    "confirm_proxy_signature": "确认代签",
    "register_loss_and_reship": "登记丢件并补发",
    "track_by_hand": "人工查件",
    "ask_warehouse_for_waybill": "问仓库要单号",
    "check_courier_reply": "查看快递答复",
    "track_reship": "跟踪补发包裹",
    "confirm_compensation": "确认补偿到位",
    "answer_refund": "处理退款",
    "send_in_chat": "在千牛发送",
}
SEVERITY_NAMES = {"minor": "一般", "serious": "严重"}
STATUS_NAMES = {
    "pending": "待发送",
    "sending": "发送中",
    "sent": "已发送",
    "failed": "失败",
    "suppressed": "未发送",
    "delivered": "已签收",
    "in_transit": "运输中",
}


def bj(moment: datetime | None, fmt: str = "%m-%d %H:%M") -> str:
    """A moment in Beijing time ('' for none)."""
    return "" if moment is None else moment.astimezone(CHINA).strftime(fmt)


def event_name(action: str) -> str:
    """A history line's action in the team's words."""
    if action.startswith("contact:"):
        outcome = action.removeprefix("contact:")
        named = OUTCOME_NAMES.get(CaseOutcome(outcome)) if outcome in set(CaseOutcome) else None
        return f"联系结果·{named or outcome}"
    return EVENT_NAMES.get(action, action)


EVENT_NAMES = {
    "opened": "开案",
    "closed": "结案",
    "reopened": "重新打开",
    "escalated": "升级",
    "note": "备注",
    "assigned": "分配",
    "reshipped": "补发",
}


def worked_words(worked: Worked) -> str:
    """What recording an outcome did, as the agent reads it."""
    words = []
    if worked.reship:
        words.append(f"补发 {worked.reship} 已登记并开始跟踪，买家会收到一次单号通知。")
    if worked.closed:
        words.append("已记录，案例已关闭。")
    elif worked.next_action:
        action = ACTION_NAMES.get(worked.next_action, worked.next_action)
        words.append(f"已记录。下一步：{action}（北京时间 {bj(worked.next_at, '%Y-%m-%d %H:%M')}）")
    return "".join(words)


def data_uri(png: bytes) -> str:
    """A PNG inline in the page."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


FILTERS = {
    "bj": bj,
    "phone": mask_phone,
    "name": mask_name,
    "redact": redact,
    "kind": lambda k: KIND_NAMES.get(k or "", k or ""),
    "action": lambda a: ACTION_NAMES.get(a or "", a or ""),
    "outcome": lambda o: OUTCOME_NAMES.get(CaseOutcome(o), o) if o in set(CaseOutcome) else o,
    "severity": lambda s: SEVERITY_NAMES.get(s or "", s or ""),
    "status": lambda s: STATUS_NAMES.get(s or "", s or ""),
    "purpose": purpose_name,
    "refund_kind": lambda k: KINDS.get(k, KINDS["other"]).name,
    "event": event_name,
    "trade_status": lambda s: TRADE_STATUS_NAMES.get(s or "", s or ""),
}


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the queue, whatever its kind: where it goes and when it is due."""

    kind: str
    shop: str
    link: str
    ref: str
    title: str
    due_at: datetime | None
    deadline_at: datetime | None
    next_action: str | None
    assigned_to: str | None = None
    severity: str = "minor"
    tid: str | None = None
    amount: Decimal | None = None
    handoff_id: int | None = None
    text: str = ""


def due_order(row: Row) -> tuple[bool, datetime]:
    """Soonest first; rows with no time last."""
    moment = row.due_at or row.deadline_at
    return (moment is None, moment or datetime.max.replace(tzinfo=CHINA))
