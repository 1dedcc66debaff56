"""Saving trades: parcels of couriers the table learnt later start being tracked."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import update
from sqlmodel import select

from aftercare.clients.taobao import TradeItemRecord
from aftercare.store.trades import save_trades
from models import Shipment, Shop
from models.db import session_scope
from tests.conftest import ANCHOR
from tests.rules.test_bad_records import trade

POST = TradeItemRecord("1", "文胸", 1, Decimal("99"), None, "中国邮政", "9876543210123")
SHIPPED = trade(
    status="WAIT_BUYER_CONFIRM_GOODS",
    pay_time=ANCHOR - timedelta(days=3),
    consign_time=ANCHOR - timedelta(days=2),
    created=ANCHOR - timedelta(days=3, minutes=5),
    modified=ANCHOR - timedelta(days=2),
    items=(POST,),
)


def test_a_parcel_stored_when_its_courier_was_unknown_is_tracked_once_the_name_is_known(
    settings,
):
    with session_scope(settings.database_url) as session:
        shop = session.exec(select(Shop).where(Shop.code == "sishi")).one()
        save_trades(
            session=session,
            shop_id=shop.id,
            trades=(SHIPPED,),
            now=ANCHOR,
            first_reminders={},
        )
        # As stored before the table knew 中国邮政: never checked, waiting for a person.
        session.execute(
            update(Shipment).values(
                courier=None, next_check_at=None, check_error="unknown courier 中国邮政"
            )
        )
    later = ANCHOR + timedelta(hours=1)
    with session_scope(settings.database_url) as session:
        save_trades(
            session=session,
            shop_id=shop.id,
            trades=(SHIPPED,),
            now=later,
            first_reminders={},
        )
    with session_scope(settings.database_url) as session:
        parcel = session.exec(select(Shipment)).one()
    assert parcel.courier == "youzhengguonei" and parcel.next_check_at == later
    assert parcel.check_error is None
