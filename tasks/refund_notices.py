"""The buyer hears from the shop as soon as a refund request arrives, per kind, once."""

from __future__ import annotations

from datetime import datetime, timedelta

from aftercare.rules import message_keys
from aftercare.rules.notices import masked_reach, sms_blocker
from aftercare.settings import get_settings
from aftercare.store.outbox import Recipient, enqueue, message_row
from aftercare.store.refunds import refunds_to_tell
from aftercare.templates import load_templates
from models.db import session_scope
from tasks.policy import pipeline_task


@pipeline_task("tell-refund-buyers")
def tell_buyers(as_of: datetime) -> int:
    """Queue the first message on each new refund request; return how many were new."""
    settings = get_settings()
    templates = load_templates()
    # Requests older than this are not news any more (a first sync reaching back a month).
    since = as_of - timedelta(hours=settings.refunds.tell_buyers_within_hours)
    with session_scope(settings.database_url) as session:
        rows = []
        for refund in refunds_to_tell(session=session, since=since):
            template = f"refund_{refund.kind}"
            if template not in templates:
                continue  # no standard answer for this kind: the agents write their own
            reach = masked_reach(settings.channels, refund.shop_code, template)
            oaid = refund.oaid if reach else None
            recipient = Recipient(
                shop_id=refund.shop_id, customer_id=refund.customer_id,
                order_id=refund.order_id, phone=refund.phone,
                blocked_because=sms_blocker(
                    refund.phone, refund.phone_masked, refund.sms_enabled, oaid
                ),
                oaid=oaid,
            )  # fmt: skip
            rows.append(
                message_row(
                    key=message_keys.refund_opened(refund.shop_code, refund.refund_id),
                    template=template,
                    params={"shop": refund.shop_name, "order": refund.tid},
                    recipient=recipient,
                    now=as_of,
                )
            )
        return enqueue(session=session, rows=rows)
