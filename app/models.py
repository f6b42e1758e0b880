"""Import every model module so the metadata is complete (Alembic, tests)."""

from __future__ import annotations


def load_all() -> None:
    import app.catalog.collections.models
    import app.catalog.media.models
    import app.catalog.models
    import app.catalog.search.models
    import app.community.models
    import app.core.models
    import app.imports.models
    import app.inventory.models
    import app.inventory.moves.models
    import app.logistics.models
    import app.merchants.models
    import app.orders.invoices.models
    import app.orders.models
    import app.payments.models
    import app.retail.campaigns.models
    import app.retail.flash.models
    import app.retail.messages.models
    import app.retail.models
    import app.trust.models
    import app.webhooks.models
    import app.wholesale.models  # noqa: F401
