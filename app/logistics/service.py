"""Delivery use cases: shipping templates, the delivery promise, quotes at checkout, tracking pushes, signing."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.catalog.models import Product, Variant
from app.config import Settings
from app.core.auth import Principal
from app.core.clock import as_utc, rfc3339_or_none, utcnow
from app.core.errors import Conflict, DomainError, InvalidInput, NotFound
from app.core.ids import new_id
from app.db import DIALECTS, dialect_of, fetch, in_list, insert_ignore
from app.logistics import rules
from app.logistics.models import DeliveryPromise, ShippingTemplate, TrackingEvent
from app.logistics.providers import PROVIDERS, InvalidPush
from app.logistics.schemas import DeliveryPromiseIn, ShippingTemplateIn
from app.orders import fulfilment as orders_fulfilment
from app.orders.access import get_visible
from app.orders.models import Order, Shipment


class BadPush(DomainError):
    status = 400
    type_slug = "invalid-notification"
    title = "Push rejected"


# ---- shipping templates ------------------------------------------------------------------------------------


def _rules_of(body: ShippingTemplateIn) -> dict[str, Any]:
    rate = body.rate.model_dump()
    return {"rate": rate, "regions": [r.model_dump() for r in body.regions],
            "excluded": list(body.excluded_provinces)}


def template_of(row: Any) -> rules.Template:
    """A stored template (its model or a row of its table) as the pricing rules read it."""
    def rate(r: Mapping[str, Any]) -> rules.Rate:
        return rules.Rate(int(r["first"]), int(r["first_fee"]), int(r["each"]), int(r["each_fee"]))

    return rules.Template(
        basis=row.basis, rate=rate(row.rules["rate"]),
        regions=tuple(rules.Region(tuple(r["provinces"]), rate(r), bool(r.get("free_applies")))
                      for r in row.rules.get("regions", [])),
        excluded=tuple(row.rules.get("excluded", [])), free_over_amount=row.free_over_amount,
        free_over_count=row.free_over_count)


def template_out(row: ShippingTemplate) -> dict[str, Any]:
    return {"id": row.id, "merchant_id": row.merchant_id, "name": row.name, "basis": row.basis,
            "rate": row.rules["rate"], "regions": row.rules.get("regions", []),
            "excluded_provinces": row.rules.get("excluded", []), "free_over_amount": row.free_over_amount,
            "free_over_count": row.free_over_count, "created_at": row.created_at, "updated_at": row.updated_at}


async def create_template(*, session: AsyncSession, merchant_id: str, body: ShippingTemplateIn) -> ShippingTemplate:
    """A new shipping template of the merchant's."""
    now = utcnow()
    row = ShippingTemplate(id=new_id("stp"), merchant_id=merchant_id, name=body.name, basis=body.basis,
                           rules=_rules_of(body), free_over_amount=body.free_over_amount,
                           free_over_count=body.free_over_count, created_at=now, updated_at=now)
    session.add(row)
    await session.commit()
    return row


async def get_template(*, session: AsyncSession, merchant_id: str, template_id: str,
                       lock: bool = False) -> ShippingTemplate:
    """The merchant's template, or 404 (another merchant's is missing too)."""
    row = await session.get(ShippingTemplate, template_id, with_for_update=lock)
    if row is None or row.merchant_id != merchant_id:
        raise NotFound("shipping template", template_id)
    return row


async def list_templates(*, session: AsyncSession, merchant_id: str) -> Sequence[ShippingTemplate]:
    """The merchant's templates, oldest first."""
    return (await session.scalars(select(ShippingTemplate).where(ShippingTemplate.merchant_id == merchant_id)
                                  .order_by(ShippingTemplate.created_at, ShippingTemplate.id))).all()


async def replace_template(*, session: AsyncSession, merchant_id: str, template_id: str,
                           body: ShippingTemplateIn) -> ShippingTemplate:
    """Replace a template's rules; orders already placed keep the shipping they were charged."""
    row = await get_template(session=session, merchant_id=merchant_id, template_id=template_id, lock=True)
    row.name, row.basis, row.rules = body.name, body.basis, _rules_of(body)
    row.free_over_amount, row.free_over_count, row.updated_at = body.free_over_amount, body.free_over_count, utcnow()
    await session.commit()
    return row


async def delete_template(*, session: AsyncSession, merchant_id: str, template_id: str) -> None:
    """Delete a template no product uses (409 naming how many do)."""
    row = await get_template(session=session, merchant_id=merchant_id, template_id=template_id, lock=True)
    used = len((await session.scalars(select(Product.id).where(Product.merchant_id == merchant_id,
                                                               Product.shipping_template_id == row.id))).all())
    if used:
        raise Conflict(f"{used} products use this template: move them to another one first",
                       extra={"products": used})
    await session.delete(row)
    await session.commit()


