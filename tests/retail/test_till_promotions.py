"""Promotions redeemed at store tills: one usage limit shared with online checkout, late uploads, replays."""

from __future__ import annotations

import asyncio
import itertools
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select

from app.core import clock
from app.core.clock import utcnow
from app.core.models import OutboxEvent
from app.orders.rules import order_discount
from app.retail.models import PromotionRedemption
from app.retail.tills import rules as till
from tests import factories as f

_ids = itertools.count(1)


def iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


async def promotion(client: httpx.AsyncClient, m: f.MerchantCtx, code: str, *, channels: tuple[str, ...],
                    usage_limit: int | None = None, kind: str = "amount", value: int = 1_000,
                    starts_at: str = "2020-01-01T00:00:00Z", ends_at: str = "2099-01-01T00:00:00Z") -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "kind": kind, "value": value, "channels": list(channels),
                            "starts_at": starts_at, "ends_at": ends_at}
    if usage_limit is not None:
        body["usage_limit"] = usage_limit
    r = await client.post("/v1/promotions", headers=m.headers, json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def redeem(client: httpx.AsyncClient, till_headers: dict[str, str], code: str, *,
                 redemption_id: str | None = None, amount: int = 5_000, occurred_at: str | None = None,
                 key: str | None = None) -> httpx.Response:
    headers = {**till_headers, **({"Idempotency-Key": key} if key else {})}
    return await client.post("/v1/pos/promotions/redeem", headers=headers, json={
        "code": code, "redemption_id": redemption_id or f"till-{next(_ids)}", "amount": amount,
        "occurred_at": occurred_at or iso(utcnow())})


async def buy(client: httpx.AsyncClient, variant_id: str, code: str) -> httpx.Response:
    return await client.post("/v1/checkout", json=f.checkout_body([(variant_id, 1)], coupon_code=code),
                             headers={"Idempotency-Key": f"buy-{next(_ids)}"})


async def listed(client: httpx.AsyncClient, m: f.MerchantCtx, code: str) -> dict[str, Any]:
    r = await client.get("/v1/promotions", headers=m.headers)
    assert r.status_code == 200, r.text
    [promo] = [p for p in r.json()["items"] if p["code"] == code]
    return dict(promo)


def fields(r: httpx.Response) -> list[str]:
    return [e["field"] for e in r.json().get("errors", [])]


# ---- rules, no database -----------------------------------------------------------------------------------

def test_the_window_is_judged_at_occurred_at() -> None:
    start, end = datetime.fromisoformat("2026-11-01T00:00:00+00:00"), datetime.fromisoformat(
        "2026-11-02T00:00:00+00:00")
    both = ("online", "store")
    assert till.redemption_refusal(channels=both, starts_at=start, ends_at=end, occurred_at=start) is None
    assert till.redemption_refusal(channels=both, starts_at=start, ends_at=end,
                                   occurred_at=end)[0] == ("occurred_at", "code")  # type: ignore[index]
    assert till.redemption_refusal(channels=("online",), starts_at=start, ends_at=end,
                                   occurred_at=start)[0] == ("code",)  # type: ignore[index]
    assert till.clock_refusal(end + timedelta(minutes=59), end) is None
    assert till.clock_refusal(end + timedelta(minutes=61), end) is not None


def test_a_void_is_allowed_on_the_redemptions_shanghai_day_only() -> None:
    redeemed = datetime.fromisoformat("2026-11-27T15:00:00+00:00")  # 23:00 in Shanghai
    assert till.void_refusal(redeemed_at=redeemed, voided_at=redeemed + timedelta(minutes=59)) is None
    assert till.void_refusal(redeemed_at=redeemed, voided_at=redeemed + timedelta(hours=1)) is not None
    assert till.void_refusal(redeemed_at=redeemed, voided_at=redeemed - timedelta(minutes=1)) is not None


# ---- through the API --------------------------------------------------------------------------------------

async def test_store_and_online_uses_share_one_usage_limit(client: httpx.AsyncClient, app):
    s = await f.shop(client, on_hand=20, price=10_000)
    till_headers = await f.device(client, s.m, s.store)
    await promotion(client, s.m, "JOINT5", channels=("online", "store"), usage_limit=5)
    for _ in range(3):
        r = await redeem(client, till_headers, "joint5", amount=5_000)
        assert r.status_code == 200, r.text
        assert (r.json()["status"], r.json()["code"], r.json()["discount"], r.json()["total_after"]) == (
            "applied", "JOINT5", 1_000, 4_000)
    online = [await buy(client, s.variant_id, "JOINT5") for _ in range(3)]
    assert [r.status_code for r in online] == [201, 201, 409]
    assert "used up" in online[2].json()["detail"]
    assert online[0].json()["orders"][0]["discount"] == 1_000
    used_up = await redeem(client, till_headers, "JOINT5")
    assert used_up.status_code == 409 and used_up.json()["field"] == "code"
    promo = await listed(client, s.m, "JOINT5")
    assert (promo["used_count"], promo["redemptions_store"], promo["redemptions_online"]) == (5, 3, 2)
    async with app.state.sessionmaker() as session:
        payloads = (await session.scalars(select(OutboxEvent.payload)
                                          .where(OutboxEvent.kind == "promotion.redeemed"))).all()
        assert len(payloads) == 3 and {p["channel"] for p in payloads} == {"store"}
        assert {p["location_id"] for p in payloads} == {s.store["id"]}
        assert await session.scalar(select(func.count()).select_from(PromotionRedemption)) == 3


async def test_only_the_devices_merchants_store_promotions_are_redeemable(client: httpx.AsyncClient):
    s = await f.shop(client)
    other = await f.shop(client)
    till_headers = await f.device(client, s.m, s.store)
    await promotion(client, s.m, "WEBONLY", channels=("online",))
    await promotion(client, other.m, "THEIRS", channels=("online", "store"))
    for code in ("WEBONLY", "THEIRS", "NOSUCH"):
        r = await redeem(client, till_headers, code)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert fields(r) == ["code"], r.json()
    assert (await listed(client, s.m, "WEBONLY"))["used_count"] == 0
    assert (await listed(client, other.m, "THEIRS"))["used_count"] == 0
    # Only a device may redeem: a merchant key is refused, no token is a 401.
    body = {"code": "WEBONLY", "redemption_id": "x-1", "amount": 100, "occurred_at": iso(utcnow())}
    assert (await client.post("/v1/pos/promotions/redeem", headers=s.m.headers, json=body)).status_code == 403
    assert (await client.post("/v1/pos/promotions/redeem", json=body)).status_code == 401
    bad = await client.post("/v1/pos/promotions/redeem", headers=till_headers, json={**body, "amount": 0})
    assert bad.status_code == 422 and fields(bad) == ["amount"]


async def test_a_replayed_redemption_id_is_a_duplicate_counted_once(client: httpx.AsyncClient, app):
    s = await f.shop(client)
    till_headers = await f.device(client, s.m, s.store)
    second_till = await f.device(client, s.m, s.store, name="till 2")
    await promotion(client, s.m, "PCT15", channels=("store",), kind="percent", value=15, usage_limit=3)
    first = await redeem(client, till_headers, "PCT15", redemption_id="r-1", amount=12_345)
    assert first.status_code == 200, first.text
    assert first.json()["discount"] == order_discount(12_345, "percent", 15)
    assert first.json()["total_after"] == 12_345 - first.json()["discount"]
    for headers, amount in ((till_headers, 12_345), (till_headers, 99_999), (second_till, 12_345)):
        again = await redeem(client, headers, "PCT15", redemption_id="r-1", amount=amount)
        assert again.status_code == 200, again.text
        assert again.json() == {**first.json(), "status": "duplicate"}  # the first result, whatever is resent
    keyed = [await redeem(client, till_headers, "PCT15", redemption_id="r-2", occurred_at="2026-11-27T01:00:00Z",
                          key="k-1") for _ in range(2)]
    assert keyed[0].json() == keyed[1].json() and keyed[0].json()["status"] == "applied"
    reused = await redeem(client, till_headers, "PCT15", redemption_id="r-3", key="k-1")
    assert reused.status_code == 409  # the same key with another body
    assert (await listed(client, s.m, "PCT15"))["used_count"] == 2
    # An amount promotion never takes off more than the basket.
    await promotion(client, s.m, "MINUS10", channels=("store",), value=1_000)
    small = await redeem(client, till_headers, "minus10", amount=600)
    assert (small.json()["discount"], small.json()["total_after"]) == (600, 0)


async def test_concurrent_replays_of_one_redemption_id_count_once(client: httpx.AsyncClient):
    s = await f.shop(client)
    till_headers = await f.device(client, s.m, s.store)
    await promotion(client, s.m, "RACE", channels=("store",), usage_limit=5)
    results = await asyncio.gather(*(redeem(client, till_headers, "RACE", redemption_id="same")
                                     for _ in range(10)))
    assert all(r.status_code == 200 for r in results), [r.text for r in results if r.status_code != 200]
    assert sorted(r.json()["status"] for r in results) == ["applied"] + ["duplicate"] * 9
    assert (await listed(client, s.m, "RACE"))["used_count"] == 1


async def test_a_late_upload_is_judged_when_it_happened(client: httpx.AsyncClient):
    s = await f.shop(client)
    till_headers = await f.device(client, s.m, s.store)
    start = utcnow()
    await promotion(client, s.m, "FLASH", channels=("online", "store"), starts_at=iso(start),
                    ends_at=iso(start + timedelta(hours=1)))
    clock.travel(timedelta(hours=5))  # the till was offline; the promotion has ended since
    late = await redeem(client, till_headers, "FLASH", occurred_at=iso(start + timedelta(minutes=30)))
    assert late.status_code == 200 and late.json()["status"] == "applied", late.text
    after_end = await redeem(client, till_headers, "FLASH", occurred_at=iso(start + timedelta(hours=1)))
    assert after_end.status_code == 422 and "occurred_at" in fields(after_end)
    before_start = await redeem(client, till_headers, "FLASH", occurred_at=iso(start - timedelta(seconds=1)))
    assert before_start.status_code == 422 and "occurred_at" in fields(before_start)
    # Online, the same promotion is over.
    assert (await buy(client, s.variant_id, "FLASH")).status_code == 422
    # A till clock far ahead is refused, even inside a running promotion.
    await promotion(client, s.m, "ALWAYS", channels=("store",))
    future = await redeem(client, till_headers, "ALWAYS", occurred_at=iso(utcnow() + timedelta(hours=2)))
    assert future.status_code == 422 and fields(future) == ["occurred_at"]
    assert (await listed(client, s.m, "FLASH"))["used_count"] == 1


async def test_a_void_on_the_same_day_gives_the_use_back_once(client: httpx.AsyncClient, app):
    s = await f.shop(client)
    till_headers = await f.device(client, s.m, s.store)
    other = await f.shop(client)
    other_till = await f.device(client, other.m, other.store)
    await promotion(client, s.m, "ONCE", channels=("store",), usage_limit=1)
    now = utcnow()
    assert (await redeem(client, till_headers, "ONCE", redemption_id="v-1", occurred_at=iso(now))).status_code == 200
    assert (await redeem(client, till_headers, "ONCE")).status_code == 409
    assert (await client.post("/v1/pos/promotions/v-1/void", headers=other_till)).status_code == 404
    voids = [await client.post("/v1/pos/promotions/v-1/void", headers=till_headers) for _ in range(2)]
    assert [r.status_code for r in voids] == [200, 200] and voids[0].json() == voids[1].json()
    assert voids[0].json()["status"] == "voided"
    promo = await listed(client, s.m, "ONCE")
    assert (promo["used_count"], promo["redemptions_store"]) == (0, 0)
    replay = await redeem(client, till_headers, "ONCE", redemption_id="v-1")
    assert replay.json()["status"] == "duplicate"  # a voided id does not come back to life
    assert (await redeem(client, till_headers, "ONCE", redemption_id="v-2", occurred_at=iso(now))).status_code == 200
    assert (await client.post("/v1/pos/promotions/nope/void", headers=till_headers)).status_code == 404
    clock.travel(timedelta(days=1))
    next_day = await client.post("/v1/pos/promotions/v-2/void", headers=till_headers)
    assert next_day.status_code == 409, next_day.text
    # Uploaded late, a void that happened on the redemption's day is accepted.
    late = await client.post("/v1/pos/promotions/v-2/void", headers=till_headers,
                             json={"occurred_at": iso(now + timedelta(seconds=1))})
    assert late.status_code == 200, late.text
    assert (await listed(client, s.m, "ONCE"))["used_count"] == 0
    async with app.state.sessionmaker() as session:
        kinds = (await session.scalars(select(OutboxEvent.kind).where(OutboxEvent.kind.like("promotion.%")))).all()
    assert sorted(kinds) == ["promotion.redeemed"] * 2 + ["promotion.redemption_voided"] * 2


async def test_tills_and_online_checkouts_racing_never_pass_the_limit(client: httpx.AsyncClient, app, pg_only):
    s = await f.shop(client, on_hand=100, price=10_000)
    till_headers = [await f.device(client, s.m, s.store, name=f"till {i}") for i in range(4)]
    await promotion(client, s.m, "RUSH10", channels=("online", "store"), usage_limit=10)
    calls = []
    for i in range(20):
        calls.append(redeem(client, till_headers[i % 4], "RUSH10", redemption_id=f"rush-{i}"))
        calls.append(buy(client, s.variant_id, "RUSH10"))
    results = await asyncio.gather(*calls)
    ok = [r for r in results if r.status_code in (200, 201)]
    codes = sorted({r.status_code for r in results})
    assert len(ok) == 10 and set(codes) <= {200, 201, 409}, [(r.status_code, r.text) for r in results]
    store_ok = sum(r.status_code == 200 for r in results)
    promo = await listed(client, s.m, "RUSH10")
    assert (promo["used_count"], promo["redemptions_store"], promo["redemptions_online"]) == (
        10, store_ok, 10 - store_ok)
    async with app.state.sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(PromotionRedemption)) == store_ok
