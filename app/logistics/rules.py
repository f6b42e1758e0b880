"""Delivery rules that need no database: a shipping template's price, provinces, promises and late parcels."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.core.clock import as_utc

BASES = ("piece", "weight", "volume")  # count the goods by: pieces, grams, cm³
DEFAULT_SHIP_WITHIN_HOURS = 48
DEFAULT_DELIVERY_DAYS = 7  # the promised window closes this many days after the promised dispatch
REMOTE_PROVINCES = ("新疆维吾尔自治区", "西藏自治区", "青海省", "内蒙古自治区", "宁夏回族自治区", "甘肃省")  # 偏远地区
# Provinces, municipalities and autonomous regions of the mainland, then Hong Kong, Macao and Taiwan.
PROVINCES = (
    "北京市", "天津市", "上海市", "重庆市", "河北省", "山西省", "辽宁省", "吉林省", "黑龙江省", "江苏省", "浙江省",
    "安徽省", "福建省", "江西省", "山东省", "河南省", "湖北省", "湖南省", "广东省", "海南省", "四川省", "贵州省",
    "云南省", "陕西省", "甘肃省", "青海省", "内蒙古自治区", "广西壮族自治区", "西藏自治区", "宁夏回族自治区",
    "新疆维吾尔自治区", "香港特别行政区", "澳门特别行政区", "台湾省",
)


def province_key(name: str) -> str:
    """A province however it is written ("新疆", "新疆维吾尔自治区", "广东省") as one key ("新疆", "广东")."""
    name = name.strip()
    return name[:3] if name.startswith(("黑龙江", "内蒙古")) else name[:2]


@dataclass(frozen=True, slots=True)
class Rate:
    """`first` units cost `first_fee`; each further `each` units (or part) cost `each_fee` (fen)."""

    first: int
    first_fee: int
    each: int
    each_fee: int

    def fee(self, units: int) -> int:
        if units <= self.first:
            return self.first_fee
        more = units - self.first
        return self.first_fee + -(-more // self.each) * self.each_fee


@dataclass(frozen=True, slots=True)
class Region:
    """Provinces priced apart (remote areas); free-shipping thresholds reach them only if `free_applies`."""

    provinces: tuple[str, ...]
    rate: Rate
    free_applies: bool = False


@dataclass(frozen=True, slots=True)
class Template:
    basis: str
    rate: Rate  # everywhere not named below
    regions: tuple[Region, ...] = ()
    excluded: tuple[str, ...] = ()  # provinces not delivered to
    free_over_amount: int | None = None  # goods from this amount (fen, after discount) ship free
    free_over_count: int | None = None  # ... or from this many pieces


@dataclass(frozen=True, slots=True)
class Parcel:
    """One order line as the template counts it."""

    quantity: int
    amount: int  # the line's total after its share of the discount
    weight: int | None = None  # grams per unit
    volume: int | None = None  # cm³ per unit


class Undeliverable(Exception):
    def __init__(self, province: str) -> None:
        super().__init__(f"this shop does not deliver to {province}")
        self.province = province


def units(basis: str, parcels: Sequence[Parcel]) -> int:
    """How much the template charges for: pieces, grams or cm³ (a unit without a weight or volume counts 0)."""
    if basis == "weight":
        return sum(p.quantity * (p.weight or 0) for p in parcels)
    if basis == "volume":
        return sum(p.quantity * (p.volume or 0) for p in parcels)
    return sum(p.quantity for p in parcels)


def quote(template: Template, province: str | None, parcels: Sequence[Parcel]) -> int:
    """The delivery fee (fen) of these lines to `province` under the template, or Undeliverable."""
    key = province_key(province or "")
    if key and key in {province_key(p) for p in template.excluded}:
        raise Undeliverable(province or "")
    region = next((r for r in template.regions if key and key in {province_key(p) for p in r.provinces}), None)
    free_applies = region is None or region.free_applies
    if free_applies:
        if template.free_over_amount is not None and sum(p.amount for p in parcels) >= template.free_over_amount:
            return 0
        if template.free_over_count is not None and sum(p.quantity for p in parcels) >= template.free_over_count:
            return 0
    return (region.rate if region else template.rate).fee(units(template.basis, parcels))


def promise(start: datetime, *, ship_within_hours: int, delivery_days: int) -> tuple[datetime, datetime]:
    """(promised_ship_by, promised_delivery_by) for an order payable or paid at `start`."""
    ship_by = as_utc(start) + timedelta(hours=ship_within_hours)
    return ship_by, ship_by + timedelta(days=delivery_days)


def is_late(*, promised_ship_by: datetime | None, shipped_at: datetime | None, status: str, now: datetime) -> bool:
    """Shipped after the promise, or still waiting to ship once it passed (C28)."""
    if promised_ship_by is None:
        return False
    if shipped_at is not None:
        return as_utc(shipped_at) > as_utc(promised_ship_by)
    return status in ("paid", "confirmed") and as_utc(now) > as_utc(promised_ship_by)


def auto_confirm_due(shipped_at: datetime, *, days: int, now: datetime) -> bool:
    """An unsigned parcel counts as received `days` days after it was shipped."""
    return as_utc(now) >= as_utc(shipped_at) + timedelta(days=days)


@dataclass(frozen=True, slots=True)
class LineSpec:
    """What the delivery price needs of an order line besides its quantity and amount."""

    template_id: str | None
    weight: int | None = None
    volume: int | None = None


@dataclass(frozen=True, slots=True)
class DeliveryQuote:
    """How one merchant's order is charged for delivery to `province`: each template prices its own lines; lines
    without a template share the platform's flat fee (`flat`, of their goods total), as before templates."""

    province: str | None
    specs: tuple[LineSpec, ...]  # aligned with the order's lines
    templates: dict[str, Template]
    flat: Callable[[int], int]

    def refusal(self) -> str | None:
        """The province when a template of these lines does not deliver there, else None."""
        for spec in self.specs:
            template = self.templates.get(spec.template_id or "")
            if template is not None:
                try:
                    quote(template, self.province, [])
                except Undeliverable:
                    return self.province or ""
        return None

    def __call__(self, lines: Sequence[tuple[int, int]]) -> int:
        """The fee for (quantity, amount after discount) of each line."""
        groups: dict[str, list[Parcel]] = {}
        flat_amount, flat_lines = 0, 0
        for spec, (quantity, amount) in zip(self.specs, lines, strict=True):
            if spec.template_id in self.templates:
                groups.setdefault(spec.template_id, []).append(Parcel(quantity, amount, spec.weight, spec.volume))
            else:
                flat_amount += amount
                flat_lines += 1
        fee = sum(quote(self.templates[t], self.province, parcels) for t, parcels in groups.items())
        return fee + (self.flat(flat_amount) if flat_lines else 0)
