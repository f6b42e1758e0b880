"""Merge the branches made in parallel: community, wholesale, POS sync, trust, campaigns

Revision ID: 92a2cbc3e176
Revises: 4b0f52605850, cb519751ab3e, e4c1d7a93b52, e7a1c4d92f30, e9276ae4a802
Create Date: 2026-11-27 13:49:00.150472
"""
from collections.abc import Sequence

revision: str = '92a2cbc3e176'
down_revision: str | Sequence[str] | None = ('4b0f52605850', 'cb519751ab3e', 'e4c1d7a93b52', 'e7a1c4d92f30', 'e9276ae4a802')
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
