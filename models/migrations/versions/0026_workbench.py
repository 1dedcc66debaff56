"""workbench: users, sessions, the phone-reveal audit, and who works each case

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-05 17:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from models.types import UTCDateTime

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    text = sqlmodel.sql.sqltypes.AutoString
    op.create_table(
        "workbench_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", text(length=60), nullable=False),
        sa.Column("display_name", text(length=60), nullable=False),
        sa.Column("password_hash", text(length=200), nullable=False),
        sa.Column("role", text(length=10), nullable=False),
        sa.Column("shops", text(length=500), nullable=False),
        sa.Column("can_reveal", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    op.create_table(
        "workbench_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", text(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", text(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["workbench_users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    op.create_index("ix_workbench_sessions_user_id", "workbench_sessions", ["user_id"])
    op.create_table(
        "phone_reveals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("username", text(length=60), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("reason", text(length=200), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["workbench_users.id"]),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_phone_reveals_user_id", "phone_reveals", ["user_id"])
    op.create_index("ix_phone_reveals_case_id", "phone_reveals", ["case_id"])
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("assigned_to", text(length=60), nullable=True))
    op.create_index("ix_cases_assigned_to", "cases", ["assigned_to"])
    # The queue reads open cases by their next step's time: one index walk, not a sort.
    op.create_index("ix_cases_state_next_action_at", "cases", ["state", "next_action_at"])
    op.create_index(
        "ix_cases_state_kind_next_action_at", "cases", ["state", "kind", "next_action_at"]
    )
    # The queue's and the lead's counts per shop, kind and agent: read from the index alone.
    op.create_index(
        "ix_cases_open_counts",
        "cases",
        ["state", "shop_id", "kind", "next_action_at", "assigned_to"],
    )


def downgrade() -> None:
    op.drop_index("ix_cases_open_counts", table_name="cases")
    op.drop_index("ix_cases_state_kind_next_action_at", table_name="cases")
    op.drop_index("ix_cases_state_next_action_at", table_name="cases")
    op.drop_index("ix_cases_assigned_to", table_name="cases")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("assigned_to")
    op.drop_index("ix_phone_reveals_case_id", table_name="phone_reveals")
    op.drop_index("ix_phone_reveals_user_id", table_name="phone_reveals")
    op.drop_table("phone_reveals")
    op.drop_index("ix_workbench_sessions_user_id", table_name="workbench_sessions")
    op.drop_table("workbench_sessions")
    op.drop_table("workbench_users")
