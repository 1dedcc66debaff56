"""push replay digest

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 04:00:00.000000
"""

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tracking_pushes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
    # Pushes already stored get their digest; a duplicate among them keeps NULL (stored twice
    # before replays were refused, it cannot be undone here).
    pushes = sa.table("tracking_pushes", sa.column("id"), sa.column("param"), sa.column("digest"))
    connection = op.get_bind()
    seen: set[str] = set()
    for push_id, param in connection.execute(sa.select(pushes.c.id, pushes.c.param)).all():
        digest = hashlib.sha256(param.encode("utf-8", "surrogatepass")).hexdigest()
        if digest not in seen:
            seen.add(digest)
            connection.execute(pushes.update().where(pushes.c.id == push_id).values(digest=digest))
    with op.batch_alter_table("tracking_pushes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tracking_pushes_digest"), ["digest"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("tracking_pushes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tracking_pushes_digest"))
        batch_op.drop_column("digest")
