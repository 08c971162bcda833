"""registry: AOIs, runs, landslides, detections, changes, alerts, deliveries

Revision ID: 0001
Revises: (none; the first release with a registry)
Create Date: 2026-12-02 06:39:12.718435
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "aois",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("geometry", sa.JSON(), nullable=False),
        sa.Column("model_path", sa.Text(), nullable=False),
        sa.Column("model_hash", sa.String(length=64), nullable=False),
        sa.Column("source", sa.JSON(), nullable=False),
        sa.Column("cadence_days", sa.Float(), nullable=False),
        sa.Column("lookback_days", sa.Float(), nullable=False),
        sa.Column("min_new_area_m2", sa.Float(), nullable=False),
        sa.Column("max_cloud_pct", sa.Float(), nullable=False),
        sa.Column("webhooks", sa.JSON(), nullable=False),
        sa.Column("emails", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("look_owner", sa.String(length=200), nullable=True),
        sa.Column("look_heartbeat", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_aois")),
        sa.UniqueConstraint("name", name=op.f("uq_aois_name")),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("aoi_id", sa.Integer(), nullable=False),
        sa.Column("acquisition_key", sa.String(length=128), nullable=False),
        sa.Column("acquisition_date", sa.String(length=10), nullable=True),
        sa.Column("scenes", sa.JSON(), nullable=False),
        sa.Column("cloud_pct", sa.Float(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("model_hash", sa.String(length=64), nullable=True),
        sa.Column("owner", sa.String(length=200), nullable=True),
        sa.Column("looked_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=True),
        sa.Column("timings", sa.JSON(), nullable=False),
        sa.Column("products", sa.JSON(), nullable=False),
        sa.Column("stats", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["aoi_id"], ["aois.id"], name=op.f("fk_runs_aoi_id_aois"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runs")),
        sa.UniqueConstraint("aoi_id", "acquisition_key", name="uq_runs_aoi_key"),
    )
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_runs_aoi_id"), ["aoi_id"], unique=False)

    op.create_table(
        "landslides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("aoi_id", sa.Integer(), nullable=False),
        sa.Column("first_run_id", sa.Integer(), nullable=False),
        sa.Column("last_run_id", sa.Integer(), nullable=False),
        sa.Column("first_seen", sa.String(length=10), nullable=True),
        sa.Column("last_seen", sa.String(length=10), nullable=True),
        sa.Column("area_m2", sa.Float(), nullable=False),
        sa.Column("geometry", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["aoi_id"], ["aois.id"], name=op.f("fk_landslides_aoi_id_aois"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["first_run_id"],
            ["runs.id"],
            name=op.f("fk_landslides_first_run_id_runs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["last_run_id"],
            ["runs.id"],
            name=op.f("fk_landslides_last_run_id_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_landslides")),
    )
    with op.batch_alter_table("landslides", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_landslides_aoi_id"), ["aoi_id"], unique=False)

    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("aoi_id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("landslide_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["aoi_id"], ["aois.id"], name=op.f("fk_alerts_aoi_id_aois"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["landslide_id"],
            ["landslides.id"],
            name=op.f("fk_alerts_landslide_id_landslides"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_alerts_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("landslide_id", name=op.f("uq_alerts_landslide_id")),
    )
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alerts_aoi_id"), ["aoi_id"], unique=False)

    op.create_table(
        "changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("landslide_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("area_m2", sa.Float(), nullable=False),
        sa.Column("changed_area_m2", sa.Float(), nullable=False),
        sa.Column("geometry", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["landslide_id"],
            ["landslides.id"],
            name=op.f("fk_changes_landslide_id_landslides"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_changes_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_changes")),
    )
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_changes_run_id"), ["run_id"], unique=False)

    op.create_table(
        "detections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("landslide_id", sa.Integer(), nullable=False),
        sa.Column("geometry", sa.JSON(), nullable=False),
        sa.Column("area_m2", sa.Float(), nullable=False),
        sa.Column("mean_probability", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["landslide_id"],
            ["landslides.id"],
            name=op.f("fk_detections_landslide_id_landslides"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_detections_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_detections")),
    )
    with op.batch_alter_table("detections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_detections_run_id"), ["run_id"], unique=False)

    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alerts.id"],
            name=op.f("fk_deliveries_alert_id_alerts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("alert_id", "channel", "target", name="uq_deliveries_target"),
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deliveries_alert_id"), ["alert_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deliveries_alert_id"))

    op.drop_table("deliveries")
    with op.batch_alter_table("detections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_detections_run_id"))

    op.drop_table("detections")
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_changes_run_id"))

    op.drop_table("changes")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alerts_aoi_id"))

    op.drop_table("alerts")
    with op.batch_alter_table("landslides", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_landslides_aoi_id"))

    op.drop_table("landslides")
    with op.batch_alter_table("runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_runs_aoi_id"))

    op.drop_table("runs")
    op.drop_table("aois")
