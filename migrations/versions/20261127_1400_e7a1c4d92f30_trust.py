"""trust and compliance: reviews, complaints, enforcement, reputation, seller profiles, audit log

Revision ID: e7a1c4d92f30
Revises: 17a63a89b9f0
Create Date: 2026-11-27 14:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

revision: str = 'e7a1c4d92f30'
down_revision: str | None = '17a63a89b9f0'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The audit log is append-only: the database itself refuses to change or delete its rows
# (TRUNCATE, used by the test suite between tests, is not a row operation and still works on PostgreSQL).
PG_APPEND_ONLY = ("""
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only';
END $$
""", """
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()
""")
SQLITE_APPEND_ONLY = """
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END
"""


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('actor', sa.String(length=60), nullable=False),
    sa.Column('action', sa.String(length=120), nullable=False),
    sa.Column('target_type', sa.String(length=40), nullable=False),
    sa.Column('target_id', sa.String(length=80), nullable=True),
    sa.Column('merchant_id', sa.String(length=40), nullable=True),
    sa.Column('before', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=True),
    sa.Column('after', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_merchant_id'), ['merchant_id'], unique=False)
    op.create_table('complaint',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('target_type', sa.String(length=20), nullable=False),
    sa.Column('target_id', sa.String(length=40), nullable=False),
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('category', sa.String(length=30), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('evidence', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('complainant', sa.String(length=60), nullable=False),
    sa.Column('contact_email', sa.String(length=254), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('resolution', sa.Text(), nullable=True),
    sa.Column('history', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('sla_due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_complaint_merchant_id_merchant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint'))
    )
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaint_merchant_id'), ['merchant_id'], unique=False)
        batch_op.create_index('ix_complaint_status_id', ['status', 'id'], unique=False)
    op.create_table('enforcement',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('shop_name', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=20), nullable=False),
    sa.Column('target_type', sa.String(length=20), nullable=False),
    sa.Column('target_id', sa.String(length=40), nullable=False),
    sa.Column('target_title', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_enforcement_merchant_id_merchant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enforcement'))
    )
    with op.batch_alter_table('enforcement', schema=None) as batch_op:
        batch_op.create_index('ix_enforcement_decided_at', ['decided_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_enforcement_merchant_id'), ['merchant_id'], unique=False)
    op.create_table('merchant_reputation',
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('rating_count', sa.Integer(), nullable=False),
    sa.Column('rating_sum', sa.Integer(), nullable=False),
    sa.Column('upheld_complaints', sa.Integer(), nullable=False),
    sa.Column('takedowns', sa.Integer(), nullable=False),
    sa.Column('credit_score', sa.Integer(), nullable=False),
    sa.Column('formula_version', sa.String(length=20), nullable=False),
    sa.Column('reverify_flagged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_merchant_reputation_merchant_id_merchant')),
    sa.PrimaryKeyConstraint('merchant_id', name=op.f('pk_merchant_reputation'))
    )
    op.create_table('review',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('order_id', sa.String(length=40), nullable=False),
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('customer_id', sa.String(length=40), nullable=False),
    sa.Column('rating', sa.SmallInteger(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('reply', sa.Text(), nullable=True),
    sa.Column('replied_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('masked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('mask_reason', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_review_merchant_id_merchant')),
    sa.ForeignKeyConstraint(['order_id'], ['sales_order.id'], name=op.f('fk_review_order_id_sales_order')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review')),
    sa.UniqueConstraint('order_id', name=op.f('uq_review_order_id'))
    )
    with op.batch_alter_table('review', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index('ix_review_merchant_id_id', ['merchant_id', 'id'], unique=False)
    op.create_table('seller_profile',
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('trading_model', sa.String(length=30), nullable=True),
    sa.Column('self_declaration', sa.String(length=30), nullable=True),
    sa.Column('over_threshold_year', sa.Integer(), nullable=True),
    sa.Column('over_threshold_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_seller_profile_merchant_id_merchant')),
    sa.PrimaryKeyConstraint('merchant_id', name=op.f('pk_seller_profile'))
    )
    if op.get_bind().dialect.name == "postgresql":
        for statement in PG_APPEND_ONLY:
            op.execute(statement)
    else:
        op.execute(SQLITE_APPEND_ONLY)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    op.drop_table('seller_profile')
    with op.batch_alter_table('review', schema=None) as batch_op:
        batch_op.drop_index('ix_review_merchant_id_id')
        batch_op.drop_index(batch_op.f('ix_review_customer_id'))
    op.drop_table('review')
    op.drop_table('merchant_reputation')
    with op.batch_alter_table('enforcement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enforcement_merchant_id'))
        batch_op.drop_index('ix_enforcement_decided_at')
    op.drop_table('enforcement')
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.drop_index('ix_complaint_status_id')
        batch_op.drop_index(batch_op.f('ix_complaint_merchant_id'))
    op.drop_table('complaint')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_merchant_id'))
        batch_op.drop_index(batch_op.f('ix_audit_log_created_at'))
    op.drop_table('audit_log')
