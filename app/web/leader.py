"""The community leader's page: today's pickup list for their point, and collection by pickup code."""

from __future__ import annotations

import contextlib
from datetime import date

from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from app.community import service as community_service
from app.core import auth
from app.core.auth import Principal
from app.core.deps import SessionDep
from app.core.errors import DomainError
from app.web import i18n
from app.web.pages import LoginRequired, WebRoute, check_csrf, form_errors, read_cookie, redirect, render, set_cookie

router = APIRouter(prefix="/leader", route_class=WebRoute, include_in_schema=False)

LEADER_COOKIE = "ldr"


async def leader_of(request: Request, session: AsyncSession) -> Principal:
    """The leader whose token is in the signed HttpOnly cookie; LoginRequired otherwise."""
    token = read_cookie(request, LEADER_COOKIE)
    if token:
        try:
            principal = await auth.resolve(session, token=token, admin_token=None,
                                           secret=request.app.state.secret_key)
        except DomainError:
            principal = None
        if principal is not None and principal.kind == "leader" and principal.subject_id:
            return principal
    raise LoginRequired("/leader/login")


@router.get("/login")
async def login_page(request: Request) -> Response:
    return render(request, "leader/login.html", {"errors": []})


@router.post("/login")
async def login(request: Request, session: SessionDep) -> Response:
    form = await request.form()
    check_csrf(request, form)
    token = str(form.get("token", "")).strip()[:200]
    principal = None
    with contextlib.suppress(DomainError):
        principal = await auth.resolve(session, token=token, admin_token=None, secret=request.app.state.secret_key)
    if principal is None or principal.kind != "leader":
        return render(request, "leader/login.html", {"errors": [i18n.translate(
            i18n.pick(request.cookies.get("lang")), "wrong_key")]}, status=401)
    response = redirect("/leader/")
    set_cookie(response, request, LEADER_COOKIE, token, max_age=12 * 3600)
    return response


async def _page(request: Request, session: AsyncSession, leader: Principal, errors: list[str],
                status: int = 200) -> Response:
    assert leader.subject_id is not None
    try:
        day = date.fromisoformat(request.query_params.get("date", ""))
    except ValueError:
        day = None
    point = await community_service.get_pickup_point(session=session, principal=leader,
                                                     pickup_point_id=leader.subject_id)
    manifest = await community_service.manifest(session=session, principal=leader, pickup_point_id=point.id,
                                                day=day)
    return render(request, "leader/manifest.html", {"point": point, "manifest": manifest, "errors": errors,
                                                    "done": request.query_params.get("done")}, status=status)


@router.get("/")
async def manifest(request: Request, session: SessionDep) -> Response:
    return await _page(request, session, await leader_of(request, session), [])


@router.post("/collect")
async def collect(request: Request, session: SessionDep) -> Response:
    leader = await leader_of(request, session)
    form = await request.form()
    check_csrf(request, form)
    assert leader.subject_id is not None
    order_id = str(form.get("order_id", "")).strip()[:40] or None
    try:
        await community_service.collect(session=session, principal=leader, pickup_point_id=leader.subject_id,
                                        code=str(form.get("pickup_code", "")).strip()[:20], order_id=order_id)
    except DomainError as exc:
        await session.rollback()
        return await _page(request, session, leader, form_errors(exc), status=exc.status)
    day = str(form.get("date", ""))[:10]
    return redirect("/leader/?done=1" + (f"&date={day}" if _is_date(day) else ""))


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


@router.post("/logout")
async def logout(request: Request) -> Response:
    check_csrf(request, await request.form())
    response = redirect("/leader/login")
    response.delete_cookie(LEADER_COOKIE, path="/")
    return response
