"""confidence: landslides gather evidence and reviews; alerts are events with unique ids;
deliveries keep the last HTTP status; AOIs choose what is alerted and how

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 15:00:00

Rows of earlier releases get: every landslide ``possible`` with as many looks as it has
detections and their highest mean probability; every alert a ``new`` event with a fresh
UUID; every AOI alerting on ``possible``, grouping ``auto``, no filters, unsigned.
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("aois", schema=None) as batch_op:
        batch_op.add_column(sa.Column("alert_on", sa.String(16), nullable=False,
                                      server_default="possible"))  # fmt: skip
        batch_op.add_column(sa.Column("alert_grouping", sa.String(16), nullable=False,
                                      server_default="auto"))  # fmt: skip
        batch_op.add_column(sa.Column("alert_filters", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("webhook_secret", sa.Text(), nullable=True))
    with op.batch_alter_table("landslides", schema=None) as batch_op:
        batch_op.add_column(sa.Column("confidence", sa.String(16), nullable=False,
                                      server_default="possible"))  # fmt: skip
        batch_op.add_column(sa.Column("looks", sa.Integer(), nullable=False, server_default="1"))
        batch_op.add_column(sa.Column("max_probability", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("rejected_area_m2", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("baseline", sa.Boolean(), nullable=False,
                                      server_default=sa.false()))  # fmt: skip
        batch_op.add_column(sa.Column("mean_slope_deg", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("vegetation_change", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("elevation_m", sa.Float(), nullable=True))
    op.execute(
        "UPDATE landslides SET "
        "looks = COALESCE((SELECT COUNT(*) FROM detections d "
        "WHERE d.landslide_id = landslides.id), 1), "
        "max_probability = (SELECT MAX(d.mean_probability) FROM detections d "
        "WHERE d.landslide_id = landslides.id)"
    )  # fmt: skip
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("landslide_id", sa.Integer(), nullable=False),
        sa.Column("verdict", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("reviewer", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["landslide_id"],
            ["landslides.id"],
            name=op.f("fk_reviews_landslide_id_landslides"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
    )
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reviews_landslide_id"), ["landslide_id"])

    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("event_id", sa.String(64), nullable=True))
        batch_op.add_column(sa.Column("kind", sa.String(16), nullable=False,
                                      server_default="new"))  # fmt: skip
        batch_op.add_column(sa.Column("confidence", sa.String(16), nullable=False,
                                      server_default="possible"))  # fmt: skip
    bind = op.get_bind()
    alerts = sa.table("alerts", sa.column("id", sa.Integer), sa.column("event_id", sa.String))
    for (alert_id,) in bind.execute(sa.select(alerts.c.id)).all():
        bind.execute(alerts.update().where(alerts.c.id == alert_id)
                     .values(event_id=str(uuid.uuid4())))  # fmt: skip
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.alter_column("event_id", existing_type=sa.String(64), nullable=False)
        batch_op.drop_constraint("uq_alerts_landslide_id", type_="unique")
        batch_op.create_unique_constraint("uq_alerts_event_id", ["event_id"])
        batch_op.create_unique_constraint("uq_alerts_landslide_run", ["landslide_id", "run_id"])

    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_status", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_column("last_status")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_constraint("uq_alerts_landslide_run", type_="unique")
        batch_op.drop_constraint("uq_alerts_event_id", type_="unique")
        batch_op.drop_column("confidence")
        batch_op.drop_column("kind")
        batch_op.drop_column("event_id")
    op.execute("DELETE FROM alerts WHERE id NOT IN "
               "(SELECT MIN(id) FROM alerts GROUP BY landslide_id)")  # fmt: skip
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_alerts_landslide_id", ["landslide_id"])
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reviews_landslide_id"))
    op.drop_table("reviews")
    with op.batch_alter_table("landslides", schema=None) as batch_op:
        for column in ("elevation_m", "vegetation_change", "mean_slope_deg", "baseline",
                       "rejected_area_m2", "max_probability", "looks", "confidence"):  # fmt: skip
            batch_op.drop_column(column)
    with op.batch_alter_table("aois", schema=None) as batch_op:
        for column in ("webhook_secret", "alert_filters", "alert_grouping", "alert_on"):
            batch_op.drop_column(column)
