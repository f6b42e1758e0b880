"""Channel share: online against store sales, per merchant or for the platform, by Shanghai calendar day.

Online sales are the totals of orders placed through the online channels (retail, wholesale,
community) that were not cancelled, by the day they were placed. Store sales are POS `sale` events,
by the day they occurred at the till, each valued at quantity x its `unit_price` (the till's price, or
the variant's price when the upload happened if the till sent none). Uploads add them up per till and
day as they arrive (`pos_sales_day`), so the report reads a few rows per store and day.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import SHANGHAI
from app.core.errors import InvalidInput
from app.db import dialect_of
from app.inventory.models import PosSalesDay
from app.orders.models import Order
from app.orders.rules import ONLINE_CHANNELS

MAX_DAYS = 366


def share(online: int, offline: int) -> float | None:
    """online / (online + offline), rounded to 4 decimals; None when nothing was sold."""
    whole = online + offline
    return round(online / whole, 4) if whole else None


def _local_day(session: AsyncSession, column: Any) -> ColumnElement[Any]:
    if dialect_of(session) == "postgresql":
        return func.date(func.timezone("Asia/Shanghai", column))
    return func.date(column, "+8 hours")  # SQLite stores UTC text; Shanghai keeps no daylight saving


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


async def channel_share(session: AsyncSession, *, merchant_id: str | None, start: date, end: date) -> dict[str, Any]:
    """Sales by channel group between two Shanghai calendar days (both included)."""
    if end < start:
        raise InvalidInput("`to` is before `from`", errors=[{"field": "to", "message": "must not be before from"}])
    if (end - start).days >= MAX_DAYS:
        raise InvalidInput("the period is too long", errors=[{"field": "to", "message": f"at most {MAX_DAYS} days"}])
    lo = datetime.combine(start, time(0), SHANGHAI).astimezone(UTC)
    hi = datetime.combine(end + timedelta(days=1), time(0), SHANGHAI).astimezone(UTC)
    day_o = _local_day(session, Order.created_at)
    online_q = (select(day_o, func.sum(Order.total))
                .where(Order.channel.in_(ONLINE_CHANNELS), Order.status != "cancelled",
                       Order.created_at >= lo, Order.created_at < hi).group_by(day_o))
    offline_q = (select(PosSalesDay.day, func.sum(PosSalesDay.amount))
                 .where(PosSalesDay.day >= start, PosSalesDay.day <= end).group_by(PosSalesDay.day))
    if merchant_id is not None:
        online_q = online_q.where(Order.merchant_id == merchant_id)
        offline_q = offline_q.where(PosSalesDay.merchant_id == merchant_id)
    by_day: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    for d, total in (await session.execute(online_q)).all():
        by_day[_as_date(d)][0] += int(total or 0)
    for d, total in (await session.execute(offline_q)).all():
        by_day[_as_date(d)][1] += int(total or 0)
    online = sum(v[0] for v in by_day.values())
    offline = sum(v[1] for v in by_day.values())
    days = [{"date": d, "online_sales": v[0], "offline_sales": v[1], "online_share": share(v[0], v[1])}
            for d, v in sorted(by_day.items())]
    return {"merchant_id": merchant_id, "from_": start, "to": end, "currency": "CNY", "online_sales": online,
            "offline_sales": offline, "online_share": share(online, offline), "days": days}
