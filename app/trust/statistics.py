"""Statistics for the authorities (C25: ECL art. 25, NTM art. 34): price, sales and turnover of the platform's
online orders by period (Shanghai calendar day or month), category and region, for a range of days, as JSON or
CSV. Every export is written to the audit log.

What counts: order lines of orders placed online (retail, wholesale, community; not the stores' tills) in the
range that are neither cancelled nor still waiting for payment. `orders` counts the orders with a line in the
group, `units` the units sold, `turnover` the lines' totals (fen: quantity × unit price less the line's share of
the order discount; shipping is not goods, and later refunds are not taken off). `average_price` is turnover per
unit, `min_price` / `max_price` the lowest and highest unit price sold at. The category is the one the line was
sold under; the region is the province of the delivery address, `未知` for orders picked up in a store or whose
address was moved to the legal-hold store when the buyer closed the account.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import SHANGHAI
from app.core.errors import field_error
from app.db import dialect_of
from app.logistics.rules import PROVINCES, province_key
from app.orders.models import Order, OrderLine
from app.orders.rules import ONLINE_CHANNELS
from app.trust.audit_log import record_audit

Period = Literal["day", "month"]
MAX_DAYS: dict[str, int] = {"day": 366, "month": 3 * 366}  # a year of days, three years of months
UNKNOWN_REGION = "未知"
COLUMNS = ("period", "category", "region", "currency", "orders", "units", "turnover", "average_price", "min_price",
           "max_price")
_PROVINCE_BY_KEY = {province_key(p): p for p in PROVINCES}


def region_of(province: str | None) -> str:
    """The province however the buyer wrote it (上海, 上海市) as its full name; UNKNOWN_REGION when there is none."""
    name = (province or "").strip()
    if not name:
        return UNKNOWN_REGION
    return _PROVINCE_BY_KEY.get(province_key(name), name[:20])


def _bucket(session: AsyncSession, period: Period) -> ColumnElement[str]:
    """The Shanghai day (2026-11-03) or month (2026-11) an order was placed in, as text on both databases."""
    if dialect_of(session) == "postgresql":
        return func.to_char(func.timezone("Asia/Shanghai", Order.created_at),
                            "YYYY-MM-DD" if period == "day" else "YYYY-MM")
    # SQLite stores UTC text; Shanghai keeps no daylight saving, so +8 hours is its local time.
    return func.strftime("%Y-%m-%d" if period == "day" else "%Y-%m", Order.created_at, "+8 hours")


@dataclass(slots=True)
class _Group:
    orders: int = 0
    units: int = 0
    turnover: int = 0
    min_price: int | None = None
    max_price: int | None = None

    def add(self, orders: int, units: int, turnover: int, low: int, high: int) -> None:
        # An order has one address, so orders of one raw spelling and another never overlap: counts add up.
        self.orders += orders
        self.units += units
        self.turnover += turnover
        self.min_price = low if self.min_price is None else min(self.min_price, low)
        self.max_price = high if self.max_price is None else max(self.max_price, high)


def _average(turnover: int, units: int) -> int | None:
    """Turnover per unit in whole fen, halves rounded up (integers only: money never goes through floats)."""
    return (2 * turnover + units) // (2 * units) if units else None


async def statistics(session: AsyncSession, *, start: date, end: date, period: Period) -> dict[str, Any]:
    """The groups (period, category, region, currency) of the Shanghai days `start`..`end`, both included, in
    that order, and their totals (an order with lines in two categories is one order there)."""
    if end < start:
        raise field_error("to", "must not be before `from`")
    if (end - start).days >= MAX_DAYS[period]:
        raise field_error("to", f"at most {MAX_DAYS[period]} days by {period}")
    lo = datetime.combine(start, time(0), SHANGHAI).astimezone(UTC)
    hi = datetime.combine(end + timedelta(days=1), time(0), SHANGHAI).astimezone(UTC)
    counted = (Order.created_at >= lo, Order.created_at < hi, Order.channel.in_(ONLINE_CHANNELS),
               Order.status.not_in(("cancelled", "pending_payment")))
    bucket = _bucket(session, period).label("bucket")
    province = Order.fulfilment["address"]["province"].as_string().label("province")
    rows = (await session.execute(
        select(bucket, OrderLine.category, province, Order.currency, func.count(func.distinct(Order.id)),
               func.sum(OrderLine.quantity), func.sum(OrderLine.total), func.min(OrderLine.unit_price),
               func.max(OrderLine.unit_price))
        .join(Order, Order.id == OrderLine.order_id).where(*counted)
        .group_by(bucket, OrderLine.category, province, Order.currency))).all()
    groups: dict[tuple[str, str, str, str], _Group] = {}
    for b, category, raw_province, currency, orders, units, turnover, low, high in rows:
        key = (str(b), category, region_of(raw_province), currency)
        groups.setdefault(key, _Group()).add(int(orders), int(units or 0), int(turnover or 0), int(low), int(high))
    items = [{"period": p, "category": c, "region": r, "currency": cur, "orders": g.orders, "units": g.units,
              "turnover": g.turnover, "average_price": _average(g.turnover, g.units), "min_price": g.min_price,
              "max_price": g.max_price} for (p, c, r, cur), g in sorted(groups.items())]
    totals = (await session.execute(
        select(func.count(func.distinct(Order.id)), func.coalesce(func.sum(OrderLine.quantity), 0),
               func.coalesce(func.sum(OrderLine.total), 0))
        .join(Order, Order.id == OrderLine.order_id).where(*counted))).one()
    return {"from_": start, "to": end, "period": period, "items": items,
            "totals": {"orders": int(totals[0]), "units": int(totals[1]), "turnover": int(totals[2])}}


def to_csv(stats: dict[str, Any]) -> bytes:
    """One row per group under COLUMNS (UTF-8 with a BOM, so spreadsheet software reads the Chinese right)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerows([item[c] for c in COLUMNS] for item in stats["items"])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


async def export(*, session: AsyncSession, actor: str, start: date, end: date, period: Period,
                 fmt: Literal["json", "csv"]) -> dict[str, Any]:
    """The statistics, with the export written to the audit log (who asked, for what range, in what form)."""
    stats = await statistics(session, start=start, end=end, period=period)
    await record_audit(session, actor=actor, action="export.statistics", target_type="export", target_id=None,
                       after={"from": start.isoformat(), "to": end.isoformat(), "period": period, "format": fmt,
                              "groups": len(stats["items"])})
    await session.commit()
    return stats
