"""Migration 0006 gives pushes already on file their digest; duplicates among them keep none."""

import hashlib

import sqlalchemy as sa
from alembic import command

from models.db import get_engine
from models.migrate import alembic_config

PUSH = '{"status":"polling","lastResult":{"nu":"YT1","com":"yuantong","data":[]}}'
OTHER = '{"status":"shutdown","lastResult":{"nu":"YT1","com":"yuantong","data":[]}}'


def test_pushes_stored_before_0006_get_their_digest(database_url):
    config = alembic_config(database_url)
    command.downgrade(config, "0005")
    insert = sa.text(
        "INSERT INTO tracking_pushes (received_at, courier, waybill, status, param)"
        " VALUES ('2026-11-20 02:00:00', 'yuantong', 'YT1', 'polling', :param)"
    )
    with get_engine(database_url).begin() as connection:
        for param in (PUSH, PUSH, OTHER):  # the same push stored twice before replays were refused
            connection.execute(insert, {"param": param})
    get_engine(database_url).dispose()  # SQLite's batch migration rebuilds the table

    command.upgrade(config, "head")
    with get_engine(database_url).connect() as connection:
        rows = connection.execute(
            sa.text("SELECT param, digest FROM tracking_pushes ORDER BY id")
        ).all()
    digest = {p: hashlib.sha256(p.encode()).hexdigest() for p in (PUSH, OTHER)}
    assert rows == [(PUSH, digest[PUSH]), (PUSH, None), (OTHER, digest[OTHER])]
