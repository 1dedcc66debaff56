"""Reviewing just-checked parcels: anomalies found, cases opened or closed, buyers told."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlmodel import Session

from aftercare.rules import message_keys
from aftercare.rules.anomalies import detect_anomalies
from aftercare.rules.cases import plan_cases
from aftercare.rules.notices import masked_reach, sms_blocker
from aftercare.rules.tracking import ShipmentStatus
from aftercare.settings import ChannelSettings, LogisticsSettings
from aftercare.store.cases import apply_changes, load_parcels
from aftercare.store.outbox import Recipient, enqueue, message_row


def review_parcels(
    *,
    session: Session,
    ids: list[int],
    as_of: datetime,
    thresholds: LogisticsSettings,
    channels: ChannelSettings | None = None,
) -> dict[str, int]:
    """Detect anomalies of just-recorded parcels, open or update cases, queue buyer notices."""
    counts: Counter[str] = Counter()
    parcels = load_parcels(session=session, ids=ids)
    plans = []
    for parcel in parcels:
        anomalies = detect_anomalies(parcel.facts, as_of, thresholds)
        counts.update(f"anomaly:{a.kind}" for a in anomalies)
        delivered = parcel.facts.status is ShipmentStatus.DELIVERED
        observed = parcel.facts.check_failures == 0
        plans.append((parcel, plan_cases(parcel.cases, anomalies, delivered, observed)))
        counts.update(f"case:{c.action}" for c in plans[-1][1].changes)
    case_ids = apply_changes(
        session=session, plans=[(p, plan.changes) for p, plan in plans], now=as_of
    )
    rows = []
    for parcel, plan in plans:
        oaid = (
            parcel.oaid
            if channels and masked_reach(channels, parcel.shop_code, "logistics")
            else None
        )
        recipient = Recipient(
            shop_id=parcel.shop_id,
            customer_id=parcel.customer_id,
            order_id=parcel.order_id,
            phone=parcel.phone,
            blocked_because=sms_blocker(
                parcel.phone, parcel.phone_masked, parcel.sms_enabled, oaid
            ),
            oaid=oaid,
        )
        for notice in plan.notices:
            rows.append(
                message_row(
                    key=message_keys.logistics_notice(
                        parcel.shop_code,
                        parcel.courier_name,
                        parcel.waybill,
                        notice.kind,
                        notice.severity,
                    ),
                    template=notice.template,
                    params={
                        "shop": parcel.shop_name,
                        "courier": parcel.courier_name,
                        "waybill": parcel.waybill,
                    },
                    recipient=recipient,
                    now=as_of,
                    case_id=case_ids.get(parcel.case_key(notice.kind)),
                    suppressed_because=notice.suppressed_reason,
                    # A parcel in trouble is news the buyer should get without delay.
                    urgent=True,
                )
            )
    counts["notices:new"] += enqueue(session=session, rows=rows)
    return dict(counts)
