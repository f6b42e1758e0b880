"""The platform's own pages (C6, C7, C18, C36): its business licence, its trading rules with every version, the
published credit formula and the complaint channel. Linked from every page's footer."""

from __future__ import annotations

import inspect

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import Response

from app.core.deps import SessionDep, SettingsDep
from app.core.errors import DomainError
from app.trust import complaints, credit, rules
from app.trust.schemas import ComplaintIn
from app.web.pages import WebRoute, check_csrf, form_errors, render

router = APIRouter(route_class=WebRoute, include_in_schema=False)


@router.get("/legal/licence")
async def licence_page(request: Request, settings: SettingsDep) -> Response:
    """The operator's business licence and ICP filing (ECL art. 15, ICP art. 12)."""
    return render(request, "legal/licence.html", {"settings": settings})


@router.get("/legal/rules")
async def rules_page(request: Request, session: SessionDep) -> Response:
    """The rules in effect, the versions published for comment and the archive of past versions."""
    effective, coming = await rules.current(session=session)
    return render(request, "legal/rules.html", {"effective": effective, "coming": coming,
                                                "archive": await rules.list_versions(session=session)})


@router.get("/legal/rules/{version}")
async def rule_version_page(request: Request, version: str, session: SessionDep) -> Response:
    """One version of the rules, as published, with its public comments."""
    return render(request, "legal/rule_version.html",
                  {"rule": await rules.get_version(session=session, version=version[:20])})


def _formula() -> str:
    """The formula block of app/trust/credit.py's docstring, as published (the code's own statement of it)."""
    doc = inspect.getdoc(credit) or ""
    start = doc.find("score = ")
    end = doc.find("clamped to")
    return doc[start:doc.find("\n", end)].strip() if start >= 0 and end >= 0 else ""


@router.get(f"/legal/credit-score-{credit.FORMULA_VERSION}")
async def credit_page(request: Request) -> Response:
    """The published seller credit formula (ECL art. 39, C18), in the version the scores use."""
    return render(request, "legal/credit.html", {"version": credit.FORMULA_VERSION, "base": credit.BASE,
                                                 "min_sample": credit.MIN_SAMPLE, "formula": _formula()})


@router.get("/legal/complaints")
async def complaints_page(request: Request) -> Response:
    """How to complain (ECL art. 59): the form, the phone and e-mail, and the deadline in working days."""
    return render(request, "legal/complaints.html", {"form": dict(request.query_params)})


@router.post("/legal/complaints")
async def file_complaint(request: Request, session: SessionDep, settings: SettingsDep) -> Response:
    form = await request.form()
    check_csrf(request, form)
    fields = {k: str(form.get(k) or "").strip() for k in ("target_type", "target_id", "reason", "contact_email")}
    try:
        complaint_in = ComplaintIn.model_validate({**fields, "contact_email": fields["contact_email"] or None})
        done = await complaints.file_complaint(session=session, settings=settings, principal=None,
                                               complaint_in=complaint_in)
    except (ValidationError, DomainError) as exc:
        return render(request, "legal/complaints.html", {"form": fields, "errors": form_errors(exc)}, status=422)
    return render(request, "legal/complaints.html", {"form": {}, "filed": done})