# ---- the delivery promise ----------------------------------------------------------------------------------


async def get_promise(session: AsyncSession, *, merchant_id: str) -> tuple[int, int]:
    """(ship_within_hours, delivery_days) the merchant promises; the platform's defaults until it sets them."""
    row = await session.get(DeliveryPromise, merchant_id)
    if row is None:
        return rules.DEFAULT_SHIP_WITHIN_HOURS, rules.DEFAULT_DELIVERY_DAYS
    return row.ship_within_hours, row.delivery_days


async def set_promise(*, session: AsyncSession, merchant_id: str, body: DeliveryPromiseIn) -> tuple[int, int]:
    """Set what the merchant promises its next orders (orders placed keep theirs)."""
    stmt = insert_ignore(dialect_of(session), DeliveryPromise.__table__, ["merchant_id"])
    await session.execute(stmt.values(merchant_id=merchant_id, ship_within_hours=body.ship_within_hours,
                                      delivery_days=body.delivery_days, updated_at=utcnow()))
    await session.execute(update(DeliveryPromise).where(DeliveryPromise.merchant_id == merchant_id).values(
        ship_within_hours=body.ship_within_hours, delivery_days=body.delivery_days, updated_at=utcnow()))
    await session.commit()
    return body.ship_within_hours, body.delivery_days


# Built once per dialect: a checkout reads its merchants' templates through the driver, one round trip whatever
# the number of merchants (their promises come with its catalogue read).
_SPECS = {d: select(Variant.id, Variant.weight, Variant.volume, Product.shipping_template_id)
          .join(Product, Product.id == Variant.product_id).where(in_list(Variant.id, "ids", d)) for d in DIALECTS}
_TEMPLATES = {d: select(*cast(Table, ShippingTemplate.__table__).columns)
              .where(in_list(ShippingTemplate.id, "ids", d)) for d in DIALECTS}


# ---- quotes ------------------------------------------------------------------------------------------------

PROVINCE_FIELD = "fulfilment.address.province"


async def quotes(session: AsyncSession, *, province: str | None,
                 lines: Mapping[str, Sequence[rules.LineSpec]], flat: Any) -> dict[str, rules.DeliveryQuote | None]:
    """Per merchant, how its order's delivery is priced: `lines` maps a merchant to what delivery needs of its lines
    (in order; read with the checkout's catalogue). None for a merchant none of whose products has a template (the
    flat fee as before). A template that does not deliver to `province` is a 422 naming the address's province."""
    template_ids = sorted({s.template_id for specs in lines.values() for s in specs if s.template_id})
    templates = {t.id: t for t in (await fetch(session, _TEMPLATES[dialect_of(session)],
                                               {"ids": template_ids})).all()} if template_ids else {}
    out: dict[str, rules.DeliveryQuote | None] = {}
    for merchant_id, line_specs in lines.items():
        specs = tuple(line_specs)
        own = {s.template_id: template_of(templates[s.template_id]) for s in specs
               if s.template_id and s.template_id in templates and templates[s.template_id].merchant_id == merchant_id}
        if not own:
            out[merchant_id] = None
            continue
        quote = rules.DeliveryQuote(province, specs, own, flat)
        refused = quote.refusal()
        if refused is not None:
            raise InvalidInput(f"this shop does not deliver to {refused or 'this address'}", errors=[
                {"field": PROVINCE_FIELD, "type": "undeliverable", "province": refused,
                 "message": f"the shop does not deliver to {refused or 'this province'}: choose another address"}])
        out[merchant_id] = quote
    return out


async def _line_specs(session: AsyncSession, variant_ids: Sequence[str]) -> dict[str, rules.LineSpec]:
    rows = (await fetch(session, _SPECS[dialect_of(session)], {"ids": list(variant_ids)})).all() if variant_ids else []
    return {r.id: rules.LineSpec(r.shipping_template_id, r.weight, r.volume) for r in rows}


