"""Closing a parcel case takes back its unsent buyer notices, on both databases."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from aftercare.rules.anomalies import AnomalyKind, Severity
from aftercare.rules.cases import CaseChange
from aftercare.store.cases import apply_changes, load_parcels
from flows.logistics_check import logistics_check
from models import AfterSalesCase, OutboxMessage
from models.db import session_scope
from tests.conftest import ANCHOR

pytestmark = pytest.mark.usefixtures("prefect_server")


def test_a_notice_of_a_case_closed_before_it_left_is_suppressed_with_the_reason(settings):
    logistics_check(as_of=ANCHOR)
    with session_scope(settings.database_url) as session:
        message, case = session.exec(
            select(OutboxMessage, AfterSalesCase)
            .join(AfterSalesCase, AfterSalesCase.id == OutboxMessage.case_id)
            .where(OutboxMessage.status == "pending", AfterSalesCase.state == "open")
        ).first()
        parcel = load_parcels(session=session, ids=[case.shipment_id])[0]
        change = CaseChange(
            "closed", AnomalyKind(case.kind), Severity(case.severity), "the parcel was delivered"
        )
        apply_changes(session=session, plans=[(parcel, [change])], now=ANCHOR + timedelta(hours=1))
    with session_scope(settings.database_url) as session:
        after = session.exec(select(OutboxMessage).where(OutboxMessage.id == message.id)).one()
        others = session.exec(
            select(OutboxMessage).where(
                OutboxMessage.case_id != case.id, OutboxMessage.status == "pending"
            )
        ).all()
    assert after.status == "suppressed" and not after.retryable
    assert after.reason == "its case was closed before it was sent (the parcel was delivered)"
    assert others, "the notices of cases still open are left to go"
