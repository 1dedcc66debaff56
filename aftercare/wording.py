"""The team's words (Chinese) for the project's internal keys and recorded reasons."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

from aftercare.clock import CHINA
from aftercare.rules.refunds import KINDS as REFUND_KINDS

CJK = re.compile(r"[\u3400-\u9fff]")

# The pipelines as the team names them, in alerts, run reports and the daily report.
PIPELINE_NAMES = {
    "logistics-check": "物流检查",
    "unpaid-order-reminders": "催付提醒",
    "bad-review-followups": "中差评跟进",
    "care-messages": "关怀短信",
    "dispatch-messages": "短信发送",
    "daily-after-sales-report": "售后日报",
    "purge-personal-data": "个人信息清理",
    "new-product-preview": "新品预告",
    "record-followup": "记录回访结果",
    "resync-window": "补拉订单/评价",
    "recheck-shipments": "重查物流",
    "resend-failed-messages": "重发失败短信",
    "replay-pipeline": "补跑流水线",
    "platform-events": "平台消息",
    "parcel-pushes": "物流推送处理",
    "refunds-and-returns": "退款退货",
}
ANOMALY_NAMES = {
    "no_tracking": "发货后无物流",
    "stalled": "物流停滞",
    "problem": "疑难件",
    "refused": "拒签",
    "returning": "退回中",
    "signed_by_proxy": "他人代签",
    "overdue": "超时未送达",
    "expired": "长期无信息/疑似丢件",
    "untrackable": "无法查询的快递",
    "shipped_without_waybill": "已发货但无单号",
}
PROVIDER_NAMES = {
    "sms": "短信服务商",
    "kuaidi100": "快递100",
    "taobao": "淘宝开放平台",
    "robot": "群机器人",
}
# Where a record we could not use came from.
SOURCE_NAMES = {
    "taobao.trade": "淘宝订单",
    "taobao.rating": "淘宝评价",
    "taobao.waybill": "淘宝运单号",
    "kuaidi100.scan": "快递100轨迹",
    "kuaidi100.state": "快递100状态",
    "member.csv": "会员导入",
    "sms_reply": "短信回复",
    "sms_uplink": "短信上行",
}
TRADE_STATUS_NAMES = {
    "WAIT_BUYER_PAY": "等待买家付款",
    "WAIT_SELLER_SEND_GOODS": "买家已付款",
    "SELLER_CONSIGNED_PART": "部分发货",
    "WAIT_BUYER_CONFIRM_GOODS": "卖家已发货",
    "TRADE_BUYER_SIGNED": "买家已签收",
    "TRADE_FINISHED": "交易成功",
    "TRADE_CLOSED": "交易关闭",
    "TRADE_CLOSED_BY_TAOBAO": "交易被关闭",
}
NEXT_ACTION_NAMES = {
    "first_contact": "首次联系",
    "call_again": "再次致电",
    "offer_compensation": "提出补偿",
    "follow_up_again": "再次跟进",
    "check_revision": "查看是否改评",
    "explain": "公开解释",
}
TOUCHPOINT_NAMES = {
    "shipped": "发货通知",
    "delivered": "签收关怀",
    "revisit": "回访",
    "confirmed": "确认收货感谢",
    "birthday": "生日祝福",
    "holiday": "节日问候",
    "new_product": "新品预告",
}
PURPOSE_NAMES = {
    **{f"logistics_{kind}": f"物流通知·{name}" for kind, name in ANOMALY_NAMES.items()},
    **{f"logistics_{kind}_minor": f"物流通知·{name}" for kind, name in ANOMALY_NAMES.items()},
    **{
        f"logistics_{kind}_serious": f"物流通知·{name}（严重）"
        for kind, name in ANOMALY_NAMES.items()
    },
    "logistics_lost": "物流通知·疑似丢件",
    "unpaid_automatic": "催付·首次提醒",
    "unpaid_pre_close": "催付·关单前提醒",
    "unpaid_group_buy": "催付·拼团提醒",
    "review_first_contact": "中差评·首次联系",
    "review_revision_reminder": "中差评·改评提醒",
    **{f"care_{point}": f"关怀·{name}" for point, name in TOUCHPOINT_NAMES.items()},
    "care_revisit_marketing": "关怀·回访（营销）",
    **{f"refund_{code}": f"退款通知·{kind.name}" for code, kind in REFUND_KINDS.items()},
    "logistics_reshipped": "补发通知",
}
# The call list's columns as the team's spreadsheet (差评台账) names them.
CALL_COLUMNS = {
    "case": "案例",
    "shop": "店铺",
    "buyer": "买家",
    "phone": "电话",
    "rating": "评价",
    "cause": "原因",
    "next": "下一步",
    "when": "联系时间",
    "script": "话术",
    "remedy": "补救",
    "deadline": "截止",
}
RATING_NAMES = {"neutral": "中评", "bad": "差评"}
# Figures of the run reports, by the key the flow returns.
FIGURE_NAMES = {
    # Refunds and returns.
    "refunds_new": "新退款",
    "refunds_changed": "有变化的退款",
    "refunds_older_ignored": "迟到的旧版本（未覆盖）",
    "refunds_rejected": "无法读取的退款",
    "buyers_told": "已通知买家的退款申请",
    "answers_interrupted": "中断未知结果的退款操作",
    "returns_noted": "新登记的退货包裹",
    "returns_delivered": "退货已签收",
    "returns_in_transit": "退货在途",
    "return_check_failed": "退货查询失败",
    "return_older_answer": "退货旧信息（未覆盖）",
    "returns_done_with_refund": "退款已结束的退货",
    "return_alerts_queued": "退货提醒",
    "problems_registered": "新登记的问题",
    "lost_parcels_this_month": "本月丢件",
    "quality_problems_this_week": "本周质量问题",
    "decided_by_timer_now": "本次发现被平台超时判给买家的退款",
    "watched": "临近时限的退款",
    "alerts_queued": "排队提醒员工",
    "past_deadline": "已过时限",
    "refunds_open": "处理中的退款",
    "agree": "已自动同意退款",
    "agree_return": "已自动同意退货",
    "left_to_people": "待客服决定的退款",
    "no_return_address": "缺少退货地址，未自动同意退货",
    "already_answered": "已处理过（不重复操作）",
    "refund_changed": "退款刚有变化，下次重新判断",
    "action_failed": "平台操作失败（交客服处理）",
    "soonest_time_left": "最紧的退款剩余时间",
    "refunds_decided_by_timer": "累计被平台超时判定的退款",
    # The platform's message stream.
    "stream_alive": "消息长连接在线（未轮询）",
    "polled_as_fallback": "长连接无响应，改为轮询",
    # The platform's message channel.
    "shops_permitted": "新开通消息的店铺",
    "received": "收到的平台消息",
    "repeated": "重复投递的消息",
    "unreadable": "无法读取的消息",
    "messages_claimed": "取出待处理的消息",
    "without_reread": "无需回查的消息",
    "reread_failed": "回查失败（稍后重试）",
    "trades re-read": "回查的订单",
    "ratings re-read": "回查的评价",
    "trade unknown": "平台已查不到的订单",
    "refunds re-read": "回查的退款",
    "refund unknown": "读取不到的退款",
    "trade refused": "数据有误的订单",
    "reminder_runs_scheduled": "按到期分钟安排的催付运行",
    "shops": "店铺",
    "trades": "订单",
    "ratings": "评价",
    "trades_synced": "同步的订单",
    "new_shipments": "新包裹",
    "trades_rejected": "跳过的错误订单",
    "rejected": "跳过的错误数据",
    "unusable_waybills": "无法使用的运单号",
    "shipped_without_waybill": "已发货但无单号",
    "windows": "同步时间段",
    "new_rows": "新记录",
    "shipments_due": "到期查询的包裹",
    "chunks_failed": "失败的分块",
    "checked": "已查询",
    "check_failed": "查询失败",
    "failed": "失败",
    "pushes": "收到的推送",
    "posted": "已发出",
    "digests": "合并发送的条数",
    "not_posted": "未发出（稍后重试）",
    "older_news": "迟到的旧推送（状态未变）",
    "claimed": "取出待发",
    "sent": "已发送",
    "unknown": "结果未知（待核对）",
    "expired": "错过发送时间",
    "deferred_quiet_hours": "免打扰时段，顺延",
    "deferred_min_gap": "与上一条间隔太短，顺延",
    "suppressed_opted_out": "买家已退订，未发",
    "precheck_failed": "发送前核对失败，稍后再试",
    "suppressed_by_live_check": "发送前核对后取消",
    "retry": "稍后重试",
    "in_doubt_claimed": "待核对结果的短信",
    "requeued": "未发出，重新排队",
    "confirmed_sent": "核对：已发出",
    "lookup_failed": "核对失败（仍待确认，不会重发）",
    "unconfirmable": "已无法确认是否发出",
    "pending": "待发送",
    "suppressed": "未发送（有原因）",
    "sending": "发送中",
    "matched": "符合条件",
    "too_soon_to_query": "30 分钟内查过，跳过",
    "would_recheck": "将重查",
    "rechecked": "已重查",
    "orders_due": "到期的未付款订单",
    "queued": "已排队",
    "new_conversions": "新增提醒后付款",
    "sent_today": "今日已发送",
    "paid_after_reminder_today": "今日提醒后付款",
    "recovered_amount_today": "今日挽回金额（元）",
    "orders_expired": "超过保存期的订单",
    "orders_kept_for_open_cases": "因未结案例保留的订单",
    "orders": "订单",
    "shipments": "包裹",
    "tracking_events": "物流轨迹",
    "reviews": "评价",
    "cases": "案例",
    "case_events": "案例记录",
    "customers": "会员",
    "outbox": "短信",
    "outbox_stale": "未发出的过期短信",
    "tracking_pushes": "物流推送",
    "platform_messages": "平台消息原文",
    "webhook_receipts": "回调记录",
    "rejected_records": "错误数据记录",
    "contact_slots": "联系次数记录",
    "contact_gaps": "联系间隔记录",
    "new": "新增",
    "opened": "新开",
    "escalated": "升级",
    "reopened": "重新打开",
    "closed": "关闭",
    "active": "已订阅",
    "refused": "拒绝订阅（改为主动查询）",
    "new_ratings": "新评价",
    "rejected_ratings": "跳过的错误评价",
    "cases_opened": "新开案例",
    "staff_alerts_queued": "排队的员工提醒",
    "staff_alerts": "已发的员工提醒",
    "settled": "已结算的案例",
    "calls_today": "今日待回访",
    "notices": "买家通知",
    "parcels due a check": "到期查询的包裹",
    "orders due a reminder": "到期催付的订单",
    "messages due to be sent": "到期发送的短信",
}
PREFIX_NAMES = {
    "anomaly": "异常",
    "suppressed": "未发送",
    "case": "案例",
    "push": "推送",
    "messages": "本次短信",
    "subscriptions": "快递100订阅",
    "notices": "买家通知",
    "purged": "已清理",
    "would purge": "将清理",
    "dispatch": "发送",
    "trades": "订单",
    "ratings": "评价",
    "requeued": "已重新排队",
    "would requeue": "将重新排队",
    "staff_alerts": "员工提醒",
}


def figure_name(key: str) -> str:
    """Name one figure of a run report as the team says it; an unknown key stays as it is."""
    if key in FIGURE_NAMES:
        return FIGURE_NAMES[key]
    if key.startswith("refund kind:"):
        return f"退款类型：{key.removeprefix('refund kind:')}"
    if key.endswith(" (would re-read)"):
        return f"{figure_name(key.removesuffix(' (would re-read)'))}（将重新读取）"
    if key == "left failed (may have been sent)":
        return "保持失败（可能已发出）"
    for prefix, name in PREFIX_NAMES.items():
        for separator in (":", " "):
            if key.startswith(prefix + separator):
                return f"{name}：{_inner(key[len(prefix) + 1 :].strip())}"
    touchpoint, found, decision = key.partition(":")  # care decisions: "<touch-point>:<why>"
    if found and touchpoint in TOUCHPOINT_NAMES:
        return f"{TOUCHPOINT_NAMES[touchpoint]}：{_inner(decision)}"
    return _inner(key)


def _inner(key: str) -> str:
    if key in FIGURE_NAMES:
        return FIGURE_NAMES[key]
    for names in (ANOMALY_NAMES, TOUCHPOINT_NAMES):
        if key in names:
            return names[key]
    if key.split("@")[0] in PURPOSE_NAMES:
        return purpose_name(key)
    return reason_text(key)


def purpose_name(purpose: str) -> str:
    """Name a message's purpose (its template) as the team says it."""
    return PURPOSE_NAMES.get(purpose.split("@")[0], purpose)


