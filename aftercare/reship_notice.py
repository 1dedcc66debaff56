"""A reship (补发) recorded and told to the buyer once: the one path for the CLI and workbench."""

from __future__ import annotations

from datetime import datetime

from aftercare.rules import message_keys
from aftercare.rules.notices import masked_reach, sms_blocker
from aftercare.settings import Settings
from aftercare.store.outbox import Recipient, enqueue, message_row
from aftercare.store.reships import Reship, record_reship
from models.db import session_scope


def reship_and_tell(
    settings: Settings,
    *,
    shop: str,
    tid: str,
    courier: str,
    waybill: str,
    agent: str,
    now: datetime,
) -> Reship:
    """Track the new parcel, note it on the order's open cases, queue the buyer's message.

    Raises ReshipRefused (nothing written) when the reship cannot be recorded as given.
    """
    with session_scope(settings.database_url) as session:
        done = record_reship(
            session=session, shop=shop, tid=tid, courier_name=courier, waybill=waybill,
            agent=agent, now=now,
        )  # fmt: skip
        o = done.order
        oaid = o.oaid if masked_reach(settings.channels, shop, "logistics_reshipped") else None
        recipient = Recipient(
            shop_id=done.shop_id, customer_id=o.customer_id, order_id=o.id,
            phone=o.receiver_phone, oaid=oaid,
            blocked_because=sms_blocker(o.receiver_phone, o.phone_masked, done.sms_enabled, oaid),
        )  # fmt: skip
        row = message_row(
            key=message_keys.reship(shop, done.courier_name, done.waybill),
            template="logistics_reshipped",
            params={"shop": done.shop_name, "order": o.tid, "courier": done.courier_name,
                    "waybill": done.waybill},
            recipient=recipient,
            now=now,
            urgent=True,
        )  # fmt: skip
        enqueue(session=session, rows=[row])
    return done
