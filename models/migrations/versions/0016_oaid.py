"""orders and outbox: the receiver's OAID, to text buyers whose number is masked

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 06:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A masked phone stops being a dead end: the platform texts the buyer by OAID.
    for table in ("orders", "outbox"):
        op.add_column(
            table, sa.Column("oaid", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )


def downgrade() -> None:
    for table in ("outbox", "orders"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("oaid")
