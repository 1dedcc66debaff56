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
