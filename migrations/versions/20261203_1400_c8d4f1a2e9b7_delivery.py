"""Delivery: shipping templates, delivery promises, tracking events, signing for (C28, C29)

Revision ID: c8d4f1a2e9b7
Revises: c81f4e2a9d37
Create Date: 2026-12-03 14:00:00.000000

Orders keep the promised dispatch and delivery times and who signed for the parcel; products name the shipping
template that prices their delivery; variants may carry a volume for templates priced by volume.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = 'c8d4f1a2e9b7'
down_revision: str | None = 'c81f4e2a9d37'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    int64 = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # app.core.columns.Int64
    op.create_table(
        "shipping_template",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("merchant_id", sa.String(40), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("basis", sa.String(10), nullable=False),
        sa.Column("rules", json, nullable=False),
        sa.Column("free_over_amount", int64),
        sa.Column("free_over_count", int64),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_shipping_template_merchant_id_id", "shipping_template", ["merchant_id", "id"])
    op.create_table(
        "delivery_promise",
        sa.Column("merchant_id", sa.String(40), primary_key=True),
        sa.Column("ship_within_hours", sa.Integer(), nullable=False),
        sa.Column("delivery_days", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "tracking_event",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("order_id", sa.String(40), nullable=False),
        sa.Column("merchant_id", sa.String(40), nullable=False),
        sa.Column("provider", sa.String(20), nullable=False),
        sa.Column("carrier", sa.String(20), nullable=False),
        sa.Column("tracking_no", sa.String(80), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("description", sa.String(500), nullable=False),
        sa.Column("location", sa.String(100)),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("order_id", "fingerprint", name="uq_tracking_event_order_id_fingerprint"),
    )
    op.create_index("ix_tracking_event_order_id_occurred_at", "tracking_event", ["order_id", "occurred_at"])
    # Plain ADD COLUMNs: a batch copy would re-create tables that foreign keys point at.
    for name in ("promised_ship_by", "promised_delivery_by", "signed_at"):
        op.add_column("sales_order", sa.Column(name, sa.DateTime(timezone=True)))
    op.add_column("sales_order", sa.Column("signed_source", sa.String(10)))
    where = sa.text("shipped_at IS NOT NULL")
    op.create_index("ix_sales_order_unsigned", "sales_order", ["status", "shipped_at"], postgresql_where=where,
                    sqlite_where=where)
    op.create_index("ix_shipment_tracking_no", "shipment", ["tracking_no"])
    op.add_column("product", sa.Column("shipping_template_id", sa.String(40)))
    op.add_column("variant", sa.Column("volume", sa.Integer()))


def downgrade() -> None:
    op.drop_column("variant", "volume")
    op.drop_column("product", "shipping_template_id")
    op.drop_index("ix_shipment_tracking_no", table_name="shipment")
    op.drop_index("ix_sales_order_unsigned", table_name="sales_order")
    for name in ("signed_source", "signed_at", "promised_delivery_by", "promised_ship_by"):
        op.drop_column("sales_order", name)
    op.drop_index("ix_tracking_event_order_id_occurred_at", table_name="tracking_event")
    op.drop_table("tracking_event")
    op.drop_table("delivery_promise")
    op.drop_index("ix_shipping_template_merchant_id_id", table_name="shipping_template")
    op.drop_table("shipping_template")
