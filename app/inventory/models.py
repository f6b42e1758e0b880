"""Stock levels per (location, variant) and the append-only ledger they can be rebuilt from."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.clock import utcnow
from app.core.columns import Int64
from app.db import Base, BigIntPK, binary_string


class StockLevel(Base):
    __tablename__ = "stock_level"
    __table_args__ = (
        UniqueConstraint("location_id", "variant_id"),
        Index("ix_stock_level_variant_id", "variant_id"),
        CheckConstraint("reserved >= 0", name="reserved_non_negative"),
        # Levels change all the time: keep changed columns out of indexes and room on each page, so an
        # update stays on its page (HOT) instead of adding an entry to every index.
        {"postgresql_with": {"fillfactor": 50}},
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchant.id"), index=True)
    location_id: Mapped[str] = mapped_column(ForeignKey("location.id"))
    variant_id: Mapped[str] = mapped_column(ForeignKey("variant.id"))
    on_hand: Mapped[int] = mapped_column(Int64, default=0)  # may go negative after store oversells
    reserved: Mapped[int] = mapped_column(Int64, default=0)  # promised to open orders
    safety_stock: Mapped[int] = mapped_column(Int64, default=0)  # kept back from online sale
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Position of the last change in its location's changes feed (see StockChangeCounter).
    change_seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    # The latest POS count folded into on_hand, by (occurred_at, event_id); see app.inventory.pos.rules.
    last_count_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_count_event_id: Mapped[str | None] = mapped_column(String(100))


class StockChangeCounter(Base):
    """Per-location change sequence for the POS changes feed.

    A transaction that changed stock at a location takes the next number from this row as its very
    last step before commit (UPDATE ... RETURNING, so the row stays locked until the commit) and stamps
    it on the levels it changed. Writers of one location therefore commit in sequence order, and a
    reader that has seen number n has seen everything numbered below n: the feed has no gaps.
    """

    __tablename__ = "stock_change_counter"

    location_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)


class PosSalesDay(Base):
    """Store sales a till uploaded, summed per Shanghai calendar day (the channel-share report reads these).

    Each till adds to its own rows, in the upload's transaction, so concurrent tills never wait on each other.
    """

    __tablename__ = "pos_sales_day"
    __table_args__ = (Index("ix_pos_sales_day_day", "day"),)  # the platform's figure, all merchants

    merchant_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    location_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    device_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    amount: Mapped[int] = mapped_column(BigInteger, default=0)  # fen
    units: Mapped[int] = mapped_column(BigInteger, default=0)
    sales: Mapped[int] = mapped_column(Int64, default=0)  # sale events


class StockConflict(Base):
    """Store sales and online reservations together exceed on_hand at a location: the merchant decides."""

    __tablename__ = "stock_conflict"
    __table_args__ = (
        Index("ix_stock_conflict_merchant_id_status_id", "merchant_id", "status", "id"),
        Index("uq_stock_conflict_open", "location_id", "variant_id", unique=True,
              postgresql_where=text("status = 'open'"), sqlite_where=text("status = 'open'")),
        # A store that keeps selling below zero updates its open conflicts' shortfall upload after upload:
        # room on each page keeps those updates on the page (HOT), out of the three indexes.
        {"postgresql_with": {"fillfactor": 50}},
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(40))
    location_id: Mapped[str] = mapped_column(String(40))
    variant_id: Mapped[str] = mapped_column(String(40))
    sku: Mapped[str] = mapped_column(String(64))
    shortfall: Mapped[int] = mapped_column(Int64)  # reserved - on_hand when last seen
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | resolved
    resolution: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class StockMovement(Base):
    """One change of on_hand and/or reserved. Levels = the sums of these deltas, always.

    A till's event is a movement too, whatever it moves (kind `pos_sale`, `pos_return`, `pos_receive`,
    `pos_adjust`, or `pos_count`, which moves nothing itself: the `pos_fold` rows carry what a count changes).
    It keeps what the till sent: `event_id`, `quantity` and, for sales and returns, `unit_price` and `amount`.
    Its idempotency key is `pos:<merchant>:<event id>`, so an event id applies once per merchant.
    """

    __tablename__ = "stock_movement"
    __table_args__ = (Index("ix_stock_movement_level", "location_id", "variant_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    merchant_id: Mapped[str] = mapped_column(String(40))
    location_id: Mapped[str] = mapped_column(String(40))
    variant_id: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20))  # count|receive|reserve|release|fulfil|restock|sale|pos_...
    on_hand_delta: Mapped[int] = mapped_column(Int64, default=0)
    reserved_delta: Mapped[int] = mapped_column(Int64, default=0)
    source: Mapped[str] = mapped_column(String(80))  # e.g. "order:ord_...", "api", "pos:dev_..."
    idempotency_key: Mapped[str] = mapped_column(binary_string(200), unique=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    event_id: Mapped[str | None] = mapped_column(binary_string(100))  # a till's event id
    quantity: Mapped[int | None] = mapped_column(Int64)  # as the till sent it (the counted on_hand for a count)
    unit_price: Mapped[int | None] = mapped_column(BigInteger)  # fen; a till's sale or return
    amount: Mapped[int | None] = mapped_column(BigInteger)  # quantity x unit_price for a till's sale
    currency: Mapped[str | None] = mapped_column(String(3))


class Allocation(Base):
    """Stock promised to an order line at one location (an order line may be split over several)."""

    __tablename__ = "allocation"
    __table_args__ = (Index("ix_allocation_order_id", "order_id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(String(40))
    order_id: Mapped[str] = mapped_column(String(40))
    variant_id: Mapped[str] = mapped_column(String(40))
    location_id: Mapped[str] = mapped_column(String(40))
    quantity: Mapped[int] = mapped_column(Int64)
    status: Mapped[str] = mapped_column(String(20), default="reserved")  # reserved | released | fulfilled
