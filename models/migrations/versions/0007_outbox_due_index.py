"""outbox due and in-doubt indexes

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 07:40:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # (status, next_attempt_at) made the planner sort every due message to pick a batch.
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_dispatch")
        batch_op.create_index("ix_outbox_due", ["next_attempt_at", "status"], unique=False)
        batch_op.create_index("ix_outbox_in_doubt", ["claimed_until", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_in_doubt")
        batch_op.drop_index("ix_outbox_due")
        batch_op.create_index("ix_outbox_dispatch", ["status", "next_attempt_at"], unique=False)
