"""customers: known by the platform's open uid, not the blurred nick

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 17:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import models.types

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _customers_without_the_nick_key() -> sa.Table:
    """The customers table as it stands, less the unnamed unique (shop, nick) SQLite keeps."""
    text = sqlmodel.sql.sqltypes.AutoString
    return sa.Table(
        "customers",
        sa.MetaData(),
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("shop_id", sa.Integer(), sa.ForeignKey("shops.id"), nullable=False),
        sa.Column("buyer_nick", text(length=100), nullable=False),
        sa.Column("name", text(length=60), nullable=True),
        sa.Column("phone", text(length=20), nullable=True),
        sa.Column("phone_masked", sa.Boolean(), nullable=False),
        sa.Column("first_seen_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", models.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("birthday", sa.Date(), nullable=True),
        sa.Column("member_grade", sa.Integer(), nullable=True),
        sa.Column("tags", text(length=200), server_default="", nullable=False),
        sa.Column("marketing_consent", sa.Boolean(), server_default="0", nullable=False),
        sa.Column("consent_at", models.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("buyer_id", text(length=120), nullable=True),
    )


def upgrade() -> None:
    # Two buyers sharing a blurred nick were one customer: one's payment silenced the other's
    # reminder. Buyers known so far keep their nick as their identity until a trade brings a uid.
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("buyer_id", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True)
        )
    op.execute("UPDATE customers SET buyer_id = 'nick:' || buyer_nick")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("customers_shop_id_buyer_nick_key", "customers", type_="unique")
        batch = op.batch_alter_table("customers", schema=None)
    else:  # SQLite keeps the constraint unnamed: the table is copied without it
        batch = op.batch_alter_table(
            "customers", copy_from=_customers_without_the_nick_key(), recreate="always"
        )
    with batch as batch_op:
        batch_op.alter_column(
            "buyer_id",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=120),
            nullable=False,
        )
        batch_op.create_unique_constraint("uq_customers_buyer", ["shop_id", "buyer_id"])
        batch_op.create_index("ix_customers_buyer_nick", ["buyer_nick"], unique=False)
        if op.get_bind().dialect.name != "postgresql":
            batch_op.create_index("ix_customers_shop_id", ["shop_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index("ix_customers_buyer_nick")
        batch_op.drop_constraint("uq_customers_buyer", type_="unique")
        batch_op.drop_column("buyer_id")
        batch_op.create_unique_constraint(
            "customers_shop_id_buyer_nick_key", ["shop_id", "buyer_nick"]
        )