def beijing(stamp: str) -> str:
    """A recorded 'YYYY-MM-DD HH:MM' UTC time, in Beijing time."""
    moment = datetime.strptime(stamp, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
    return f"{moment.astimezone(CHINA):%m-%d %H:%M}"


Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], str]]


def _rule(pattern: str, say: str | Callable[[re.Match[str]], str]) -> Rule:
    said = say if callable(say) else (lambda match, text=say: text.format(*match.groups()))
    return re.compile(pattern + r"$", re.S), said


# Each reason the project records, read in the team's words. A provider's own words (after
# "sms:" or in an error) are kept literally: they are what its support desk will ask for.
REASONS: list[Rule] = [
    _rule(
        r"phone masked by the platform \(no decryption permission\): hand to an agent via IM",
        "手机号被平台加密（无解密权限）：转客服旺旺联系",
    ),
    _rule(r"no phone number on the order: hand to an agent via IM", "订单无手机号：转客服旺旺联系"),
    _rule(
        r"one notice per parcel at a time: (\w+) was chosen instead",
        lambda m: f"同一包裹一次只发一条通知：已改发「{ANOMALY_NAMES.get(m[1], m[1])}」",
    ),
    _rule(r"no marketing consent on record", "没有营销短信授权记录"),
    _rule(r"no phone number on file", "没有手机号"),
    _rule(r"invalid mobile number", "手机号无效"),
    _rule(r"daily marketing cap reached \((\d+) a day\)", "已达每日营销短信上限（每天 {} 条）"),
    _rule(r"weekly marketing cap reached \((\d+) a week\)", "已达每周营销短信上限（每周 {} 条）"),
    _rule(
        r"its case was closed before it was sent \((.*)\)",
        lambda m: f"发送前案例已关闭（{close_text(m[1])}）",
    ),
    _rule(
        r"receipt confirmed automatically by the platform, not by the buyer",
        "平台自动确认收货，不是买家确认",
    ),
    _rule(r"an after-sales case or a bad review is open for the order", "订单有未结的售后或中差评"),
    _rule(r"the buyer paid another order today or yesterday", "买家今天或昨天已付款另一笔订单"),
    _rule(
        r"the buyer was already reminded that day \(one per buyer and phone\)",
        "买家当天已催付过（每位买家、每个号码一天一条）",
    ),
    _rule(r"the buyer opted out of marketing messages", "买家已退订营销短信"),
    _rule(r"the buyer opted out of messages", "买家已退订短信"),
    _rule(r"the buyer opted out before it was sent", "发送前买家已退订"),
    _rule(r"the buyer or phone is on the shop's blacklist", "买家或号码在店铺黑名单中"),
    _rule(r"the shop has SMS notices turned off", "店铺已关闭短信通知"),
    _rule(r"the shop has SMS turned off", "店铺已关闭短信"),
    _rule(r"reminders are turned off for the shop", "店铺已关闭催付"),
    _rule(
        r"the order is no longer unpaid \((\w+)\)",
        lambda m: f"订单已不是待付款（{TRADE_STATUS_NAMES.get(m[1], m[1])}）",
    ),
    _rule(r"amount (\S+) outside (\S+)-(\S+)", "金额 {} 元不在催付范围 {}-{} 元内"),
    _rule(
        r"outside the send window \(quiet hours\) and the shop skips such messages",
        "在免打扰时段，店铺设置为不再补发",
    ),
    _rule(r"the order closes before the send window opens", "订单在可发送时段开始前就会关闭"),
    _rule(r"its time has passed", "已过发送时间"),
    _rule(
        r"missed its send window \(it expired at (\d{4}-\d\d-\d\d \d\d:\d\d) UTC\)",
        lambda m: f"错过发送时间（北京时间 {beijing(m[1])} 过期）",
    ),
    _rule(
        r"live check: the order is (\w+) \(paid or closed meanwhile\)",
        lambda m: f"发送前核对：订单已是「{TRADE_STATUS_NAMES.get(m[1], m[1])}」（已付款或已关闭）",
    ),
    _rule(
        r"never sent within the retention period; personal data purged",
        "保存期内未发出，个人信息已清除",
    ),
    _rule(r"queued again by an operator", "操作员已重新排队"),
    _rule(
        r"whether it was sent cannot be confirmed any more(.*)",
        lambda m: "已无法确认是否发出（服务商只能查询近期的发送记录），请人工核实，切勿重发",
    ),
    _rule(r"the order is unknown", "订单不存在"),
    _rule(r"the platform no longer knows the order", "平台已查不到该订单"),
    _rule(
        r"the lookup of (\S+) failed: (.*)",
        lambda m: f"查询 {m[1]} 的发送记录失败：{reason_text(m[2])}",
    ),
    _rule(r"(sms|kuaidi100|taobao|robot): (.*)", lambda m: f"{PROVIDER_NAMES[m[1]]}：{m[2]}"),
]
CLOSES: list[Rule] = [
    _rule(r"recovered(?:: the buyer revised the rating to good)?", "已改评（买家改为好评）"),
    _rule(r"explained", "已公开解释"),
    _rule(
        r"explanation no longer possible(?:: (.*))?",
        lambda m: "已无法解释" + (f"：{m[1]}" if m[1] else ""),
    ),
    _rule(r"the explanation window closed without an explanation", "解释期已过，未解释"),
    _rule(r"expired", "已过期"),
    _rule(r"(?:the parcel was )?delivered", "已签收"),
    _rule(r"no longer observed", "异常已消失"),
    _rule(r"cleared", "已恢复正常"),
    _rule(r"a waybill was entered", "已补填运单号"),
    _rule(r"resolved(?:: (.*))?", lambda m: "已解决" + (f"：{m[1]}" if m[1] else "")),
]


def _read(rules: list[Rule], text: str) -> str | None:
    for pattern, say in rules:
        if match := pattern.match(text):
            return say(match)
    return None


def reason_text(reason: str) -> str:
    """Read a recorded reason (not sent, failed, closed) in the team's words."""
    return _read(REASONS, reason) or _read(CLOSES, reason) or reason


def close_text(reason: str) -> str:
    """Read why a case was closed in the team's words."""
    return _read(CLOSES, reason) or _read(REASONS, reason) or reason
