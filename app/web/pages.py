"""What every page shares: templates, the language, cookies, CSRF, and errors shown as HTML."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from starlette.responses import RedirectResponse, Response

from app.config import Settings
from app.core.errors import DomainError
from app.logistics import carriers
from app.web import i18n, security
from app.web.page_cache import PLACEHOLDER

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
TEMPLATES.env.auto_reload = False  # templates ship with the code: no stat() per render
TEMPLATES.env.filters["money"] = lambda amount, currency="CNY": i18n.money(int(amount or 0), currency or "CNY")
TEMPLATES.env.filters["local_time"] = i18n.local_time
TEMPLATES.env.filters["yuan"] = lambda amount: f"{int(amount or 0) / 100:.2f}"
# A shipment's carrier as shoppers know it (orders shipped before the carrier list keep the text they were given).
TEMPLATES.env.globals["carrier_name"] = lambda code: getattr(carriers.BY_CODE.get(code), "name", code)

SID_COOKIE = "sid"
LANG_COOKIE = "lang"
YEAR = 365 * 24 * 3600


class LoginRequired(Exception):
    """The page needs a signed-in merchant (or leader); the browser is sent to the login form."""

    def __init__(self, login_path: str) -> None:
        super().__init__(login_path)
        self.login_path = login_path


class BadForm(Exception):
    """A form failed its CSRF check."""


def secret(request: Request) -> str:
    key: str = request.app.state.secret_key
    return key


def lang_of(request: Request) -> i18n.Lang:
    return i18n.pick(request.query_params.get("lang") or request.cookies.get(LANG_COOKIE))


def sid_of(request: Request) -> str:
    """The browser's session id (created on first sight, set as a cookie by `render`)."""
    sid = request.cookies.get(SID_COOKIE)
    if not sid or len(sid) > 64:
        sid = getattr(request.state, "new_sid", None) or security.new_sid()
        request.state.new_sid = sid
    return sid


def read_cookie(request: Request, name: str) -> str | None:
    return security.unsign(secret(request), name, request.cookies.get(name))


def set_cookie(response: Response, request: Request, name: str, value: str, *, max_age: int | None = None) -> None:
    response.set_cookie(name, security.sign(secret(request), name, value), max_age=max_age, httponly=True,
                        samesite="lax", secure=request.url.scheme == "https", path="/")


def check_csrf(request: Request, form: Mapping[str, Any]) -> None:
    token = form.get("csrf")
    if not security.csrf_ok(secret(request), request.cookies.get(SID_COOKIE), token if isinstance(token, str)
                            else None):
        raise BadForm()


def platform_footer(settings: Settings) -> dict[str, str]:
    """What every page's footer shows (C6, C36): the operator, its ICP number from the settings, its licence,
    rules and credit-rules pages, the complaint channel and the contact."""
    return {"company": settings.shop_platform_company, "icp_no": settings.shop_platform_icp_no,
            "licence_url": settings.shop_platform_licence_url, "rules_url": settings.shop_rules_url,
            "credit_rules_url": settings.shop_credit_rules_url, "complaints_url": "/legal/complaints",
            "phone": settings.shop_platform_phone, "email": settings.shop_platform_email}


def render(request: Request, name: str, context: dict[str, Any] | None = None, *, status: int = 200) -> Response:
    lang = lang_of(request)
    # A page for the anonymous cache (app/web/page_cache.py) gets its session and token when it is served.
    shared = getattr(request.state, "csrf_placeholder", False)
    sid = sid_of(request)

    def t(key: str, **kwargs: object) -> str:
        return i18n.translate(lang, key, **kwargs)

    ctx = {"lang": lang, "t": t, "csrf": PLACEHOLDER if shared else security.csrf_token(secret(request), sid),
           "platform": platform_footer(request.app.state.settings),
           "path": request.url.path, "next": quote(str(request.url.path) + (
               f"?{request.url.query}" if request.url.query else ""), safe="")}
    ctx.update(context or {})
    response = TEMPLATES.TemplateResponse(request, name, ctx, status_code=status)
    if request.cookies.get(SID_COOKIE) != sid and not shared:
        response.set_cookie(SID_COOKIE, sid, httponly=True, samesite="lax", secure=request.url.scheme == "https",
                            path="/")
    if request.query_params.get("lang") in i18n.LANGS and request.cookies.get(LANG_COOKIE) != lang:
        response.set_cookie(LANG_COOKIE, lang, max_age=YEAR, samesite="lax", path="/")
    return response


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def form_errors(exc: DomainError | ValidationError) -> list[str]:
    """Readable messages for a form: each bad field and what to fix."""
    if isinstance(exc, ValidationError):
        return [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
    listed = [f"{e.get('field')}: {e.get('message')}" for e in exc.extra.get("errors", []) if isinstance(e, dict)]
    short = exc.extra.get("short") or exc.extra.get("skus")
    return listed or [exc.detail + (f" ({short})" if short else "")]


class WebRoute(APIRoute):
    """Page routes: no JSON problems for a browser — login redirects and HTML error pages instead."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except LoginRequired as exc:
                return redirect(exc.login_path)
            except BadForm:
                return render(request, "error.html", {"messages": ["form expired: reload the page and try again"]},
                              status=403)
            except DomainError as exc:
                return render(request, "error.html", {"messages": form_errors(exc), "status": exc.status},
                              status=exc.status)

        return page_handler
