"""IP notice-and-takedown pages: the public list of cases and outcomes (`/ip-cases`, ECL art. 44), and the
console's case page where the seller reads the notice and files its counter-notice (`/console/ip-cases/{id}`)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from app.core.deps import SessionDep
from app.core.errors import DomainError, NotFound
from app.core.pagination import decode_cursor, encode_cursor
from app.merchants.staff import StaffCtx
from app.trust import ip_cases
from app.trust.schemas import CounterNoticeIn
from app.web.console import as_merchant, audit, page, staff_of
from app.web.pages import WebRoute, check_csrf, form_errors, redirect, render

router = APIRouter(route_class=WebRoute, include_in_schema=False)
PAGE = 20
STATUSES = ("taken_down", "countered", "restored", "upheld")


@router.get("/ip-cases")
async def public_cases(request: Request, session: SessionDep) -> Response:
    """Every case, newest first, with its notice, counter-notice and outcome (no contact details)."""
    status = request.query_params.get("status")
    status = status if status in STATUSES else None
    cursor = request.query_params.get("cursor")
    rows, last = await ip_cases.list_cases(session=session, merchant_id=None, status=status,
                                           before=decode_cursor(cursor[:300]) if cursor else None, limit=PAGE)
    query = f"status={status}&" if status else ""
    return render(request, "ip_cases.html", {
        "cases": [ip_cases.case_view(r) for r in rows], "status": status, "statuses": STATUSES,
        "next_url": f"/ip-cases?{query}cursor={encode_cursor(last)}" if last else None})


async def _case_page(request: Request, session: AsyncSession, ctx: StaffCtx, case_id: str, *,
                     errors: list[str] | None = None, form: dict[str, str] | None = None,
                     status: int = 200) -> Response:
    """The seller's view of its case: the notice with the rights holder's contact, and the counter-notice form."""
    case = await ip_cases.get_case(session=session, principal=as_merchant(ctx), case_id=case_id[:40])
    if case["merchant_id"] != ctx.merchant_id:
        raise NotFound("ip_case", case_id)
    return page(request, "console/ip_case.html", {"c": case, "errors": errors or [], "form": form or {}},
                status=status)


@router.get("/console/ip-cases/{case_id}")
async def console_case(request: Request, case_id: str, session: SessionDep) -> Response:
    ctx = await staff_of(request, session, "products.view")
    return await _case_page(request, session, ctx, case_id)


@router.post("/console/ip-cases/{case_id}/counter-notice")
async def console_counter_notice(request: Request, case_id: str, session: SessionDep) -> Response:
    ctx = await staff_of(request, session, "products.edit")
    form = await request.form()
    check_csrf(request, form)
    values = {k: str(v).strip()[:5000] for k, v in form.items() if isinstance(v, str) and k != "csrf"}
    try:
        body = CounterNoticeIn.model_validate({
            "statement": values.get("statement", ""),
            "evidence": [u.strip() for u in values.get("evidence", "").splitlines() if u.strip()][:20]})
        await audit(session, ctx, "ip_counter_notice", "ip_case", case_id[:40])
        await ip_cases.file_counter_notice(session=session, merchant_id=ctx.merchant_id, actor=ctx.actor,
                                           case_id=case_id[:40], counter_in=body)
    except (ValidationError, DomainError) as exc:
        await session.rollback()
        return await _case_page(request, session, ctx, case_id, errors=form_errors(exc), form=values,
                                status=422)
    return redirect(f"/console/ip-cases/{case_id[:40]}")
