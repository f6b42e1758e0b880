"""A customer's personal information (C19–C21, PIPL 44–47): consents per purpose, a copy of everything held,
corrections, deleting single fields."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Principal
from app.core.clock import utcnow
from app.core.errors import Conflict, InvalidInput, NotFound, field_error
from app.core.ids import new_id
from app.orders import access as orders_access
from app.orders.models import Order
from app.retail.models import Consent, Customer, CustomerAddress
from app.retail.privacy import rules
from app.trust import complaints as trust_complaints
from app.trust import reviews as trust_reviews

# ---- consents --------------------------------------------------------------------------------------------


def check_choices(choices: dict[str, bool], *, field: str = "consents") -> None:
    """Every key a known purpose; a required purpose cannot be refused (that is closing the account)."""
    errors = [{"field": f"{field}.{code}", "message": "no such purpose: " + ", ".join(rules.PURPOSES)}
              for code in choices if code not in rules.PURPOSES]
    errors += [{"field": f"{field}.{code}", "message": "needed for an account: close the account to end it"}
               for code, given in choices.items() if code in rules.REQUIRED and not given]
    if errors:
        raise InvalidInput("some consents cannot be recorded", errors=errors)


async def _current(session: AsyncSession, customer_id: str) -> dict[str, Consent]:
    rows = (await session.scalars(select(Consent).where(Consent.customer_id == customer_id,
                                                        Consent.withdrawn_at.is_(None)))).all()
    return {r.purpose: r for r in rows}


async def record_choices(session: AsyncSession, *, customer_id: str, choices: dict[str, bool],
                         at_signup: bool = False) -> None:
    """Grant what is ticked and not yet given, withdraw what is unticked and given; never commits. At sign-up the
    required purposes are recorded with the account (agreeing to them is what signing up is)."""
    check_choices(choices)
    now = utcnow()
    wanted = dict(choices)
    if at_signup:
        wanted |= {code: True for code in rules.REQUIRED}
    current = await _current(session, customer_id)
    for code, given in sorted(wanted.items()):
        held = current.get(code)
        if given and held is None:
            session.add(Consent(id=new_id("cns"), customer_id=customer_id, purpose=code,
                                text_version=rules.PURPOSES[code].text_version, granted_at=now))
        elif not given and held is not None:
            held.withdrawn_at = now


async def has_consent(session: AsyncSession, *, customer_id: str, purpose: str) -> bool:
    """Whether the customer has given (and not withdrawn) consent for `purpose`: the check before marketing
    messages or sharing beyond an order (C19, C21)."""
    return purpose in await _current(session, customer_id)


async def consents_view(session: AsyncSession, *, customer_id: str) -> dict[str, Any]:
    """Each purpose with its state, and the whole history of grants and withdrawals."""
    rows = (await session.scalars(select(Consent).where(Consent.customer_id == customer_id)
                                  .order_by(Consent.granted_at, Consent.id))).all()
    live = {r.purpose: r for r in rows if r.withdrawn_at is None}
    last = {r.purpose: r for r in rows}
    items = []
    for code, p in rules.PURPOSES.items():
        row = live.get(code) or last.get(code)
        items.append({"purpose": code, "required": p.required, "granted": code in live,
                      "text_version": row.text_version if row else p.text_version, "current_text_version":
                      p.text_version, "granted_at": row.granted_at if row else None,
                      "withdrawn_at": row.withdrawn_at if row else None, "description_zh": p.zh,
                      "description_en": p.en})
    history = [{"purpose": r.purpose, "text_version": r.text_version, "granted_at": r.granted_at,
                "withdrawn_at": r.withdrawn_at} for r in rows]
    return {"items": items, "history": history}


async def set_consents(*, session: AsyncSession, customer_id: str, choices: dict[str, bool]) -> dict[str, Any]:
    """Give or withdraw consents (withdrawal takes effect at once)."""
    await _customer(session, customer_id)
    await record_choices(session, customer_id=customer_id, choices=choices)
    await session.commit()
    return await consents_view(session, customer_id=customer_id)


# ---- the person's data -----------------------------------------------------------------------------------


async def _customer(session: AsyncSession, customer_id: str) -> Customer:
    customer = await session.get(Customer, customer_id)
    if customer is None:
        raise NotFound("customer", customer_id)
    return customer


def profile_view(customer: Customer) -> dict[str, Any]:
    return {"id": customer.id, "email": customer.email, "name": customer.name, "phone": customer.phone,
            "created_at": customer.created_at}


async def get_profile(*, session: AsyncSession, customer_id: str) -> dict[str, Any]:
    return profile_view(await _customer(session, customer_id))


async def my_data(*, session: AsyncSession, principal: Principal) -> dict[str, Any]:
    """Everything held about the customer (PIPL 45): profile, address book, orders, reviews, complaints and
    consents, as one JSON document."""
    customer_id = str(principal.subject_id)
    customer = await _customer(session, customer_id)
    addresses = (await session.scalars(select(CustomerAddress).where(CustomerAddress.customer_id == customer_id)
                                       .order_by(CustomerAddress.id))).all()
    orders: list[Any] = []
    cursor: str | None = None
    while True:  # all of them: a copy of one's data is not paged
        page, cursor = await orders_access.list_for(session, principal=principal, status=None, channel=None,
                                                    before=cursor, limit=500)
        orders.extend(page)
        if cursor is None:
            break
    return {
        "profile": profile_view(customer),
        "addresses": [{"id": a.id, **a.address, "created_at": a.created_at, "last_used_at": a.last_used_at}
                      for a in addresses],
        "orders": orders,
        "reviews": await trust_reviews.reviews_by(session=session, customer_id=customer_id),
        "complaints": await trust_complaints.complaints_by(session=session, principal=principal),
        "consents": await consents_view(session, customer_id=customer_id),
        "generated_at": utcnow(),
    }


async def correct(*, session: AsyncSession, customer_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Correct the profile (PIPL 46): name, phone, e-mail (unique, case-insensitive)."""
    customer = await session.get(Customer, customer_id, with_for_update=True)
    if customer is None:
        raise NotFound("customer", customer_id)
    if "name" in changes:
        if changes["name"] is None:
            raise field_error("name", "a name is needed to address your orders")
        customer.name = changes["name"]
    if "email" in changes:
        if changes["email"] is None:
            raise field_error("email", "the e-mail address signs you in")
        customer.email = changes["email"].lower()
    if "phone" in changes:
        customer.phone = changes["phone"]
    try:
        await session.commit()
    except IntegrityError:
        await session.rollback()
        raise Conflict("an account with this e-mail already exists", extra={"field": "email"}) from None
    return profile_view(customer)


