from __future__ import annotations

from typing import Literal

from fastapi import APIRouter

from app.core.deps import CustomerDep, MerchantDep, SessionDep, SettingsDep
from app.merchants import service as merchants_service
from app.retail.privacy import service
from app.retail.privacy.schemas import (
    ConsentsIn,
    ConsentsOut,
    MarketingAudienceOut,
    MePatch,
    MyDataOut,
    ProfileOut,
)

router = APIRouter(prefix="/v1", tags=["customers"])

DeletableField = Literal["phone", "addresses", "email", "name", "orders", "reviews", "complaints", "consents"]


@router.get("/me", response_model=ProfileOut)
async def get_me(customer: CustomerDep, session: SessionDep) -> ProfileOut:
    return ProfileOut.model_validate(await service.get_profile(session=session, customer_id=str(customer.subject_id)))


@router.patch("/me", response_model=ProfileOut)
async def patch_me(body: MePatch, customer: CustomerDep, session: SessionDep) -> ProfileOut:
    """Correct your name, phone or e-mail (422 naming the field; 409 for an e-mail another account has)."""
    out = await service.correct(session=session, customer_id=str(customer.subject_id),
                                changes=body.model_dump(exclude_unset=True))
    return ProfileOut.model_validate(out)


@router.get("/me/data", response_model=MyDataOut)
async def my_data(customer: CustomerDep, session: SessionDep) -> MyDataOut:
    """Everything held about you: profile, saved addresses, orders, reviews, complaints and consents."""
    return MyDataOut.model_validate(await service.my_data(session=session, principal=customer))


@router.delete("/me/data/{field}", response_model=ProfileOut)
async def delete_my_field(field: DeletableField, customer: CustomerDep, session: SessionDep) -> ProfileOut:
    """Delete one field: `phone` or `addresses`. The others are needed for the account or kept by law (422 says
    why); closing the account (POST /v1/me/close) deletes the rest."""
    out = await service.delete_field(session=session, customer_id=str(customer.subject_id), field=field)
    return ProfileOut.model_validate(out)


@router.get("/me/consents", response_model=ConsentsOut)
async def get_consents(customer: CustomerDep, session: SessionDep) -> ConsentsOut:
    """Each purpose with what you agreed to (text version, time) or withdrew, and the history."""
    return ConsentsOut.model_validate(await service.consents_view(session, customer_id=str(customer.subject_id)))


@router.put("/me/consents", response_model=ConsentsOut)
async def put_consents(body: ConsentsIn, customer: CustomerDep, session: SessionDep) -> ConsentsOut:
    """Give or withdraw consents, one purpose each; a withdrawal takes effect at once."""
    out = await service.set_consents(session=session, customer_id=str(customer.subject_id), choices=body.consents)
    return ConsentsOut.model_validate(out)


@router.get("/marketing/audience", response_model=MarketingAudienceOut, tags=["merchants"])
async def marketing_audience(merchant: MerchantDep, session: SessionDep, settings: SettingsDep
                             ) -> MarketingAudienceOut:
    """The merchant's buyers it may send a commercial message to now (they consent to marketing and to the
    merchant having their contact), with the sender name and opt-out link each message must carry (C21)."""
    me = await merchants_service.get(session=session, merchant_id=merchant.tenant)
    out = await service.marketing_audience(session=session, merchant_id=merchant.tenant,
                                           merchant_name=me.name if me else merchant.tenant,
                                           unsubscribe_url=f"{settings.shop_public_url.rstrip('/')}/account")
    return MarketingAudienceOut.model_validate(out)
