"""merge: listing revisions and licence changes, webhooks, returns C29-C34, till sync health, till coupons

Revision ID: 5c8e0a1f2b94
Revises: f065bdf1e01b, 1985e11e9ee2, 93b168f5157a, b7d2e5f1c3a8, 4d4fd2c4b8d9
Create Date: 2026-11-27 17:00:00.000000
"""
from collections.abc import Sequence

revision: str = '5c8e0a1f2b94'
down_revision: str | Sequence[str] | None = ('f065bdf1e01b', '1985e11e9ee2', '93b168f5157a', 'b7d2e5f1c3a8',
                                             '4d4fd2c4b8d9')
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
