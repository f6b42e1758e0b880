"""An order's rows are built in Python for every database (`orders.placing.drafts.build`). On PostgreSQL they reach
the table as JSON (`jsonb_populate_recordset`), where a missing key is written as NULL, not as the column's
default: every column with a default must be set by the builder, and no key may name a column that is not there.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

from sqlalchemy import Table

from app.orders.models import Order, OrderLine
from app.orders.placing.drafts import DraftLine, OrderDraft, PromotionTerms, build


def _with_default(table: Table) -> set[str]:
    return {c.name for c in table.columns if c.default is not None or c.server_default is not None}


def test_order_rows_set_every_defaulted_column_and_name_only_real_ones() -> None:
    line = DraftLine(variant_id="var_1", product_id="prd_1", sku="SKU-1", title="茶叶 Tea", category="food",
                     returnable=True, quantity=2, unit_price=1_500)
    draft = OrderDraft(merchant_id="mer_1", channel="retail", lines=[line], payment_method="stripe", currency="CNY",
                       fulfilment={"type": "pickup"}, pickup_location_id="loc_1", customer_id="cus_1",
                       promotion=PromotionTerms(code="TEN", kind="percent", value=10))
    placed = build(draft, checkout_id="chk_1", payment_id="pay_1", now=datetime(2026, 11, 28, tzinfo=UTC),
                   hold_minutes=30)
    for table, rows in ((cast(Table, Order.__table__), [placed.order]),
                        (cast(Table, OrderLine.__table__), placed.lines)):
        columns = {c.name for c in table.columns}
        for row in rows:
            assert set(row) <= columns, f"{table.name}: keys that are no column"
            assert _with_default(table) <= set(row), f"{table.name}: defaulted columns left to NULL"
    assert placed.order["hold_expires_at"] is not None and placed.order["pickup_code"]
    assert placed.order["total"] == 2_700 and placed.lines[0]["total"] == 2_700
