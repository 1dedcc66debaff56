"""Which parcel cases staff hear about at once, and how the alert reads."""

from __future__ import annotations

from aftercare.display import robot_text
from aftercare.rules.anomalies import AnomalyKind
from aftercare.wording import ANOMALY_NAMES

# The parcel is on its way back or stuck at the courier: a call today can still save the sale.
URGENT_KINDS = (AnomalyKind.REFUSED.value, AnomalyKind.RETURNING.value, AnomalyKind.PROBLEM.value)
HEADING = "{topic} 紧急包裹 {count} 个，请立即联系买家和快递"


def parcel_alert_line(case_id: int, kind: str, courier: str, waybill: str) -> str:
    """One line of the staff alert about an urgent parcel case."""
    name = ANOMALY_NAMES.get(kind, kind)
    return f"- 案例 #{case_id} {name}｜{robot_text(courier, 20)} {robot_text(waybill, 40)}"
