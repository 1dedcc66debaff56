"""outbox: messages handed to an agent for the platform's chat

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 19:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.types

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Buyers SMS cannot reach were only a count; agents now work them as a list.
    op.add_column(
        "outbox",
        sa.Column("handed_off_at", models.types.UTCDateTime(timezone=True), nullable=True),
    )
    op.add_column(
        "outbox",
        sa.Column("handed_off_by", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=True),
    )


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("handed_off_by")
        batch.drop_column("handed_off_at")
