"""refunds: buyers' refunds and returns with the platform's timers

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05 11:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.types

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    # The fifth pipeline's record: each refund once, replaced only by a newer version.
    op.create_table(
        "refunds",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("shop_id", sa.Integer(), sa.ForeignKey("shops.id"), nullable=False),
        sa.Column("refund_id", _text(32), nullable=False),
        sa.Column("tid", _text(32), nullable=False),
        sa.Column("oid", _text(32), nullable=True),
        sa.Column("order_id", sa.Integer(), sa.ForeignKey("orders.id"), nullable=True),
        sa.Column("status", _text(40), nullable=False),
        sa.Column("kind", _text(30), nullable=False),
        sa.Column("has_good_return", sa.Boolean(), nullable=False),
        sa.Column("good_status", _text(40), nullable=True),
        sa.Column("reason", _text(200), nullable=False),
        sa.Column("title", _text(120), nullable=False),
        sa.Column("refund_fee", sa.Numeric(12, 2), nullable=False),
        sa.Column("created_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("modified_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("seller_deadline", models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("return_company", _text(40), nullable=True),
        sa.Column("return_waybill", _text(40), nullable=True),
        sa.Column("decided_by_timer", sa.Boolean(), nullable=False),
        sa.Column("synced_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("shop_id", "refund_id", name="uq_refunds_refund"),
    )
    for column in ("shop_id", "order_id", "status", "seller_deadline"):
        op.create_index(f"ix_refunds_{column}", "refunds", [column])


def downgrade() -> None:
    for column in ("seller_deadline", "status", "order_id", "shop_id"):
        op.drop_index(f"ix_refunds_{column}", table_name="refunds")
    op.drop_table("refunds")
