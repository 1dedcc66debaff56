"""return_parcels: the parcels buyers send back on a refund, tracked with the couriers

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-05 13:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from models.types import UTCDateTime

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString
    op.create_table(
        "return_parcels",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("refund_id", text(length=32), nullable=False),
        sa.Column("courier_name", text(length=60), nullable=False),
        sa.Column("waybill", text(length=64), nullable=False),
        sa.Column("status", text(length=30), nullable=False),
        sa.Column("courier_state", sa.Integer(), nullable=True),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("last_event_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("check_failures", sa.Integer(), nullable=False),
        sa.Column("check_error", text(length=500), nullable=True),
        sa.Column("seen_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_checked_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_check_at", UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["shop_id"], ["shops.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("shop_id", "refund_id", name="uq_return_parcels_refund"),
    )
    op.create_index("ix_return_parcels_shop_id", "return_parcels", ["shop_id"])
    op.create_index("ix_return_parcels_next_check_at", "return_parcels", ["next_check_at"])


def downgrade() -> None:
    op.drop_index("ix_return_parcels_next_check_at", table_name="return_parcels")
    op.drop_index("ix_return_parcels_shop_id", table_name="return_parcels")
    op.drop_table("return_parcels")
