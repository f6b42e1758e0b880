"""An order's state changes (each with its outbox event) and the coupon use it gives back."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import events
from app.core.clock import utcnow
from app.core.logging import get_logger
from app.orders import states
from app.orders.models import (
    Order,
)

log = get_logger("app.orders")


async def move(session: AsyncSession, order: Order, event: str, **stamps: Any) -> None:
    previous = order.status
    order.status = states.next_status(order.status, event)
    order.updated_at = utcnow()
    for key, value in stamps.items():
        setattr(order, key, value)
    await events.emit(session, kind=f"order.{order.status}", merchant_id=order.merchant_id,
                      payload={"order_id": order.id, "from": previous, "to": order.status, "event": event})



# (session, merchant_id, code): gives one use of a coupon back to whoever counts its uses. The order core does not
# import channels, so the app factory and the CLI install retail's counter here (`install_coupon_release`).
CouponRelease = Callable[[AsyncSession, str, str], Awaitable[None]]
_COUPON_RELEASE: dict[str, CouponRelease] = {}


def install_coupon_release(release: CouponRelease) -> None:
    """Give coupon uses back through `release` when a whole order is cancelled or returned."""
    _COUPON_RELEASE["release"] = release


async def release_coupon(session: AsyncSession, *, order: Order) -> bool:
    """The order's coupon use goes back (the whole order was cancelled or returned), at most once per order.
    Never commits; returns whether it was given back now."""
    if not order.promotion_code:
        return False
    claimed = await session.execute(update(Order).where(Order.id == order.id, Order.coupon_released_at.is_(None))
                                    .values(coupon_released_at=utcnow()))
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    release = _COUPON_RELEASE.get("release")
    if release is None:
        log.warning("coupon_release_not_installed", order_id=order.id)
    else:
        await release(session, order.merchant_id, order.promotion_code)
    await events.emit(session, kind="order.coupon_released", merchant_id=order.merchant_id,
                      payload={"order_id": order.id, "code": order.promotion_code})
    return True



# (session, order): runs in the transaction that cancels an order, after its stock was released. Channels that
# keep their own count of what an order took (a flash sale's allotment) install one (`install_cancel_hook`).
CancelHook = Callable[[AsyncSession, Order], Awaitable[None]]
_CANCEL_HOOKS: dict[str, CancelHook] = {}


def install_cancel_hook(name: str, hook: CancelHook) -> None:
    _CANCEL_HOOKS[name] = hook


async def cancelled(session: AsyncSession, order: Order) -> None:
    """Tell the installed hooks that `order` was cancelled (never commits)."""
    for hook in _CANCEL_HOOKS.values():
        await hook(session, order)
