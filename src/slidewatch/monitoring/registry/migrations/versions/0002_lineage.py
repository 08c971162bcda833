"""lineage: landslides that merge or split keep saying where they came from

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 10:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("landslides", schema=None) as batch_op:
        batch_op.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("split_from_id", sa.Integer(), nullable=True))
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("merged_from", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("split_from_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.drop_column("split_from_id")
        batch_op.drop_column("merged_into_id")
        batch_op.drop_column("merged_from")
    with op.batch_alter_table("landslides", schema=None) as batch_op:
        batch_op.drop_column("split_from_id")
        batch_op.drop_column("merged_into_id")