async def estimate(session: AsyncSession, *, items: Sequence[tuple[str, str, int, int]], flat: Any) -> int:
    """What delivery of (merchant_id, variant_id, quantity, amount) items costs before an address is known: each
    merchant's templates at their general rate (remote provinces are priced at checkout), the flat fee otherwise."""
    by_merchant: dict[str, list[tuple[str, int, int]]] = {}
    for merchant_id, variant_id, quantity, amount in items:
        by_merchant.setdefault(merchant_id, []).append((variant_id, quantity, amount))
    spec = await _line_specs(session, sorted({variant_id for _, variant_id, _, _ in items}))
    found = await quotes(session, province=None, flat=flat, lines={
        m: [spec.get(v, rules.LineSpec(None)) for v, _, _ in ls] for m, ls in by_merchant.items()})
    total = 0
    for merchant_id, lines in by_merchant.items():
        quote = found[merchant_id]
        total += quote([(q, a) for _, q, a in lines]) if quote else flat(sum(a for _, _, a in lines))
    return total


# ---- tracking ----------------------------------------------------------------------------------------------


def _fingerprint(occurred_at: Any, description: str) -> str:
    return hashlib.sha256(f"{as_utc(occurred_at).isoformat()}|{description}".encode()).hexdigest()


async def record_push(session: AsyncSession, *, settings: Settings, provider: str,
                      form: Mapping[str, str]) -> str:
    """Verify an aggregator's push and store its steps on the parcel's order, each once; a 签收 step signs for
    the order (source `carrier`). Returns a word for the answer: recorded | unknown (no such parcel here)."""
    found = PROVIDERS.get(provider)
    secret = found.secret(settings) if found is not None else None
    if found is None or not secret:
        raise NotFound("tracking provider", provider)
    try:
        push = found.read(form, secret)
    except InvalidPush as exc:
        raise BadPush(str(exc)) from None
    stmt = select(Shipment).where(Shipment.tracking_no == push.tracking_no).order_by(Shipment.created_at.desc())
    if push.carrier is not None:
        stmt = stmt.where(Shipment.carrier == push.carrier)
    shipment = (await session.scalars(stmt.limit(1))).first()
    if shipment is None:
        return "unknown"
    order = await session.get(Order, shipment.order_id, with_for_update=True)
    assert order is not None  # shipments are never without their order
    if push.events:
        rows = [{"id": new_id("trk"), "order_id": order.id, "merchant_id": order.merchant_id, "provider": provider,
                 "carrier": shipment.carrier, "tracking_no": shipment.tracking_no, "occurred_at": e.occurred_at,
                 "state": e.state, "description": e.description, "location": e.location,
                 "fingerprint": _fingerprint(e.occurred_at, e.description), "created_at": utcnow()}
                for e in push.events]
        await session.execute(insert_ignore(dialect_of(session), TrackingEvent.__table__,
                                            ["order_id", "fingerprint"]), rows)
    if push.signed_at is not None:
        await orders_fulfilment.sign_in_tx(session, order=order, at=push.signed_at, source="carrier")
    await session.commit()
    return "recorded"


async def journey(session: AsyncSession, *, order_id: str) -> list[TrackingEvent]:
    """A parcel's steps, newest first (in the order they happened, whatever order they arrived in)."""
    return list((await session.scalars(select(TrackingEvent).where(TrackingEvent.order_id == order_id)
                                       .order_by(TrackingEvent.occurred_at.desc(), TrackingEvent.id))).all())


async def tracking(session: AsyncSession, *, principal: Principal, order_id: str) -> dict[str, Any]:
    """The journey of an order the caller may see."""
    order = await get_visible(session, principal=principal, order_id=order_id)
    events = await journey(session, order_id=order.id)
    return {"order_id": order.id, "signed_at": rfc3339_or_none(order.signed_at),
            "signed_source": order.signed_source, "events": events}


# ---- automatic confirmation --------------------------------------------------------------------------------

BATCH = 200


async def auto_confirm(factory: async_sessionmaker[AsyncSession], settings: Settings) -> int:
    """Sign for shipped parcels nobody signed for `SHOP_AUTO_CONFIRM_DAYS` after shipping (source `auto`, at the
    time of this run: the buyer's return window never starts before the platform said so)."""
    done = 0
    async with factory() as session:
        now = utcnow()
        cutoff = now - timedelta(days=settings.shop_auto_confirm_days)
        stmt = (select(Order).where(Order.status == "shipped", Order.shipped_at.is_not(None),
                                    Order.shipped_at <= cutoff)
                .order_by(Order.shipped_at, Order.id).limit(BATCH))
        if dialect_of(session) == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        for order in (await session.scalars(stmt)).all():
            assert order.shipped_at is not None
            if rules.auto_confirm_due(order.shipped_at, days=settings.shop_auto_confirm_days, now=now):
                done += await orders_fulfilment.sign_in_tx(session, order=order, at=now, source="auto")
        await session.commit()
    return done
