"""Seller records, platform rule versions, shop closure, return mediation

Revision ID: c7d1e5a3f920
Revises: c8d4f1a2e9b7
Create Date: 2026-12-03 14:00:00.000000

merchant: the verification record a platform keeps on each seller (ECL art. 27, NTM art. 24): licence type,
registered address, legal representative, contact phone, licence expiry, who verified it; whether the goods are
the platform's own (自营, ECL art. 37); a closure announced 30 days ahead (ECL art. 16).
rule_version, rule_comment, rule_decision: the platform's trading rules, each version published for comment
at least 7 days before it takes effect, and each merchant's acceptance or refusal (ECL arts. 33-34).
order_return: a buyer may dispute a seller's rejection; the platform mediates (R7 art. 25).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c7d1e5a3f920'
down_revision: str | None = 'c8d4f1a2e9b7'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_MERCHANT = [
    sa.Column("licence_type", sa.String(40)),
    sa.Column("registered_address", sa.String(300)),
    sa.Column("legal_representative", sa.String(100)),
    sa.Column("contact_phone", sa.String(30)),
    sa.Column("licence_expires_on", sa.Date()),
    sa.Column("verified_by", sa.String(60)),
    sa.Column("closure_announced_at", sa.DateTime(timezone=True)),
    sa.Column("closes_at", sa.DateTime(timezone=True)),
    sa.Column("closure_note", sa.String(500)),
]
_RETURN = [
    sa.Column("disputed_at", sa.DateTime(timezone=True)),
    sa.Column("dispute_reason", sa.String(500)),
    sa.Column("mediation_due_at", sa.DateTime(timezone=True)),
    sa.Column("mediated_at", sa.DateTime(timezone=True)),
    sa.Column("mediated_by", sa.String(60)),
    sa.Column("mediation_outcome", sa.String(20)),
    sa.Column("mediation_note", sa.String(500)),
]


def upgrade() -> None:
    # Plain ADD COLUMNs: a batch copy would re-create tables that foreign keys point at.
    for column in _MERCHANT:
        op.add_column("merchant", column)
    op.add_column("merchant", sa.Column("self_operated", sa.Boolean(), nullable=False, server_default=sa.false()))
    for column in _RETURN:
        op.add_column("order_return", column)
    op.create_index("ix_order_return_disputed_at", "order_return", ["disputed_at"])
    op.create_table(
        "rule_version",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("version", sa.String(20), nullable=False),
        sa.Column("category", sa.String(30), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("summary", sa.String(1000), nullable=False),
        sa.Column("published_by", sa.String(60), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("comment_closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("effective_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("version", name="uq_rule_version_version"),
    )
    op.create_index("ix_rule_version_effective_at", "rule_version", ["effective_at"])
    op.create_table(
        "rule_comment",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("rule_version_id", sa.String(40), sa.ForeignKey("rule_version.id"), nullable=False),
        sa.Column("author", sa.String(60), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_rule_comment_rule_version_id", "rule_comment", ["rule_version_id"])
    op.create_table(
        "rule_decision",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("rule_version_id", sa.String(40), sa.ForeignKey("rule_version.id"), nullable=False),
        sa.Column("merchant_id", sa.String(40), sa.ForeignKey("merchant.id"), nullable=False),
        sa.Column("decision", sa.String(10), nullable=False),
        sa.Column("decided_by", sa.String(60), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("rule_version_id", "merchant_id", name="uq_rule_decision_rule_version_id_merchant_id"),
    )


def downgrade() -> None:
    op.drop_table("rule_decision")
    op.drop_index("ix_rule_comment_rule_version_id", table_name="rule_comment")
    op.drop_table("rule_comment")
    op.drop_index("ix_rule_version_effective_at", table_name="rule_version")
    op.drop_table("rule_version")
    op.drop_index("ix_order_return_disputed_at", table_name="order_return")
    for column in reversed(_RETURN):
        op.drop_column("order_return", column.name)
    op.drop_column("merchant", "self_operated")
    for column in reversed(_MERCHANT):
        op.drop_column("merchant", column.name)
