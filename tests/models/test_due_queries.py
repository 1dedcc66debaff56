"""Every due-selection query is an index range scan, on SQLite and on PostgreSQL (EXPLAIN),
read in index order on SQLite (no sort of the whole backlog)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.dialects import postgresql, sqlite

from aftercare.store.inbox import waiting_pushes_query
from aftercare.store.outbox import due_messages_query, in_doubt_query
from aftercare.store.reminders import due_orders_query
from aftercare.store.shipments import due_shipments_query, subscriptions_due_query
from models.db import get_engine

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
QUERIES = {
    "unpaid orders due for a reminder": (due_orders_query, "ix_orders_reminder_due_at"),
    "parcels due for a courier check": (due_shipments_query, "ix_shipments_next_check_at"),
    "messages due to be sent": (due_messages_query, "ix_outbox_due"),
    "messages of unknown send outcome": (in_doubt_query, "ix_outbox_in_doubt"),
    "parcels due a push subscription": (subscriptions_due_query, "ix_shipments_subscribe_due_at"),
    "pushes waiting for the drain": (waiting_pushes_query, "ix_tracking_pushes_processed_at"),
}


ROWS = 20_000


def fill(url: str) -> None:
    """Give the planner realistic tables: most rows not due, a few due."""
    from datetime import timedelta

    from sqlalchemy import insert

    from models import Customer, Order, OutboxMessage, Shipment, Shop, TrackingPush

    engine = get_engine(url)
    hour = timedelta(hours=1)
    with engine.begin() as connection:
        connection.execute(
            insert(Shop.__table__),
            [
                {
                    "id": 1,
                    "code": "s",
                    "name": "s",
                    "platform": "taobao",
                    "seller_nick": "s",
                    "sms_sign_name": "s",
                    "sms_enabled": True,
                    "active": True,
                }
            ],
        )
        connection.execute(
            insert(Customer.__table__),
            [
                {
                    "id": 1,
                    "shop_id": 1,
                    "buyer_nick": "b",
                    "buyer_id": "nick:b",
                    "phone_masked": False,
                    "first_seen_at": NOW,
                    "updated_at": NOW,
                }
            ],
        )
        connection.execute(
            insert(Order.__table__),
            [
                {
                    "id": n,
                    "shop_id": 1,
                    "customer_id": 1,
                    "tid": str(n),
                    "status": "TRADE_FINISHED",
                    "trade_type": "fixed",
                    "created_at": NOW,
                    "modified_at": NOW,
                    "payment": 1,
                    "phone_masked": False,
                    "synced_at": NOW,
                    "reminder_due_at": NOW + (n % 100 - 3) * hour if n % 20 == 0 else None,
                }
                for n in range(1, ROWS + 1)
            ],
        )
        connection.execute(
            insert(Shipment.__table__),
            [
                {
                    "shop_id": 1,
                    "order_id": n,
                    "courier_name": "圆通速递",
                    "courier": "yuantong",
                    "waybill": f"YT{n}",
                    "shipped_at": NOW,
                    "status": "in_transit",
                    "event_count": 0,
                    "signed_by_proxy": False,
                    "check_error_count": 0,
                    "created_at": NOW,
                    "updated_at": NOW,
                    "next_check_at": None if n % 3 == 0 else NOW + (n % 50 - 5) * hour,
                    "subscribe_due_at": NOW - hour if n % 40 == 0 else None,
                }
                for n in range(1, ROWS + 1)
            ],
        )
        connection.execute(
            insert(OutboxMessage.__table__),
            [
                {
                    "idempotency_key": f"k{n}",
                    "shop_id": 1,
                    "purpose": "p",
                    "channel": "sms",
                    "template_code": "T",
                    "params": "{}",
                    "text": "",
                    "attempts": 1,
                    "retryable": True,
                    "status": "pending" if n % 20 == 0 else "sent",
                    "created_at": NOW,
                    "next_attempt_at": NOW + (n % 10 - 5) * hour if n % 20 == 0 else None,
                }
                for n in range(1, ROWS + 1)
            ],
        )
        connection.execute(
            insert(TrackingPush.__table__),
            [
                {
                    "received_at": NOW,
                    "courier": "yuantong",
                    "waybill": f"YT{n}",
                    "status": "polling",
                    "param": "{}",
                    "digest": f"{n:064d}",
                    "processed_at": None if n % 50 == 0 else NOW,
                }
                for n in range(1, ROWS + 1)
            ],
        )


def explain(url: str, query) -> str:
    engine = get_engine(url)
    dialect = postgresql.dialect() if engine.dialect.name == "postgresql" else sqlite.dialect()
    compiled = query.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
    prefix = "EXPLAIN" if engine.dialect.name == "postgresql" else "EXPLAIN QUERY PLAN"
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("ANALYZE"))
        rows = connection.execute(text(f"{prefix} {compiled}")).all()
    return "\n".join(" ".join(str(v) for v in row) for row in rows)


def test_due_queries_use_their_indexes(database_url):
    fill(database_url)
    for name, (build, index) in QUERIES.items():
        plan = explain(database_url, build(NOW, 500))
        print(f"\n{name}:\n{plan}")
        assert index in plan, plan
        assert "Seq Scan" not in plan and not plan.startswith("SCAN"), plan
        # Read in index order: a sort would take every due row, however long the backlog.
        assert "TEMP B-TREE" not in plan, plan
