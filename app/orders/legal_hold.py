"""The legal-hold store (C20, C23): when an account closes, its orders keep what the law requires (the goods, the
money, the dates) but the buyer's name, phone, e-mail and address leave the live order tables for `legal_hold`.
Only the records export and the regulator read it; the purge job deletes a row when its hold ends, the set
number of years (never under 3, ECL art. 31) after the order completed or was cancelled."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.core.clock import as_utc, utcnow
from app.core.errors import NotFound
from app.core.ids import new_id
from app.orders.models import LegalHold, Order


def held_data(order: Order) -> dict[str, Any]:
    """What leaves the live order: the buyer's name, phone and address (from the delivery address) and e-mail."""
    address = order.fulfilment.get("address") or {}
    return {"name": address.get("name"), "phone": address.get("phone"), "email": order.email,
            "address": address or None}


def without_person(fulfilment: dict[str, Any]) -> dict[str, Any]:
    """The fulfilment with the buyer's address taken out (the type, a pick-up store's name stay)."""
    return {k: v for k, v in fulfilment.items() if k != "address"} | {"address_on_legal_hold": True}


async def hold_buyer_data(session: AsyncSession, *, customer_id: str) -> int:
    """Move the customer's personal data out of each of their orders into the legal-hold store; never commits.
    Returns how many orders were moved."""
    orders = (await session.scalars(select(Order).where(Order.customer_id == customer_id)
                                    .order_by(Order.id).with_for_update())).all()
    now = utcnow()
    for order in orders:
        session.add(LegalHold(id=new_id("lgh"), order_id=order.id, customer_id=customer_id, data=held_data(order),
                              created_at=now))
        order.fulfilment = without_person(order.fulfilment)
        order.email = None
        order.updated_at = now
    return len(orders)


def years_before(moment: datetime, years: int) -> datetime:
    """`moment` minus whole calendar years (29 February becomes the 28th)."""
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:
        return moment.replace(year=moment.year - years, day=28)


def _ended(cutoff: datetime) -> Any:
    """Holds whose order completed (or was cancelled) before `cutoff`; orders still open hold on."""
    return select(LegalHold.id).join(Order, Order.id == LegalHold.order_id).where(
        func.coalesce(Order.completed_at, Order.cancelled_at) < cutoff)


async def purge_ended_holds(factory: async_sessionmaker[AsyncSession], settings: Settings) -> int:
    """Job: delete the held personal data whose hold has ended (a conditional DELETE: safe in several processes)."""
    cutoff = years_before(utcnow(), settings.shop_legal_hold_years)
    async with factory() as session:
        ids = list((await session.scalars(_ended(cutoff))).all())
        if ids:
            await session.execute(delete(LegalHold).where(LegalHold.id.in_(ids)))
        await session.commit()
    return len(ids)


# Built once: the records export reads it per batch, and a statement built per call leaves cyclic garbage.
_HELD = (select(LegalHold.order_id, LegalHold.data)
         .where(LegalHold.order_id.in_(bindparam("ids", expanding=True))))


async def held_for(session: AsyncSession, *, order_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The held personal data of these orders, by order id (the records export and the regulator only)."""
    if not order_ids:
        return {}
    return {r.order_id: r.data for r in (await session.execute(_HELD, {"ids": order_ids})).all()}


async def held_record(session: AsyncSession, *, order_id: str, hold_years: int) -> dict[str, Any]:
    """One order's held data with the hold's end (None while the order is still open): the regulator's read."""
    row = (await session.execute(select(LegalHold, func.coalesce(Order.completed_at, Order.cancelled_at))
                                 .join(Order, Order.id == LegalHold.order_id)
                                 .where(LegalHold.order_id == order_id))).first()
    if row is None:
        raise NotFound("legal hold of order", order_id)
    hold, finished = row
    ends = _years_after(as_utc(finished), hold_years) if finished is not None else None
    return {"order_id": hold.order_id, "customer_id": hold.customer_id, "data": hold.data,
            "held_at": hold.created_at, "order_finished_at": finished, "hold_ends_at": ends}


def _years_after(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, day=28)
