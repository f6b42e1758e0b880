"""The platform's commercial messages (C21): only to people who consent to marketing, each naming its sender with
a one-click unsubscribe link, and an opt-out that stops every later send at once, whoever the sender."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
from sqlalchemy import select

from app.core.models import OutboxEvent
from app.retail.messages.models import MarketingDelivery
from tests import factories as f
from tests.trust.helpers import order_for


async def _signup(client: httpx.AsyncClient, email: str, **extra: Any) -> dict[str, str]:
    r = await client.post("/v1/customers", json={"email": email, "password": "s3cret-pass", "name": "李四", **extra})
    assert r.status_code == 201, r.text
    t = await client.post("/v1/auth/token", data={"username": email, "password": "s3cret-pass"})
    return f.bearer(t.json()["access_token"])


async def _send(client: httpx.AsyncClient, subject: str, **extra: Any) -> dict[str, Any]:
    made = await client.post("/v1/admin/marketing/messages", headers=f.ADMIN,
                             json={"subject": subject, "body": "全场满 ¥199 减 ¥30，周末两天。", **extra})
    assert made.status_code == 201, made.text
    sent = await client.post(f"/v1/admin/marketing/messages/{made.json()['id']}/send", headers=f.ADMIN)
    assert sent.status_code == 200, sent.text
    return dict(sent.json())


async def _outgoing(app: Any, message_id: str) -> list[dict[str, Any]]:
    async with app.state.sessionmaker() as session:
        rows = (await session.scalars(select(OutboxEvent).where(OutboxEvent.kind == "marketing.message")
                                      .order_by(OutboxEvent.seq))).all()
    return [r.payload for r in rows if r.payload["message_id"] == message_id]


async def test_after_opting_out_by_the_link_the_next_send_skips_the_person_under_every_sender(
        client: httpx.AsyncClient, app: Any):
    shop = await f.shop(client, on_hand=10)
    keen = await _signup(client, "keen@example.com", consents={"marketing": True, "share_merchant": True})
    await _signup(client, "silent@example.com")  # gave no marketing consent: never written to
    await order_for(client, shop, keen)
    assert (await client.post("/v1/admin/marketing/messages", headers=shop.m.headers,
                              json={"subject": "x", "body": "y"})).status_code == 403

    first = await _send(client, "双十二预告", sender="流通商城")
    assert first["recipients"] == 1 and first["sender"] == "流通商城"
    [copy] = await _outgoing(app, first["id"])
    assert copy["to"] == "keen@example.com"
    assert copy["subject"] == "【流通商城】双十二预告" and "发件人：流通商城" in copy["text"]  # names its sender
    link = copy["list_unsubscribe"].strip("<>")
    assert link in copy["text"] and "/v1/unsubscribe/" in link
    token = link.rsplit("/", 1)[1]
    async with app.state.sessionmaker() as session:
        [delivery] = (await session.scalars(select(MarketingDelivery)
                                            .where(MarketingDelivery.message_id == first["id"]))).all()
    assert delivery.token_hash == hashlib.sha256(token.encode()).hexdigest()  # only the hash is kept

    clicked = await client.get(f"/v1/unsubscribe/{token}")  # one click, no sign-in
    assert clicked.status_code == 200, clicked.text
    assert clicked.json()["purpose"] == "marketing"
    assert (await client.get(f"/v1/unsubscribe/{token}")).status_code == 200  # a second click is harmless
    assert (await client.get("/v1/unsubscribe/not-a-real-token")).status_code == 404
    consents = (await client.get("/v1/me/consents", headers=keen)).json()["items"]
    assert next(c for c in consents if c["purpose"] == "marketing")["granted"] is False

    # The very next send skips the person, under another sender name too, and so do merchants' audiences.
    second = await _send(client, "年货节")
    assert second["recipients"] == 0 and second["sender"]
    assert await _outgoing(app, second["id"]) == []
    assert (await client.get("/v1/marketing/audience", headers=shop.m.headers)).json()["items"] == []
    # A message is sent once; a new one is written for the next campaign.
    assert (await client.post(f"/v1/admin/marketing/messages/{second['id']}/send",
                              headers=f.ADMIN)).status_code == 409
