"""Merchants' own accounts at the payment companies (service-provider mode, C27): `PUT /v1/payment-accounts/
{provider}`, `GET /v1/payment-accounts`, and the lookup a checkout makes before it starts a payment.

A merchant's goods are payable through a provider with `accounts` only once the merchant has set its account
there; the payment is then made on that account (WeChat Pay's `sub_mchid`, Alipay's `app_auth_token`), so the
money lands with the merchant, never in the platform's own account.
"""

from __future__ import annotations

import base64
import functools
import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from fastapi import APIRouter, Path, Response
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.config import Settings
from app.core.clock import utcnow
from app.core.deps import MerchantDep, SessionDep, SettingsDep
from app.core.errors import NotFound, field_error
from app.core.ids import new_id
from app.core.pagination import Page
from app.core.schemas import OutSchema, Schema, UtcDatetime
from app.payments import registry
from app.payments.credentials import resolve_pem
from app.payments.models import PaymentAccount

router = APIRouter(prefix="/v1", tags=["payments"])

# What each provider calls a merchant's account, and what it looks like.
_SHAPES: dict[str, tuple[re.Pattern[str], str]] = {
    "wechatpay": (re.compile(r"[0-9]{1,32}"), "WeChat Pay's sub_mchid: up to 32 digits"),
    "alipay": (re.compile(r"2088[0-9]{12}"), "the merchant's Alipay account: 2088 and 12 digits"),
}


class PaymentAccountIn(Schema):
    sub_merchant_id: str = Field(min_length=1, max_length=64, description=(
        "WeChat Pay: the merchant's `sub_mchid` under the platform. Alipay: the merchant's Alipay account (2088...) "
        "that authorised the platform's app"))
    app_auth_token: str | None = Field(default=None, min_length=8, max_length=128, pattern=r"^[A-Za-z0-9._-]+$",
                                       description="Alipay only (required there): the `app_auth_token` the "
                                       "merchant's authorisation gave; it is kept and never shown again")


class PaymentAccountOut(OutSchema):
    provider: str
    sub_merchant_id: str
    authorised: bool = Field(description="Alipay: an app_auth_token is kept for this account")
    updated_at: UtcDatetime


def _out(account: PaymentAccount) -> PaymentAccountOut:
    return PaymentAccountOut(provider=account.provider, sub_merchant_id=account.sub_merchant_id,
                             authorised=account.auth_token is not None, updated_at=account.updated_at)


ProviderName = Annotated[str, Path(max_length=20, description="A provider that pays merchants' own accounts "
                                   "(`alipay`, `wechatpay`)")]


@router.put("/payment-accounts/{provider}", response_model=PaymentAccountOut,
            responses={201: {"model": PaymentAccountOut, "description": "Set for the first time"}})
async def put_account(provider: ProviderName, body: PaymentAccountIn, merchant: MerchantDep, session: SessionDep,
                      settings: SettingsDep, response: Response) -> PaymentAccountOut:
    """Set the merchant's own account at a provider (201 the first time, 200 when replaced); its goods become
    payable that way (when the platform offers the provider). Payments already started keep their account."""
    account, created = await set_account(session, settings, merchant_id=merchant.tenant, provider=provider,
                                         body=body)
    out = _out(account)
    await session.commit()
    if created:
        response.status_code = 201
    return out


def providers_with_accounts(settings: Settings) -> list[str]:
    """The providers this platform offers that pay merchants' own accounts."""
    return [p.name for p in registry.PROVIDERS.values() if p.accounts and p.gateway(settings) is not None]


async def set_account(session: AsyncSession, settings: Settings, *, merchant_id: str, provider: str,
                      body: PaymentAccountIn) -> tuple[PaymentAccount, bool]:
    """Check and set (or replace) a merchant's account at `provider`, in the caller's transaction; whether it is
    new. 404 for a provider this platform does not offer that way; 422 naming the field that is wrong."""
    if provider not in providers_with_accounts(settings):
        raise NotFound("payment provider", provider)
    pattern, shape = _SHAPES[provider]
    if not pattern.fullmatch(body.sub_merchant_id):
        raise field_error("sub_merchant_id", shape)
    if provider == "alipay" and body.app_auth_token is None:
        raise field_error("app_auth_token", "Alipay pays the merchant through its app authorisation: send its token")
    if provider != "alipay" and body.app_auth_token is not None:
        raise field_error("app_auth_token", f"{provider} takes no app_auth_token")
    account = await session.scalar(select(PaymentAccount).where(PaymentAccount.merchant_id == merchant_id,
                                                                PaymentAccount.provider == provider)
                                   .with_for_update())
    now: datetime = utcnow()
    created = account is None
    if account is None:
        account = PaymentAccount(id=new_id("pac"), merchant_id=merchant_id, provider=provider, created_at=now)
        session.add(account)
    token = seal(settings, body.app_auth_token) if body.app_auth_token is not None else None
    account.sub_merchant_id, account.auth_token, account.updated_at = body.sub_merchant_id, token, now
    await session.flush()
    return account, created


