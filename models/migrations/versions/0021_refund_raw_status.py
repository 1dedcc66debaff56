"""refunds: the platform's own status beside the normalised one (Pinduoduo's after-sales)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-05 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Pinduoduo's after_sales_status code is read in Taobao's words; its own is kept.
    op.add_column(
        "refunds",
        sa.Column("raw_status", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True),
    )


def downgrade() -> None:
    with op.batch_alter_table("refunds") as batch:
        batch.drop_column("raw_status")
