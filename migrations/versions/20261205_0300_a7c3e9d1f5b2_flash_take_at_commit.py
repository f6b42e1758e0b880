"""Flash sales: a sale's units are taken when its order commits (PostgreSQL)

Revision ID: a7c3e9d1f5b2
Revises: f3b8a1c6d2e4
Create Date: 2026-12-05 03:00:00.000000

Every order of a flash sale counts the sale's one row down. That statement used to run as the order
transaction's last before the application sent COMMIT, so the row stayed locked for a round trip and for however
long a busy event loop took to send the COMMIT: the winners of a rush queued on it. Now the order's transaction
inserts its `flash_order` row and a deferred constraint trigger does the rest when the transaction commits: the
sale counted down (refused unless it runs, has the units and the buyer stays under the limit), its holds locked
after it and handed over to the order (allocations, ledger movements). The row is locked from there to the end
of the commit, with no round trip in between. A refusal fails the commit with SQLSTATE LTF01 (the application
asks the database why and answers 409); holds short of the sale's count fail it with LTF02.
"""
from collections.abc import Sequence

from alembic import op

revision: str = 'a7c3e9d1f5b2'
down_revision: str | None = 'f3b8a1c6d2e4'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FUNCTION = """
CREATE FUNCTION flash_order_take() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    sold bigint;
    handed bigint;
BEGIN
    IF NEW.status <> 'held' THEN
        RETURN NULL;
    END IF;
    -- The buyer's own row is inserted already: the limit counts it with the buyer's earlier ones.
    WITH sale AS (
        UPDATE flash_sale
           SET remaining = remaining - NEW.quantity
         WHERE id = NEW.sale_id AND status = 'active' AND remaining >= NEW.quantity
           AND starts_at <= NEW.created_at AND ends_at > NEW.created_at
           AND per_buyer_limit >= (SELECT coalesce(sum(f.quantity), 0) FROM flash_order AS f
                                    WHERE f.sale_id = NEW.sale_id AND f.customer_id = NEW.customer_id
                                      AND f.status = 'held')
     RETURNING id, merchant_id, variant_id
    ), holds AS (
        SELECT location_id, quantity FROM flash_hold
         WHERE sale_id = NEW.sale_id AND quantity > 0 AND EXISTS (SELECT 1 FROM sale)
         ORDER BY location_id
           FOR UPDATE
    ), takes AS (
        SELECT location_id, row_number() OVER w AS i,
               least(quantity, NEW.quantity - coalesce(sum(quantity) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING
                                                                            AND 1 PRECEDING), 0)) AS n
          FROM holds WINDOW w AS (ORDER BY location_id)
    ), held AS (
        UPDATE flash_hold AS h
           SET quantity = h.quantity - t.n
          FROM takes AS t
         WHERE h.sale_id = NEW.sale_id AND h.location_id = t.location_id AND t.n > 0
     RETURNING h.location_id, t.n, t.i
    ), allocated AS (
        INSERT INTO allocation (id, merchant_id, order_id, variant_id, location_id, quantity, status)
        SELECT 'alc_' || substr(NEW.order_id, 5) || lpad(CAST(h.i AS text), 5, '0'), s.merchant_id, NEW.order_id,
               s.variant_id, h.location_id, h.n, 'reserved'
          FROM held AS h CROSS JOIN sale AS s
    ), moved AS (
        INSERT INTO stock_movement (merchant_id, location_id, variant_id, kind, on_hand_delta, reserved_delta,
                                    source, idempotency_key, occurred_at, recorded_at)
        SELECT s.merchant_id, h.location_id, s.variant_id, m.kind, 0, m.sign * h.n, m.source,
               m.kind || ':flash:' || NEW.sale_id || ':' || NEW.order_id || ':' || h.location_id,
               NEW.created_at, NEW.created_at
          FROM held AS h CROSS JOIN sale AS s
         CROSS JOIN (VALUES ('release', -1, 'flash:' || NEW.sale_id),
                            ('reserve', 1, 'order:' || NEW.order_id)) AS m(kind, sign, source)
    )
    SELECT (SELECT count(*) FROM sale), (SELECT coalesce(sum(n), 0) FROM held) INTO sold, handed;
    IF sold = 0 THEN
        RAISE EXCEPTION 'flash sale % refused order %', NEW.sale_id, NEW.order_id USING ERRCODE = 'LTF01';
    END IF;
    IF handed <> NEW.quantity THEN
        RAISE EXCEPTION 'flash sale % holds % of the % units of order %', NEW.sale_id, handed, NEW.quantity,
              NEW.order_id USING ERRCODE = 'LTF02';
    END IF;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite runs one writer at a time: its orders count the sale down in their own statements
    op.execute(_FUNCTION)
    op.execute("CREATE CONSTRAINT TRIGGER flash_order_take AFTER INSERT ON flash_order "
               "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION flash_order_take()")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER flash_order_take ON flash_order")
    op.execute("DROP FUNCTION flash_order_take()")
