"""The console's payment accounts page (`/console/payments`): the merchant sets its own Alipay and WeChat Pay
accounts, the ones its buyers' money goes to (`app.payments.accounts`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from app.core.auth import Principal
from app.core.deps import SessionDep, SettingsDep
from app.core.errors import DomainError
from app.payments import accounts
from app.web.console import as_merchant, page, staff_of
from app.web.pages import WebRoute, check_csrf, form_errors

router = APIRouter(prefix="/console", route_class=WebRoute, include_in_schema=False)


async def _merchant(request: Request, session: AsyncSession) -> Principal:
    return as_merchant(await staff_of(request, session, "payments.manage"))


async def _page(request: Request, session: AsyncSession, merchant: Principal, *, errors: list[str],
                saved: str | None = None, status: int = 200) -> Response:
    settings = request.app.state.settings
    have = {a.provider: a for a in await accounts.accounts_of(session, merchant.tenant)}
    return page(request, "console/payments.html", {
        "providers": accounts.providers_with_accounts(settings), "accounts": have, "errors": errors,
        "saved": saved, "sandbox": settings.shop_payments_sandbox}, status=status)


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
