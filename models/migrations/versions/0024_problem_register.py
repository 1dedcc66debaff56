"""problem_register: every after-sales problem in one table (登记表格)

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-05 14:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from models.types import UTCDateTime

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString
    op.create_table(
        "problem_register",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("source", text(length=20), nullable=False),
        sa.Column("source_id", text(length=40), nullable=False),
        sa.Column("kind", text(length=30), nullable=False),
        sa.Column("tid", text(length=32), nullable=False),
        sa.Column("item", text(length=120), nullable=False),
        sa.Column("amount", sa.Numeric(12, 2), nullable=False),
        sa.Column("reason", text(length=200), nullable=False),
        sa.Column("answerable", text(length=60), nullable=True),
        sa.Column("occurred_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("registered_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("shop_id", "source", "source_id", name="uq_problem_register_source"),
    )
    for column in ("shop_id", "kind", "occurred_at"):
        op.create_index(f"ix_problem_register_{column}", "problem_register", [column])


def downgrade() -> None:
    for column in ("occurred_at", "kind", "shop_id"):
        op.drop_index(f"ix_problem_register_{column}", table_name="problem_register")
    op.drop_table("problem_register")