async def set_authorised(session: AsyncSession, settings: Settings, *, merchant_id: str, provider: str,
                         sub_merchant_id: str, token: str, refresh_token: str | None) -> PaymentAccount:
    """Keep the account a merchant's authorisation of the platform's app gave (its tokens encrypted), in the
    caller's transaction; it replaces the one set before."""
    account, _ = await set_account(session, settings, merchant_id=merchant_id, provider=provider,
                                   body=PaymentAccountIn(sub_merchant_id=sub_merchant_id, app_auth_token=token))
    account.refresh_token = seal(settings, refresh_token) if refresh_token else None
    await session.flush()
    return account


async def accounts_of(session: AsyncSession, merchant_id: str) -> list[PaymentAccount]:
    return list((await session.scalars(select(PaymentAccount).where(PaymentAccount.merchant_id == merchant_id)
                                       .order_by(PaymentAccount.provider))).all())


@router.get("/payment-accounts", response_model=Page[PaymentAccountOut])
async def list_accounts(merchant: MerchantDep, session: SessionDep) -> Page[PaymentAccountOut]:
    """The merchant's accounts at the providers (one per provider: the list is never longer than the registry)."""
    return Page[PaymentAccountOut](items=[_out(a) for a in await accounts_of(session, merchant.tenant)])


# --------------------------------------------------------------------------- credentials kept encrypted

_SEALED = "sealed:"  # what an encrypted credential starts with (older rows hold plain ones)


class CredentialsKeyMissing(RuntimeError):
    """A credential must be kept but no key is configured or derivable."""


def _fernet(settings: Settings) -> MultiFernet | None:
    return _fernet_for(settings.shop_credentials_key, settings.alipay_app_private_key)


@functools.lru_cache(maxsize=8)
def _fernet_for(keys: str | None, alipay_private_key: str | None) -> MultiFernet | None:
    if keys:
        return MultiFernet([Fernet(k.strip().encode()) for k in keys.split(",") if k.strip()])
    if not alipay_private_key:
        return None
    # A key the platform already keeps apart from the database: a dump of the database alone reveals no token.
    pem = resolve_pem(alipay_private_key, kind="private", setting="ALIPAY_APP_PRIVATE_KEY").encode()
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                   info=b"liutong payment credentials").derive(pem)
    return MultiFernet([Fernet(base64.urlsafe_b64encode(derived))])


def seal(settings: Settings, value: str) -> str:
    """`value` encrypted for keeping (SHOP_CREDENTIALS_KEY, or the key derived from Alipay's app key)."""
    fernet = _fernet(settings)
    if fernet is None:
        raise CredentialsKeyMissing("set SHOP_CREDENTIALS_KEY to keep payment credentials")
    return _SEALED + fernet.encrypt(value.encode()).decode()


def unseal(settings: Settings, value: str | None) -> str | None:
    """A kept credential in clear (a plain one, kept before encryption, as it is)."""
    if value is None or not value.startswith(_SEALED):
        return value
    fernet = _fernet(settings)
    if fernet is None:
        raise CredentialsKeyMissing("a payment credential is encrypted but no key is configured")
    try:
        return fernet.decrypt(value[len(_SEALED):].encode()).decode()
    except InvalidToken as exc:
        raise CredentialsKeyMissing("a payment credential does not decrypt with the configured key(s)") from exc


@dataclass(frozen=True, slots=True)
class Credential:
    """What a provider's calls take to act on a merchant's account, in clear and as kept on a payment."""

    value: str
    kept: str


def credential(settings: Settings, account: PaymentAccount) -> Credential:
    """The merchant's credential at the provider: Alipay's app_auth_token (kept encrypted), else the sub_mchid."""
    if account.auth_token is None:
        return Credential(account.sub_merchant_id, account.sub_merchant_id)
    clear = unseal(settings, account.auth_token)
    assert clear is not None
    kept = account.auth_token if account.auth_token.startswith(_SEALED) else seal(settings, clear)
    return Credential(clear, kept)


async def accounts_for(session: AsyncSession, settings: Settings, provider: str,
                       merchant_ids: Collection[str]) -> dict[str, Credential] | None:
    """Each merchant's account a checkout's payment is made on: None for providers that do not pay merchants
    directly; 422 on `payment_method` naming the merchants without an account there."""
    if not registry.provider(provider).accounts:
        return None
    ids = sorted(set(merchant_ids))
    rows = {a.merchant_id: a for a in (await session.scalars(
        select(PaymentAccount).where(PaymentAccount.provider == provider, PaymentAccount.merchant_id.in_(ids)))).all()}
    missing = [m for m in ids if m not in rows]
    if missing:
        raise field_error("payment_method", f"the seller {', '.join(missing)} does not accept {provider}")
    return {m: credential(settings, rows[m]) for m in ids}
