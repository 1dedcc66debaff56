"""oaid_decryptions: each shop's OAIDs decrypted per day, against the platform's quota

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models.types import UTCDateTime

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Counts only: the decrypted numbers live for one send and are never stored.
    op.create_table(
        "oaid_decryptions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("shop_id", sa.Integer(), sa.ForeignKey("shops.id"), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("shop_id", "day", name="uq_oaid_decryptions_day"),
    )
    op.create_index("ix_oaid_decryptions_shop_id", "oaid_decryptions", ["shop_id"])


def downgrade() -> None:
    op.drop_index("ix_oaid_decryptions_shop_id", table_name="oaid_decryptions")
    op.drop_table("oaid_decryptions")
