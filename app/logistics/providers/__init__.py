"""Carrier-tracking aggregators, by name. An aggregator is a package of its own (`providers/<name>/`: how its pushes
are signed and what they say) and one entry in `PROVIDERS`; nothing else names one."""

from __future__ import annotations

from app.logistics.providers import kuaidi100
from app.logistics.providers.base import InvalidPush, Push, PushedEvent, TrackingProvider

PROVIDERS: dict[str, TrackingProvider] = {p.name: p for p in (kuaidi100.PROVIDER,)}

__all__ = ["PROVIDERS", "InvalidPush", "Push", "PushedEvent", "TrackingProvider"]
