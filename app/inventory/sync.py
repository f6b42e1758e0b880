"""Till sync health: when each store's tills last reached the platform, and holding back a silent store's stock.

A till that has not synced for longer than `SHOP_POS_SYNC_LAG_MINUTES` may be selling offline, so the
levels of its store are not to be trusted: while any active till of a location is out of touch, online
shoppers are promised none of that location's stock (checkout, pick-up and the public availability all
read it through `in_touch`). The till's next sync (an upload or a poll of the changes feed) brings the
stock back, with everything it sold offline already applied.

Every sync stamps the device with `last_synced_at` and `sync_expires_at = now + lag`. Stamping the expiry
when the till syncs, rather than comparing with the lag when stock is read, keeps the readers (the
checkout's reservation among them) free of settings: they only compare with the current time. A device
starts with `sync_expires_at = created_at + lag`: a new till that never syncs is out of touch too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, case, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import utcnow
from app.merchants.models import Device


def in_touch(location_id: Any, now: Any) -> ColumnElement[bool]:
    """SQL: no active till of the location (a column or parameter) has gone without a sync past `now`."""
    return ~exists().where(Device.location_id == location_id, Device.revoked_at.is_(None),
                           Device.sync_expires_at < now)


def expiry(now: datetime, lag_minutes: int) -> datetime:
    return now + timedelta(minutes=lag_minutes)


async def record_sync(session: AsyncSession, *, device_id: str | None, lag_minutes: int) -> None:
    """The device reached the platform now. Part of the caller's transaction (never commits)."""
    if device_id is None:
        return
    now = utcnow()
    await session.execute(update(Device).where(Device.id == device_id)
                          .values(last_synced_at=now, sync_expires_at=expiry(now, lag_minutes))
                          .execution_options(synchronize_session=False))


@dataclass(frozen=True, slots=True)
class SyncStatus:
    tills: int
    last_synced_at: datetime | None  # the most recent sync of any active till
    out_of_touch: bool  # some active till has not synced within the lag: online sale of this stock is held

    def view(self) -> dict[str, Any]:
        return {"tills": self.tills, "last_synced_at": self.last_synced_at, "online_stock_held": self.out_of_touch}


async def sync_status(session: AsyncSession, location_ids: Iterable[str]) -> dict[str, SyncStatus]:
    """Per location with active tills: how many, their latest sync, and whether its stock is held back."""
    ids = sorted(set(location_ids))
    if not ids:
        return {}
    now = utcnow()
    rows = (await session.execute(
        select(Device.location_id, func.count(), func.max(Device.last_synced_at),
               func.max(case((Device.sync_expires_at < now, 1), else_=0)))
        .where(Device.location_id.in_(ids), Device.revoked_at.is_(None))
        .group_by(Device.location_id))).all()
    return {loc: SyncStatus(int(n), last, bool(stale)) for loc, n, last, stale in rows}
