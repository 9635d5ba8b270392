"""contacts carry their exposure score, tier and push; pushes record the commander's choice

Revision ID: 0009_contact_scores
Revises: 0008_audit_ids
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cordon.db

revision: str = "0009_contact_scores"
down_revision: str | None = "0008_audit_ids"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "contact_pushes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_ids", sa.JSON(), nullable=False),
        sa.Column("tiers", sa.JSON(), nullable=False),
        sa.Column("companions", sa.Boolean(), nullable=False),
        sa.Column("pack", sa.String(length=40), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.Column("preview", sa.JSON(), nullable=False),
        sa.Column("pushed_by", sa.String(length=64), nullable=False),
        sa.Column("jurisdiction", sa.String(length=12), nullable=False),
        sa.Column("pushed_at", cordon.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("score", sa.Float(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("tier", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("exposed_minutes", sa.Float(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("days_exposed", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("push_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_contacts_score", ["score"])
        batch_op.create_index("ix_contacts_tier", ["tier"])
        batch_op.create_index("ix_contacts_push_id", ["push_id"])
        batch_op.create_foreign_key("fk_contacts_push_id", "contact_pushes", ["push_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_constraint("fk_contacts_push_id", type_="foreignkey")
        batch_op.drop_index("ix_contacts_push_id")
        batch_op.drop_index("ix_contacts_tier")
        batch_op.drop_index("ix_contacts_score")
        for column in ("push_id", "days_exposed", "exposed_minutes", "tier", "score"):
            batch_op.drop_column(column)
    op.drop_table("contact_pushes")
