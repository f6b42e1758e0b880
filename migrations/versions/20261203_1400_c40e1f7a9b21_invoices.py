"""Invoices (C40): per-product VAT rates, invoice requests, blue and red invoices with their PDF, number counters

Revision ID: c40e1f7a9b21
Revises: c7d1e5a3f920
Create Date: 2026-12-03 14:00:00.000000

product.tax_rate: the VAT rate in percent a product's invoice lines charge; NULL takes its category's usual rate
(app/catalog/tax.py). invoice keeps each issued invoice's lines, totals and PDF with its order; rows are only
added (a correction is a red invoice).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = 'c40e1f7a9b21'
down_revision: str | None = 'c7d1e5a3f920'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN (nullable): a batch copy of product would fight the foreign keys pointing at it.
    op.add_column("product", sa.Column("tax_rate", sa.Integer(), nullable=True))
    json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    op.create_table(
        "invoice_request",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("order_id", sa.String(40), nullable=False),
        sa.Column("merchant_id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("title", sa.String(100), nullable=False),
        sa.Column("taxpayer_id", sa.String(18), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["sales_order.id"], name=op.f("fk_invoice_request_order_id_sales_order")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_request")),
        sa.UniqueConstraint("order_id", name=op.f("uq_invoice_request_order_id")),
    )
    op.create_table(
        "invoice",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("order_id", sa.String(40), nullable=False),
        sa.Column("merchant_id", sa.String(40), nullable=False),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("color", sa.String(4), nullable=False),
        sa.Column("original_id", sa.String(40), nullable=True),
        sa.Column("return_id", sa.String(40), nullable=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("title", sa.String(100), nullable=False),
        sa.Column("taxpayer_id", sa.String(18), nullable=True),
        sa.Column("lines", json, nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("tax_total", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("issuer", sa.String(20), nullable=False),
        sa.Column("issuer_ref", sa.String(80), nullable=True),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["sales_order.id"], name=op.f("fk_invoice_order_id_sales_order")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice")),
        sa.UniqueConstraint("merchant_id", "number", name=op.f("uq_invoice_merchant_id_number")),
    )
    op.create_index(op.f("ix_invoice_order_id"), "invoice", ["order_id"], unique=False)
    op.create_table(
        "invoice_counter",
        sa.Column("merchant_id", sa.String(40), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("merchant_id", name=op.f("pk_invoice_counter")),
    )


def downgrade() -> None:
    op.drop_table("invoice_counter")
    op.drop_index(op.f("ix_invoice_order_id"), table_name="invoice")
    op.drop_table("invoice")
    op.drop_table("invoice_request")
    with op.batch_alter_table("product") as batch_op:
        batch_op.drop_column("tax_rate")
