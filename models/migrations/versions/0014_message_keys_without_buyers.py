"""outbox: provider out_id kept apart from the key; care keys name no buyer

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 22:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ORDER_CARE = ("shipped", "delivered", "revisit", "confirmed")


def care_key(key: str, member: int | None) -> str | None:
    """The key a care message gets today, from the key it was queued under (None: keep it).

    Before: care:<touch-point>:<shop>:<tid>, care:birthday:<shop>:<buyer>:<year>,
    care:holiday:<holiday>:<year>:<shop>:<buyer>, care:new_product:<shop>:<campaign>:<buyer>,
    where <buyer> was the buyer's nick or open uid.
    """
    parts = key.split(":")
    if len(parts) < 4 or parts[0] != "care":
        return None
    touchpoint = parts[1]
    if touchpoint in ORDER_CARE and len(parts) == 4:
        return f"care:{parts[2]}:{parts[3]}:{touchpoint}"
    if member is None:
        return None  # no member record to name: the old key stays
    if touchpoint == "birthday" and len(parts) >= 5:
        return f"care:{parts[2]}:member-{member}:birthday:{parts[-1]}"
    if touchpoint == "holiday" and len(parts) >= 6:
        return f"care:{parts[4]}:member-{member}:holiday:{parts[2]}:{parts[3]}"
    if touchpoint == "new_product" and len(parts) >= 5:
        campaign = ":".join(parts[3:-1])
        return f"care:{parts[2]}:member-{member}:new_product:{campaign}"
    return None


def upgrade() -> None:
    op.add_column(
        "outbox",
        sa.Column("out_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    )
    outbox = sa.table(
        "outbox",
        sa.column("id", sa.Integer),
        sa.column("idempotency_key", sa.String),
        sa.column("out_id", sa.String),
        sa.column("customer_id", sa.Integer),
    )
    bind = op.get_bind()
    # The provider knows every message queued so far by its old key: that stays its out_id,
    # so a lost answer is still found after the key changes.
    bind.execute(sa.update(outbox).values(out_id=outbox.c.idempotency_key))
    rows = bind.execute(
        sa.select(outbox.c.id, outbox.c.idempotency_key, outbox.c.customer_id).where(
            outbox.c.idempotency_key.like("care:%")
        )
    ).all()
    renamed = [
        {"row_id": row_id, "new_key": new}
        for row_id, key, member in rows
        if (new := care_key(key, member)) is not None and new != key
    ]
    if renamed:
        bind.execute(
            sa.update(outbox)
            .where(outbox.c.id == sa.bindparam("row_id"))
            .values(idempotency_key=sa.bindparam("new_key")),
            renamed,
        )


def downgrade() -> None:
    # The new care keys stay (they are unique as the old ones were); the provider reference goes.
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("out_id")
