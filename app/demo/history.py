"""60 days of past sales for the demo shops, made here (seeded, so every run makes the same history): online
orders (retail delivery and store pick-up, community, wholesale) and the stores' till takings per day, so the
console's online-versus-store chart and the policy's 5 % figure have something true to show on the first run.

Past orders are written as what they became (completed, a few cancelled), with their lines; they are history,
so they move no stock. The tills' takings are `pos_sales_day` rows of a demo till per store, as an upload would
have summed them. A shop that already has history is left alone.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog.models import Product, Variant
from app.core.clock import SHANGHAI, utcnow
from app.core.ids import new_id, pickup_code
from app.db import in_batches
from app.demo import data
from app.inventory.models import PosSalesDay
from app.orders import rules
from app.orders.models import Order, OrderLine

DAYS = 60
CHECKOUT = "demo-history"  # the checkout id of every order made here: how a second run knows
DEVICE = "dev_demo_history"
# Online orders a day, and store takings a day (fen), for each shop with stores: a shop mostly sold in stores.
ONLINE_PER_DAY = (6, 14)
STORE_TAKINGS = (1_500_000, 4_000_000)
_BUYERS = ("张伟", "王芳", "李娜", "刘洋", "陈静", "杨帆", "赵磊", "黄敏", "周杰", "吴婷", "徐明", "孙丽")
_STREETS = ("漕溪北路 88 号", "南京西路 1266 号", "文三路 90 号", "科苑路 15 号", "淮海中路 300 号")


def _when(rng: random.Random, day: date) -> datetime:
    """A moment of a Shanghai shopping day (9:00–22:00), in UTC."""
    local = datetime.combine(day, time(9), SHANGHAI) + timedelta(minutes=rng.randrange(13 * 60))
    return local.astimezone(UTC)


def _address(rng: random.Random, n: int) -> dict[str, Any]:
    return {"name": rng.choice(_BUYERS), "phone": f"139{rng.randrange(10**8):08d}", "line1": rng.choice(_STREETS),
            "district": "徐汇区", "city": "上海", "province": "上海", "postal_code": "200030", "country": "CN"}


async def has_history(session: AsyncSession, merchant_id: str) -> bool:
    found = await session.scalar(select(Order.id).where(Order.merchant_id == merchant_id,
                                                        Order.checkout_id == CHECKOUT).limit(1))
    return found is not None


async def load_history(session: AsyncSession, *, merchant_id: str, spec: data.MerchantSpec,
                       locations: dict[str, str], today: date | None = None) -> int:
    """Write the shop's 60 past days (never commits); the number of orders made, 0 when it had them already."""
    stores = [locations[loc.code] for loc in spec.locations if loc.kind == "store"]
    if not stores or await has_history(session, merchant_id):
        return 0
    variants = (await session.execute(
        select(Variant.id, Variant.product_id, Variant.sku, Variant.price, Product.title, Product.category)
        .join(Product, Product.id == Variant.product_id)
        .where(Variant.merchant_id == merchant_id, Product.category != "services")
        .order_by(Variant.sku).limit(200))).all()
    if not variants:
        return 0
    rng = random.Random(f"liutong-demo-{spec.key}")
    today = today or utcnow().astimezone(SHANGHAI).date()
    orders: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    takings: list[dict[str, Any]] = []
    for back in range(DAYS, 0, -1):
        day = today - timedelta(days=back)
        weekend = day.weekday() >= 5
        for _ in range(rng.randint(*ONLINE_PER_DAY) + (4 if weekend else 0)):
            created = _when(rng, day)
            channel = rng.choices(("retail", "community", "wholesale"), weights=(8, 2, 1))[0]
            pickup = channel == "retail" and rng.random() < 0.25
            picked = rng.sample(variants, k=min(len(variants), rng.randint(1, 3)))
            order_id = new_id("ord")
            subtotal = 0
            for v in picked:
                quantity = rng.randint(5, 40) if channel == "wholesale" else rng.randint(1, 3)
                total = v.price * quantity
                subtotal += total
                lines.append({"id": new_id("oln"), "order_id": order_id, "merchant_id": merchant_id,
                              "variant_id": v.id, "product_id": v.product_id, "sku": v.sku, "title": v.title,
                              "category": v.category, "returnable": True, "quantity": quantity,
                              "unit_price": v.price, "discount": 0, "total": total, "returned_quantity": 0,
                              "return_class": "standard"})
            shipping = 0 if pickup or subtotal >= 9900 or channel == "wholesale" else 1000
            cancelled = rng.random() < 0.04
            done = created + timedelta(days=rng.randint(2, 4))
            store = rng.choice(stores)
            fulfilment: dict[str, Any] = ({"type": "pickup", "location_id": store} if pickup else
                                          {"type": "delivery", "address": _address(rng, len(orders))})
            orders.append({
                "id": order_id, "number": rules.order_number(created), "merchant_id": merchant_id,
                "channel": channel, "status": "cancelled" if cancelled else "completed",
                "payment_method": "terms" if channel == "wholesale" else rng.choice(("alipay", "wechatpay", "cod")),
                "payment_status": "unpaid" if cancelled else "paid", "checkout_id": CHECKOUT,
                "email": f"buyer{rng.randrange(400)}@example.com", "currency": "CNY", "subtotal": subtotal,
                "discount": 0, "shipping": shipping, "total": subtotal + shipping, "refunded": 0,
                "fulfilment": fulfilment, "pickup_location_id": store if pickup else None,
                "pickup_code": pickup_code() if pickup else None, "created_at": created, "updated_at": done,
                "paid_at": None if cancelled else created + timedelta(minutes=2),
                "shipped_at": None if cancelled or pickup else created + timedelta(hours=20),
                "delivered_at": None if cancelled else done, "completed_at": None if cancelled else done,
                "cancelled_at": created + timedelta(hours=1) if cancelled else None,
                "cancel_reason": "买家取消" if cancelled else None})
        for store in stores:
            amount = rng.randint(*STORE_TAKINGS) * (13 if weekend else 10) // 10
            takings.append({"merchant_id": merchant_id, "day": day, "location_id": store, "device_id": DEVICE,
                            "amount": amount, "units": amount // 15_000, "sales": amount // 30_000})
    for batch in in_batches(orders):
        await session.execute(insert(Order), batch)
    for batch in in_batches(lines, 1000):
        await session.execute(insert(OrderLine), batch)
    await session.execute(insert(PosSalesDay), takings)
    return len(orders)
