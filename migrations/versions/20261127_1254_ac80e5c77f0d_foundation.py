"""Foundation: merchants, locations, devices, tokens, catalog, idempotency keys, outbox

Revision ID: ac80e5c77f0d
Revises:
Create Date: 2026-11-27 12:54:27.033842
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# Frozen copy: a migration must not change when the app's list does.
CATEGORIES = [
    ("apparel", "服装鞋帽", "Apparel", True),
    ("appliances", "家用电器", "Appliances", True),
    ("home", "家居家装", "Home", True),
    ("books-media", "图书音像", "Books & media", True),
    ("agri", "农产品", "Agricultural products", True),
    ("daily-goods", "日用百货", "Daily goods", True),
    ("production-materials", "生产资料", "Production materials", True),
    ("fresh", "生鲜", "Fresh food", False),
    ("services", "本地服务", "Local services", False),
]

revision: str = 'ac80e5c77f0d'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('access_token',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('merchant_id', sa.String(length=40), nullable=True),
    sa.Column('location_id', sa.String(length=40), nullable=True),
    sa.Column('subject_id', sa.String(length=40), nullable=True),
    sa.Column('label', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_access_token_token_hash'))
    )
    with op.batch_alter_table('access_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_token_merchant_id'), ['merchant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_access_token_subject_id'), ['subject_id'], unique=False)

    op.create_table('category',
    sa.Column('slug', sa.String(length=40), nullable=False),
    sa.Column('name_zh', sa.String(length=60), nullable=False),
    sa.Column('name_en', sa.String(length=60), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('returnable', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('slug', name=op.f('pk_category'))
    )
    op.create_table('event',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=60), nullable=False),
    sa.Column('merchant_id', sa.String(length=40), nullable=True),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_event'))
    )
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_event_merchant_id'), ['merchant_id'], unique=False)
        batch_op.create_index('ix_event_unpublished', ['published_at', 'seq'], unique=False)

    op.create_table('idempotency_key',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('scope', sa.String(length=120), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=False),
    sa.Column('response_body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_key')),
    sa.UniqueConstraint('scope', 'key', name=op.f('uq_idempotency_key_scope_key'))
    )
    with op.batch_alter_table('idempotency_key', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_idempotency_key_created_at'), ['created_at'], unique=False)

    op.create_table('merchant',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('licence_no', sa.String(length=64), nullable=False),
    sa.Column('icp_no', sa.String(length=64), nullable=True),
    sa.Column('contact_email', sa.String(length=254), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('status_reason', sa.String(length=500), nullable=True),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_merchant'))
    )
    with op.batch_alter_table('merchant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_merchant_status'), ['status'], unique=False)

    op.create_table('location',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('address', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_location_merchant_id_merchant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_location')),
    sa.UniqueConstraint('merchant_id', 'code', name=op.f('uq_location_merchant_id_code'))
    )
    with op.batch_alter_table('location', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_location_merchant_id'), ['merchant_id'], unique=False)

    op.create_table('product',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('category', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('search_tokens', postgresql.ARRAY(sa.Text()).with_variant(sa.JSON(), 'sqlite'), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['category'], ['category.slug'], name=op.f('fk_product_category_category')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_product_merchant_id_merchant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_product'))
    )
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.create_index('ix_product_category_id', ['category', 'id'], unique=False)
        batch_op.create_index('ix_product_merchant_id_id', ['merchant_id', 'id'], unique=False)

    op.create_table('device',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('location_id', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['location_id'], ['location.id'], name=op.f('fk_device_location_id_location')),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_device_merchant_id_merchant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_device'))
    )
    with op.batch_alter_table('device', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_device_location_id'), ['location_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_device_merchant_id'), ['merchant_id'], unique=False)

    op.create_table('variant',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('product_id', sa.String(length=40), nullable=False),
    sa.Column('merchant_id', sa.String(length=40), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('price', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('attributes', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('wholesale', sa.Boolean(), nullable=False),
    sa.Column('moq', sa.Integer(), nullable=False),
    sa.Column('pack_size', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['merchant_id'], ['merchant.id'], name=op.f('fk_variant_merchant_id_merchant')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_variant_product_id_product')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_variant')),
    sa.UniqueConstraint('merchant_id', 'sku', name=op.f('uq_variant_merchant_id_sku'))
    )
    with op.batch_alter_table('variant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_variant_product_id'), ['product_id'], unique=False)

    op.create_table('price_tier',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('variant_id', sa.String(length=40), nullable=False),
    sa.Column('min_qty', sa.Integer(), nullable=False),
    sa.Column('unit_price', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['variant_id'], ['variant.id'], name=op.f('fk_price_tier_variant_id_variant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_price_tier')),
    sa.UniqueConstraint('variant_id', 'min_qty', name=op.f('uq_price_tier_variant_id_min_qty'))
    )
    with op.batch_alter_table('price_tier', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_price_tier_variant_id'), ['variant_id'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        # Search tokens (CJK unigrams/bigrams, Latin trigrams) behind a GIN index: see app/catalog/search.py.
        op.create_index("ix_product_search_tokens", "product", ["search_tokens"], postgresql_using="gin")
    category = sa.table("category", sa.column("slug", sa.String), sa.column("name_zh", sa.String),
                        sa.column("name_en", sa.String), sa.column("position", sa.Integer),
                        sa.column("returnable", sa.Boolean))
    op.bulk_insert(category, [
        {"slug": slug, "name_zh": zh, "name_en": en, "position": i, "returnable": returnable}
        for i, (slug, zh, en, returnable) in enumerate(CATEGORIES)
    ])


def downgrade() -> None:
    with op.batch_alter_table('price_tier', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_price_tier_variant_id'))

    op.drop_table('price_tier')
    with op.batch_alter_table('variant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_variant_product_id'))

    op.drop_table('variant')
    with op.batch_alter_table('device', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_device_merchant_id'))
        batch_op.drop_index(batch_op.f('ix_device_location_id'))

    op.drop_table('device')
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.drop_index('ix_product_merchant_id_id')
        batch_op.drop_index('ix_product_category_id')

    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_product_search_tokens", table_name="product")
    op.drop_table('product')
    with op.batch_alter_table('location', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_location_merchant_id'))

    op.drop_table('location')
    with op.batch_alter_table('merchant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_merchant_status'))

    op.drop_table('merchant')
    with op.batch_alter_table('idempotency_key', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotency_key_created_at'))

    op.drop_table('idempotency_key')
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_index('ix_event_unpublished')
        batch_op.drop_index(batch_op.f('ix_event_merchant_id'))

    op.drop_table('event')
    op.drop_table('category')
    with op.batch_alter_table('access_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_token_subject_id'))
        batch_op.drop_index(batch_op.f('ix_access_token_merchant_id'))

    op.drop_table('access_token')
