"""platform_messages: the shop platform's channel messages, stored before they are confirmed

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.types

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Events pushed by the platform arrive at least once and in any order: each is stored
    # under its own id, then applied by re-reading what it names.
    op.create_table(
        "platform_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("message_id", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("topic", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=True),
        sa.Column("tid", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("refund_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("published_at", models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("received_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("applied_at", models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("claimed_by", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("claimed_until", models.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("platform", "message_id"),
    )
    for column in ("topic", "shop_id", "tid", "applied_at"):
        op.create_index(
            op.f(f"ix_platform_messages_{column}"), "platform_messages", [column], unique=False
        )


def downgrade() -> None:
    for column in ("applied_at", "tid", "shop_id", "topic"):
        op.drop_index(op.f(f"ix_platform_messages_{column}"), table_name="platform_messages")
    op.drop_table("platform_messages")
