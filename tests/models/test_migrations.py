"""The migrations create exactly the schema the models declare, on SQLite and PostgreSQL."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import models  # noqa: F401
from models.db import get_engine
from models.migrate import alembic_config


def test_migrated_schema_matches_the_models(database_url):
    with get_engine(database_url).connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []


def test_migrations_go_down_and_up_again(database_url):
    from alembic import command

    config = alembic_config(database_url)
    command.downgrade(config, "base")
    command.upgrade(config, "head")
    with get_engine(database_url).connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() is not None


def test_phones_of_opt_outs_and_blacklists_are_normalised_keeping_one_of_each(database_url):
    from datetime import UTC, datetime

    import sqlalchemy as sa
    from alembic import command

    from models.db import get_engine

    config = alembic_config(database_url)
    command.downgrade(config, "0008")
    now = datetime(2026, 11, 20, tzinfo=UTC).isoformat()
    with get_engine(database_url).begin() as connection:
        for value in ("+86 138-0013-8000", "13800138000", "１３９００１３９０００", "138****1234"):
            connection.execute(
                sa.text(
                    "INSERT INTO opt_outs (kind, value, source, opted_out_at) "
                    "VALUES ('phone', :value, 'test', :at)"
                ),
                {"value": value, "at": now},
            )
    command.upgrade(config, "head")
    with get_engine(database_url).connect() as connection:
        values = connection.execute(sa.text("SELECT value FROM opt_outs")).scalars().all()
    assert sorted(values) == ["138****1234", "13800138000", "13900139000"]


def test_customers_known_so_far_keep_their_nick_as_identity_and_their_orders(database_url):
    from datetime import UTC, datetime

    import sqlalchemy as sa
    from alembic import command

    config = alembic_config(database_url)
    command.downgrade(config, "0011")
    at = datetime(2026, 11, 20, tzinfo=UTC).isoformat()
    with get_engine(database_url).begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO shops (code, name, platform, seller_nick, sms_sign_name, "
                "sms_enabled, active) VALUES ('s', 'S', 'taobao', 'sn', 'sig', true, true)"
            )
        )
        shop_id = connection.execute(sa.text("SELECT id FROM shops")).scalar()
        connection.execute(
            sa.text(
                "INSERT INTO customers (shop_id, buyer_nick, phone_masked, first_seen_at, "
                "updated_at, tags, marketing_consent) VALUES (:shop, 't**8', false, :at, :at, "
                "'', true)"
            ),
            {"shop": shop_id, "at": at},
        )
    command.upgrade(config, "head")
    with get_engine(database_url).connect() as connection:
        rows = connection.execute(
            sa.text("SELECT buyer_id, buyer_nick, marketing_consent FROM customers")
        ).all()
    assert [(r[0], r[1], bool(r[2])) for r in rows] == [("nick:t**8", "t**8", True)]


def test_care_keys_lose_the_buyer_and_the_provider_keeps_the_old_reference(database_url):
    from datetime import UTC, datetime

    import sqlalchemy as sa
    from alembic import command

    from aftercare.rules import message_keys

    config = alembic_config(database_url)
    command.downgrade(config, "0013")
    at = datetime(2026, 11, 20, tzinfo=UTC).isoformat()
    with get_engine(database_url).begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO shops (code, name, platform, seller_nick, sms_sign_name, "
                "sms_enabled, active) VALUES ('s', 'S', 'taobao', 'sn', 'sig', true, true)"
            )
        )
        shop = connection.execute(sa.text("SELECT id FROM shops")).scalar()
        connection.execute(
            sa.text(
                "INSERT INTO customers (shop_id, buyer_id, buyer_nick, phone_masked, "
                "first_seen_at, updated_at, tags, marketing_consent) "
                "VALUES (:shop, 'nick:小雅', '小雅', false, :at, :at, '', true)"
            ),
            {"shop": shop, "at": at},
        )
        member = connection.execute(sa.text("SELECT id FROM customers")).scalar()
        old = {
            "care:birthday:s:小雅:2026": message_keys.birthday_greeting("s", member, 2026),
            "care:holiday:春节:2027:s:小雅": message_keys.holiday_greeting(
                "s", member, "春节", 2027
            ),
            "care:new_product:s:spring:launch:小雅": message_keys.new_product_preview(
                "s", member, "spring:launch"
            ),
            "care:shipped:s:4001": message_keys.order_care("s", "4001", "shipped"),
            "unpaid:s:4002:automatic": message_keys.unpaid_reminder("s", "4002", "automatic"),
        }
        for key in old:
            connection.execute(
                sa.text(
                    "INSERT INTO outbox (idempotency_key, shop_id, customer_id, purpose, "
                    "category, urgent, channel, template_code, params, text, status, attempts, "
                    "retryable, created_at) VALUES (:key, :shop, :member, 'care_birthday', "
                    "'marketing', false, 'sms', 'SMS_1', '{}', '', 'sending', 1, true, :at)"
                ),
                {"key": key, "shop": shop, "member": member, "at": at},
            )
    command.upgrade(config, "head")
    with get_engine(database_url).connect() as connection:
        rows = dict(connection.execute(sa.text("SELECT out_id, idempotency_key FROM outbox")).all())
    # Each message is found under today's key; the provider still knows it by the old one.
    assert rows == old
    assert not any("小雅" in key for key in rows.values())