async def delete_field(*, session: AsyncSession, customer_id: str, field: str) -> dict[str, Any]:
    """Delete one field where the law allows (PIPL 47); 422 naming the field and why otherwise."""
    refusal = rules.deletion_refusal(field)
    if refusal is not None:
        raise field_error("field", f"{field} cannot be deleted on its own: {refusal}")
    customer = await session.get(Customer, customer_id, with_for_update=True)
    if customer is None:
        raise NotFound("customer", customer_id)
    if field == "phone":
        customer.phone = None
    elif field == "addresses":
        await session.execute(delete(CustomerAddress).where(CustomerAddress.customer_id == customer_id))
    await session.commit()
    return profile_view(customer)


# ---- marketing (C21) -------------------------------------------------------------------------------------

MARKETING_NEEDS = ("marketing", "share_merchant")  # the message itself, and the merchant holding the contact


async def marketing_audience(*, session: AsyncSession, merchant_id: str, merchant_name: str,
                             unsubscribe_url: str) -> dict[str, Any]:
    """Who a merchant may send a commercial message to: its own buyers who consent, now, both to marketing and
    to their contact going to the merchant. A withdrawal drops them from every merchant's next list at once."""
    buyers = select(Order.customer_id).where(Order.merchant_id == merchant_id, Order.customer_id.is_not(None))
    consenting = (select(Consent.customer_id)
                  .where(Consent.purpose.in_(MARKETING_NEEDS), Consent.withdrawn_at.is_(None))
                  .group_by(Consent.customer_id).having(func.count(func.distinct(Consent.purpose))
                                                        == len(MARKETING_NEEDS)))
    rows = (await session.execute(select(Customer.id, Customer.name, Customer.email)
                                  .where(Customer.id.in_(buyers), Customer.id.in_(consenting))
                                  .order_by(Customer.id))).all()
    return {"sender": merchant_name, "unsubscribe_url": unsubscribe_url,
            "items": [{"customer_id": r.id, "name": r.name, "email": r.email} for r in rows]}
