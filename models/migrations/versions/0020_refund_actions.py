"""refund_actions: each platform action on a refund claimed once, before it is carried out

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.types

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # One row per (refund, action): an overlapping run or a retry can never act twice.
    op.create_table(
        "refund_actions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("shop_id", sa.Integer(), sa.ForeignKey("shops.id"), nullable=False),
        sa.Column("refund_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("created_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("shop_id", "refund_id", "action", name="uq_refund_actions_once"),
    )
    op.create_index("ix_refund_actions_shop_id", "refund_actions", ["shop_id"])


def downgrade() -> None:
    op.drop_index("ix_refund_actions_shop_id", table_name="refund_actions")
    op.drop_table("refund_actions")
