"""Acting on refunds the shop lets the pipeline answer: re-read first, act on that version."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from aftercare.clients.platform import TAOBAO
from aftercare.clients.taobao_refund_actions import ReturnAddress, refund_detail
from aftercare.clock import CHINA
from aftercare.refund_answers import Answer, answer_refund
from aftercare.rules.refunds import AGREE, AGREE_RETURN, propose
from aftercare.settings import Settings, get_settings
from aftercare.shop_context import shop_context
from aftercare.store import refund_actions as actions
from aftercare.store.alerts import queue_alerts
from models.db import session_scope
from tasks import limits
from tasks.policy import pipeline_task

# A claim older than this never finished: the process died between the claim and the outcome.
STUCK_AFTER = timedelta(minutes=30)
STUCK_HEADING = "退款操作中断，请到平台核对是否已生效"
INTERCEPT_WORDS = {
    "INTERCEPT_SUCCESS": "拦截成功，包裹退回中：收到后拆包检查，再同意退款",
    "INTERCEPT_FAILED": "拦截失败，包裹仍会派送：请联系买家拒收或收货后退回",
}


@pipeline_task("act-on-refunds")
def act_on_refunds(as_of: datetime) -> dict[str, int]:
    """Carry out the automatic answers; each is claimed first, so none is ever given twice."""
    settings = get_settings()
    counts: Counter[str] = Counter()
    with session_scope(settings.database_url) as session:
        candidates = actions.waiting_for_answer(session=session)
    client = limits.taobao(settings)
    for refund in candidates:
        plan = propose(
            refund.kind, refund.status, refund.has_good_return, refund.fee,
            settings.refunds.auto_for(refund.shop_code), refund.delivered_at,
            refund.in_transit,
        )  # fmt: skip
        if plan.action not in (AGREE, AGREE_RETURN) or not plan.automatic:
            counts["left_to_people"] += plan.action is not None
            continue
        if refund.platform != TAOBAO:  # the answers on other platforms are the agents' yet
            counts["left_to_people"] += 1
            continue
        address = settings.refunds.return_addresses.get(refund.shop_code)
        if plan.action == AGREE_RETURN and address is None:
            counts["no_return_address"] += 1
            continue
        to = ReturnAddress(address.name, address.address, address.mobile) if address else None
        answer = Answer(plan.action, address=to)
        counts[answer_refund(settings, refund, answer, as_of, "pipeline", client)] += 1
    counts["answers_interrupted"] = _tell_interrupted(settings.database_url, as_of)
    counts["intercept_results"] = _follow_intercepts(settings, as_of)
    return dict(counts)


def _follow_intercepts(settings: Settings, now: datetime) -> int:
    """Read each intercept's result once it is in; staff hear it once. Return how many."""
    with session_scope(settings.database_url) as session:
        waiting = actions.intercepts_waiting(session=session)
    results = []
    client = limits.taobao(settings)
    for code, action in waiting:
        key = shop_context(settings, code).session_key()
        state = refund_detail(client, key, action.refund_id).intercept_status
        if state in INTERCEPT_WORDS:
            results.append((code, action, state))
    with session_scope(settings.database_url) as session:
        for _, action, state in results:
            actions.finish_action(
                session=session, shop_id=action.shop_id, refund_id=action.refund_id,
                action=action.action, status="done", reason=state, now=now,
            )  # fmt: skip
        queue_alerts(session=session, rows=[
            {
                "dedupe_key": f"refund-intercept:{code}:{action.refund_id}",
                "topic": code,
                "heading": "退款拦截结果",
                "line": f"退款 {action.refund_id}：{INTERCEPT_WORDS[state]}",
            }
            for code, action, state in results
        ], now=now)  # fmt: skip
    return len(results)


def _tell_interrupted(url: str, now: datetime) -> int:
    """Tell staff once of each answer claimed but never finished; return how many there are."""
    with session_scope(url) as session:
        stuck = actions.stuck_actions(session=session, claimed_before=now - STUCK_AFTER)
        rows = [
            {
                "dedupe_key": f"refund-action:{code}:{a.refund_id}:{a.action}",
                "topic": code,
                "heading": STUCK_HEADING,
                "line": f"退款 {a.refund_id}：{a.actor} 于 "
                f"{a.updated_at.astimezone(CHINA):%m-%d %H:%M} 开始的「{a.action}」没有结果，"
                "可能已在平台生效。请到平台查看该退款，不要重复操作。",
            }
            for code, a in stuck
        ]
        queue_alerts(session=session, rows=rows, now=now)
    return len(stuck)
