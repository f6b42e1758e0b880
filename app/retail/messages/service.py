"""The platform's commercial messages (C21): an operator writes one, sending it reaches only customers who consent
to marketing at that moment, each copy names the sender and carries a one-click unsubscribe link, and the link
withdraws marketing consent: every later send, the platform's or a merchant's, skips the person."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.core import events
from app.core.clock import utcnow
from app.core.errors import Conflict, NotFound
from app.core.ids import new_id
from app.core.security import hash_token
from app.retail.messages import rules
from app.retail.messages.models import MarketingDelivery, MarketingMessage
from app.retail.models import Consent, Customer
from app.retail.privacy import service as privacy_service


def view(message: MarketingMessage) -> dict[str, Any]:
    return {"id": message.id, "sender": message.sender, "subject": message.subject, "body": message.body,
            "created_at": message.created_at, "sent_at": message.sent_at, "recipients": message.recipients}


async def create_message(*, session: AsyncSession, settings: Settings, actor: str, subject: str, body: str,
                         sender: str | None) -> dict[str, Any]:
    """A message to send later, under `sender` (the platform operator's name by default)."""
    message = MarketingMessage(id=new_id("msg"), sender=sender or settings.shop_platform_company, subject=subject,
                               body=body, created_by=actor, created_at=utcnow())
    session.add(message)
    await session.commit()
    return view(message)


async def send_message(*, session: AsyncSession, settings: Settings, message_id: str) -> dict[str, Any]:
    """Send once, to every customer whose marketing consent stands now. Each copy goes out through the outbox
    (`marketing.message`) with its own unsubscribe link; only the link token's hash is kept here."""
    message = await session.get(MarketingMessage, message_id, with_for_update=True)
    if message is None:
        raise NotFound("message", message_id)
    if message.sent_at is not None:
        raise Conflict(f"message {message_id} was sent at {message.sent_at.isoformat()}; write a new one")
    consenting = select(Consent.customer_id).where(Consent.purpose == "marketing", Consent.withdrawn_at.is_(None))
    recipients = (await session.execute(select(Customer.id, Customer.email).where(Customer.id.in_(consenting))
                                        .order_by(Customer.id))).all()
    now = utcnow()
    deliveries: list[dict[str, Any]] = []
    outgoing: list[tuple[str, str | None, dict[str, Any]]] = []
    for customer_id, email in recipients:
        token = secrets.token_urlsafe(24)
        deliveries.append({"id": new_id("mdl"), "message_id": message.id, "customer_id": customer_id,
                           "token_hash": hash_token(token), "sent_at": now})
        copy = rules.compose(sender=message.sender, subject=message.subject, body=message.body,
                             unsubscribe_url=rules.unsubscribe_url(settings.shop_public_url, token))
        outgoing.append(("marketing.message", None, {"message_id": message.id, "customer_id": customer_id,
                                                     "to": email, **copy}))
    if deliveries:
        await session.execute(insert(MarketingDelivery), deliveries)
    await events.emit_many(session, outgoing)
    message.sent_at, message.recipients = now, len(deliveries)
    await session.commit()
    return view(message)


async def unsubscribe(*, session: AsyncSession, token: str) -> dict[str, Any]:
    """One click: the recipient's marketing consent is withdrawn at once, for every sender (merchants' audiences
    ask for the same consent). Clicking again changes nothing."""
    delivery = await session.scalar(select(MarketingDelivery).where(MarketingDelivery.token_hash == hash_token(token))
                                    .with_for_update())
    if delivery is None:
        raise NotFound("unsubscribe link", token[:8])
    now = utcnow()
    await privacy_service.record_choices(session, customer_id=delivery.customer_id, choices={"marketing": False})
    if delivery.unsubscribed_at is None:
        delivery.unsubscribed_at = now
    await session.commit()
    return {"purpose": "marketing", "withdrawn_at": delivery.unsubscribed_at}
