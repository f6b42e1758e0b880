"""An individual seller's separate consent to the platform keeping its ID number

Revision ID: d19b2e8f5a61
Revises: d35a7c1e4b20
Create Date: 2026-12-03 18:10:00.000000

A resident ID number is sensitive personal information (PIPL arts. 28-29): it is kept only with its own consent,
recorded with the notice version and time on the seller's record.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'd19b2e8f5a61'
down_revision: str | None = 'd35a7c1e4b20'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("merchant") as batch:
        batch.add_column(sa.Column("id_number_consent_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("id_number_consent_version", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("merchant") as batch:
        batch.drop_column("id_number_consent_version")
        batch.drop_column("id_number_consent_at")
