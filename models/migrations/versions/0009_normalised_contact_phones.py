"""contact rules: phones stored in one normal form

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 16:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from aftercare.phones import phone_or_none

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Opt-outs and blacklist entries were stored as typed ("+86 138-..."), and never matched
    # the numbers messages go to. A value that is no usable number stays as it was: it never
    # matched anything and tells staff what was entered.
    bind = op.get_bind()
    for table, scope in (("opt_outs", ()), ("blacklist", ("shop_id",))):
        columns = ", ".join(("id", "value", *scope))
        rows = bind.execute(
            sa.text(f"SELECT {columns} FROM {table} WHERE kind = 'phone' ORDER BY id")
        ).all()
        kept = {(*(getattr(r, c) for c in scope), r.value) for r in rows}
        for row in rows:
            normal = phone_or_none(row.value)
            if normal is None or normal == row.value:
                continue
            key = (*(getattr(row, c) for c in scope), normal)
            if key in kept:  # the same number was stored in another form already
                bind.execute(sa.text(f"DELETE FROM {table} WHERE id = :id"), {"id": row.id})
            else:
                bind.execute(
                    sa.text(f"UPDATE {table} SET value = :value WHERE id = :id"),
                    {"value": normal, "id": row.id},
                )
                kept.add(key)


def downgrade() -> None:
    pass  # the normal form is a valid form of every number: nothing to undo
