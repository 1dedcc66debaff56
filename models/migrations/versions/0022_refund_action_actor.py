"""refund_actions: who answered (the pipeline, or the agent who gave the one command)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-05 13:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "refund_actions",
        sa.Column(
            "actor",
            sqlmodel.sql.sqltypes.AutoString(length=40),
            nullable=False,
            server_default="pipeline",
        ),
    )


def downgrade() -> None:
    with op.batch_alter_table("refund_actions") as batch:
        batch.drop_column("actor")
