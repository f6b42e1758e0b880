"""Import every model module so the metadata is complete (Alembic, tests)."""

from __future__ import annotations


def load_all() -> None:
    import app.catalog.models
    import app.core.models
    import app.inventory.models
    import app.merchants.models
    import app.orders.models
    import app.retail.models  # noqa: F401
