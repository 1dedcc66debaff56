"""Return parcels tracked with the couriers: staff told when one arrives or goes wrong."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from aftercare.clients.errors import AuthenticationError, ProviderError
from aftercare.clients.kuaidi100 import Kuaidi100Client
from aftercare.clock import CHINA
from aftercare.rules.anomalies import ShipmentFacts, detect_anomalies
from aftercare.rules.couriers import courier_code
from aftercare.rules.refunds import OPEN, time_left_words
from aftercare.rules.tracking import ShipmentStatus, normalise_status, says_less
from aftercare.settings import Settings, get_settings
from aftercare.store.alerts import queue_alerts
from aftercare.store.return_parcels import (
    ReturnToCheck,
    due_returns,
    note_returns,
    record_return,
)
from models.db import session_scope
from tasks import limits
from tasks.policy import pipeline_task

ARRIVED = "退货已签收：请拆包验货，在平台时限前确认收货（有问题写明理由拒绝）"
WRONG = "退货物流异常：请联系买家或快递核实"
ANOMALY_WORDS = {
    "no_tracking": "寄出后一直没有揽收扫描",
    "stalled": "物流停滞",
    "problem": "快递报告问题件",
    "refused": "被拒收",
    "returning": "退回买家",
    "overdue": "超出正常时效",
    "expired": "长时间没有物流信息",
    "untrackable": "查不到物流",
}


@pipeline_task("track-returns")
def track_returns(as_of: datetime) -> dict[str, int]:
    """Note new return waybills, check the due ones, tell staff of arrivals and anomalies."""
    settings = get_settings()
    with session_scope(settings.database_url) as session:
        noted = note_returns(session=session, now=as_of)
        due = due_returns(session=session, now=as_of, limit=settings.refunds.returns_per_run)
    counts: Counter[str] = Counter(returns_noted=noted)
    courier = limits.kuaidi100(settings)
    alerts: list[dict[str, str]] = []
    for parcel in due:
        values, told, figure = _check(settings, courier, parcel, as_of)
        counts[figure] += 1
        alerts += told
        with session_scope(settings.database_url) as session:
            record_return(session=session, parcel_id=parcel.id, values=values)
    with session_scope(settings.database_url) as session:
        counts["return_alerts_queued"] = queue_alerts(session=session, rows=alerts, now=as_of)
    return dict(counts)


def _check(
    settings: Settings, courier: Kuaidi100Client, parcel: ReturnToCheck, now: datetime
) -> tuple[dict[str, Any], list[dict[str, str]], str]:
    """Ask the courier about one return; (what to record, staff lines, the figure)."""
    if parcel.refund_status not in OPEN:  # the refund ended: the parcel is no one's concern
        return {"next_check_at": None}, [], "returns_done_with_refund"
    later = now + timedelta(hours=settings.refunds.return_check_hours)
    try:
        code = courier_code(parcel.courier_name) or next(
            iter(courier.detect_courier(parcel.waybill)), None
        )
        if code is None:
            raise ProviderError(
                "the courier of the return waybill is not recognised", provider="kuaidi100"
            )
        result = courier.query(code, parcel.waybill, phone=parcel.phone)
    except AuthenticationError:
        raise
    except ProviderError as error:
        failures = parcel.check_failures + 1
        values = {"check_failures": failures, "check_error": error.reason[:500],
                  "last_checked_at": now, "next_check_at": later}  # fmt: skip
        facts = _facts(parcel, ShipmentStatus(parcel.status), None, parcel.event_count,
                       parcel.last_event_at, failures)  # fmt: skip
        return values, _anomalies(settings, parcel, facts, now), "return_check_failed"
    newest = result.events[-1] if result.events else None
    last_scan = newest.occurred_at if newest else None
    if says_less(last_scan, parcel.last_event_at):
        return {"last_checked_at": now, "next_check_at": later}, [], "return_older_answer"
    status = normalise_status(result.state, newest.status_code if newest else None,
                              len(result.events))  # fmt: skip
    values = {
        "status": status.value, "courier_state": result.state,
        "event_count": len(result.events), "last_event_at": last_scan,
        "check_failures": 0, "check_error": None, "last_checked_at": now,
        "next_check_at": None if status is ShipmentStatus.DELIVERED else later,
    }  # fmt: skip
    if status is ShipmentStatus.DELIVERED:
        values["delivered_at"] = arrived = last_scan or now
        return values, [_arrived(parcel, arrived, now)], "returns_delivered"
    facts = _facts(parcel, status, result.state, len(result.events), last_scan, 0)
    return values, _anomalies(settings, parcel, facts, now), "returns_in_transit"


def _facts(
    parcel: ReturnToCheck,
    status: ShipmentStatus,
    state: int | None,
    events: int,
    last: datetime | None,
    failures: int,
) -> ShipmentFacts:
    return ShipmentFacts(
        shipped_at=parcel.seen_at, status=status, courier_state=state, event_count=events,
        last_event_at=last, province=None, signed_by_proxy=False, check_failures=failures,
    )  # fmt: skip


def _arrived(parcel: ReturnToCheck, at: datetime, now: datetime) -> dict[str, str]:
    return {
        "dedupe_key": f"return-arrived:{parcel.shop_code}:{parcel.refund_id}",
        "topic": parcel.shop_code,
        "heading": ARRIVED,
        "line": f"退款 {parcel.refund_id}（订单 {parcel.tid}）的退货 {parcel.courier_name} "
        f"{parcel.waybill} 于 {at.astimezone(CHINA):%m-%d %H:%M} 签收，"
        f"确认收货{time_left_words(parcel.seller_deadline, now)}。",
    }


def _anomalies(
    settings: Settings, parcel: ReturnToCheck, facts: ShipmentFacts, now: datetime
) -> list[dict[str, str]]:
    return [
        {
            "dedupe_key": f"return-anomaly:{parcel.shop_code}:{parcel.refund_id}:{found.kind}",
            "topic": parcel.shop_code,
            "heading": WRONG,
            "line": f"退款 {parcel.refund_id}（订单 {parcel.tid}）的退货 {parcel.courier_name} "
            f"{parcel.waybill}：{ANOMALY_WORDS.get(found.kind, found.kind)}（{found.detail}）",
        }
        for found in detect_anomalies(facts, now, settings.logistics)
    ]
