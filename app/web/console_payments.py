"""The console's payment accounts page (`/console/payments`): the merchant sets its own Alipay and WeChat Pay
accounts, the ones its buyers' money goes to (`app.payments.accounts`). Alipay's is set by authorising the
platform's app: the page links to Alipay's authorisation, which comes back to `/console/payments/alipay/authorised`
with a code exchanged for the merchant's token."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from app.core.auth import Principal
from app.core.deps import SessionDep, SettingsDep
from app.core.errors import DomainError
from app.payments import accounts
from app.payments.alipay import authorisation
from app.web import security
from app.web.console import as_merchant, page, staff_of
from app.web.pages import WebRoute, check_csrf, form_errors, secret

router = APIRouter(prefix="/console", route_class=WebRoute, include_in_schema=False)

_STATE = "alipay-auth"  # what the authorisation's state is signed for
_STATE_SECONDS = 3600  # how long a merchant may take on Alipay's page


def _state(request: Request, merchant_id: str) -> str:
    return security.sign(secret(request), _STATE, f"{merchant_id}.{int(time.time())}")


def _state_ok(request: Request, state: str, merchant_id: str) -> bool:
    """The state was made here, for this merchant, within the hour (a link from elsewhere sets nothing)."""
    value = security.unsign(secret(request), _STATE, state)
    if value is None:
        return False
    owner, _, issued = value.rpartition(".")
    return owner == merchant_id and issued.isdigit() and 0 <= time.time() - int(issued) <= _STATE_SECONDS


async def _merchant(request: Request, session: AsyncSession) -> Principal:
    return as_merchant(await staff_of(request, session, "payments.manage"))


async def _page(request: Request, session: AsyncSession, merchant: Principal, *, errors: list[str],
                saved: str | None = None, status: int = 200) -> Response:
    settings = request.app.state.settings
    have = {a.provider: a for a in await accounts.accounts_of(session, merchant.tenant)}
    return page(request, "console/payments.html", {
        "providers": accounts.providers_with_accounts(settings), "accounts": have, "errors": errors,
        "saved": saved, "sandbox": settings.shop_payments_sandbox,
        "alipay_auth": authorisation.authorisation_url(settings, state=_state(request, merchant.tenant))},
        status=status)


@router.get("/payments")
async def payment_accounts(request: Request, session: SessionDep) -> Response:
    return await _page(request, session, await _merchant(request, session), errors=[])


@router.post("/payments/{provider}")
async def set_payment_account(request: Request, provider: str, session: SessionDep,
                              settings: SettingsDep) -> Response:
    merchant = await _merchant(request, session)
    form = await request.form()
    check_csrf(request, form)
    values = {k: str(v).strip()[:200] for k, v in form.items() if isinstance(v, str) and k != "csrf"}
    try:
        body = accounts.PaymentAccountIn.model_validate(
            {"sub_merchant_id": values.get("sub_merchant_id", ""),
             **({"app_auth_token": values["app_auth_token"]} if values.get("app_auth_token") else {})})
        await accounts.set_account(session, settings, merchant_id=merchant.tenant, provider=provider, body=body)
        await session.commit()
    except (ValidationError, DomainError) as exc:
        await session.rollback()
        return await _page(request, session, merchant, errors=form_errors(exc), status=422)
    return await _page(request, session, merchant, errors=[], saved=provider)


@router.get("/payments/alipay/authorised")
async def alipay_authorised(request: Request, session: SessionDep, settings: SettingsDep, app_auth_code: str = "",
                            state: str = "") -> Response:
    """Back from Alipay's authorisation: the code is exchanged for the merchant's token, kept encrypted."""
    merchant = await _merchant(request, session)
    if not _state_ok(request, state, merchant.tenant):
        return await _page(request, session, merchant, errors=["state: 授权链接无效或已过期，请重新授权 / the "
                                                               "authorisation link is not this shop's or has expired"],
                           status=400)
    await session.commit()  # no transaction open while Alipay is asked
    try:
        granted = await authorisation.exchange(settings, app_auth_code=app_auth_code[:200])
        await accounts.set_authorised(session, settings, merchant_id=merchant.tenant, provider="alipay",
                                      sub_merchant_id=granted.user_id, token=granted.app_auth_token,
                                      refresh_token=granted.app_refresh_token)
        await session.commit()
    except (ValidationError, DomainError) as exc:
        await session.rollback()
        return await _page(request, session, merchant, errors=form_errors(exc), status=422)
    return await _page(request, session, merchant, errors=[], saved="alipay")
