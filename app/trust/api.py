from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from app.core.deps import (
    AdminDep,
    AdminOrRegulatorDep,
    CustomerDep,
    MerchantDep,
    MerchantOrAdminDep,
    OptionalPrincipal,
    RegulatorDep,
    SessionDep,
    SettingsDep,
)
from app.core.errors import field_error
from app.core.pagination import CursorQuery, LimitQuery, decode_cursor, encode_cursor
from app.merchants.schemas import ClosureIn, MerchantAdminOut
from app.trust import (
    audit_log,
    closure,
    complaints,
    enforcement,
    export,
    ip_cases,
    licence_changes,
    records,
    reputation,
    reviews,
    rules,
    samr,
    sellers,
    statistics,
)
from app.trust.schemas import (
    AuditOut,
    AuditPage,
    ChainCheck,
    ClosureOut,
    ComplaintIn,
    ComplaintOut,
    ComplaintPage,
    CounterNoticeIn,
    EnforcementOut,
    EnforcementPage,
    IPActionIn,
    IPCaseOut,
    IPCasePage,
    IPNoticeCreated,
    IPNoticeIn,
    LegalHoldOut,
    LicenceApprovalIn,
    LicenceChangeIn,
    LicenceChangeOut,
    LicenceChangePage,
    LicenceDecisionIn,
    MaskIn,
    MerchantProfileOut,
    PlatformInfo,
    ResolveIn,
    ReviewIn,
    ReviewOut,
    ReviewPage,
    ReviewReplyIn,
    RuleCommentIn,
    RuleCommentOut,
    RuleDecisionIn,
    RuleDecisionList,
    RuleDecisionOut,
    RuleVersionDetail,
    RuleVersionIn,
    RuleVersionList,
    RuleVersionOut,
    SellerProfileIn,
    SellerProfileOut,
    StatisticsOut,
    SuspendIn,
    TakedownIn,
    WarningIn,
)

router = APIRouter(prefix="/v1", tags=["trust"])


@router.get("/merchants/{merchant_id}", response_model=MerchantProfileOut, tags=["merchants"])
async def merchant_profile(merchant_id: str, session: SessionDep, settings: SettingsDep,
                           principal: OptionalPrincipal) -> MerchantProfileOut:
    """Public shop profile of an active merchant: licence data or self-declaration, verified date, rating,
    credit score, completed orders and the platform's ICP number and rules (the merchant itself and the admin
    also see other states)."""
    out = await reputation.profile(session=session, settings=settings, principal=principal, merchant_id=merchant_id)
    return MerchantProfileOut.model_validate(out)


@router.get("/platform", response_model=PlatformInfo)
async def platform(settings: SettingsDep) -> PlatformInfo:
    """The platform's ICP number, licence and rules links, for every storefront page footer."""
    return PlatformInfo.model_validate(reputation.platform_info(settings))


@router.put("/seller-profile", response_model=SellerProfileOut, tags=["merchants"])
async def set_seller_profile(body: SellerProfileIn, merchant: MerchantDep, session: SessionDep,
                             settings: SettingsDep) -> SellerProfileOut:
    """The seller's trading model (SB/T 10518) and, for unregistered individuals, their self-declaration."""
    out = await sellers.set_seller_profile(session=session, settings=settings, merchant_id=merchant.tenant,
                                           profile_in=body)
    return SellerProfileOut.model_validate(out)


@router.get("/admin/sellers-over-threshold")
async def sellers_over_threshold(_: AdminDep, session: SessionDep) -> dict[str, list[dict[str, object]]]:
    """Unregistered individuals whose sales this year passed ¥100,000 across their shops (reminded, and
    marked in the report to the regulator)."""
    return {"items": list(await sellers.over_threshold_sellers(session=session))}


@router.post("/shop-closure", status_code=201, response_model=ClosureOut, tags=["merchants"])
async def announce_closure(body: ClosureIn, merchant: MerchantDep, session: SessionDep) -> ClosureOut:
    """Announce that your shop stops trading on `closes_at`, at least 30 days ahead (422 otherwise). The shop
    page shows the notice from now on; on the day the shop stops selling, and its open orders and returns are
    still served."""
    out = await closure.announce(session=session, actor=merchant.scope, merchant_id=merchant.tenant,
                                 closes_at=_utc(body.closes_at), note=body.note)
    return ClosureOut.model_validate(out)


@router.get("/admin/reports/samr", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
async def samr_report(
    admin: AdminDep, session: SessionDep, settings: SettingsDep,
    period: Annotated[str, Query(max_length=10, description="The half-year, e.g. 2026H2 (sent in January)")],
) -> Response:
    """The half-yearly report to the market regulator (January and July): every seller's identity data, the
    unregistered individuals over ¥100,000 a year marked, and the platform's statistics, as CSV."""
    when = samr.parse_period(period)
    body = await samr.build_report(session=session, actor=admin.scope, period=when, public_url=settings.shop_public_url)
    return Response(body, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="samr_{when.label}.csv"'})


# ---- platform rules (C7) ---------------------------------------------------------------------------------

@router.post("/admin/rules", status_code=201, response_model=RuleVersionOut)
async def publish_rules(body: RuleVersionIn, admin: AdminDep, session: SessionDep) -> RuleVersionOut:
    """Publish a new version of the trading rules for public comment. It takes effect no sooner than 7 days
    from now (422 otherwise); published versions never change and are never deleted."""
    out = await rules.publish(session=session, actor=admin.scope, version=body.version, category=body.category,
                              title=body.title, body=body.body, summary=body.summary,
                              effective_at=_utc(body.effective_at),
                              comment_closes_at=_utc(body.comment_closes_at) if body.comment_closes_at else None)
    return RuleVersionOut.model_validate(out)


@router.get("/rules/versions", response_model=RuleVersionList)
async def rule_versions(session: SessionDep) -> RuleVersionList:
    """Every version of the trading rules, in effect, coming or past (the archive), newest first."""
    return RuleVersionList(items=[RuleVersionOut.model_validate(v) for v in await rules.list_versions(session=session)])


@router.get("/rules/versions/{version}", response_model=RuleVersionDetail)
async def rule_version(version: str, session: SessionDep) -> RuleVersionDetail:
    """One version's full text and its public comments."""
    return RuleVersionDetail.model_validate(await rules.get_version(session=session, version=version))


@router.post("/rules/versions/{version}/comments", status_code=201, response_model=RuleCommentOut)
async def comment_on_rules(version: str, body: RuleCommentIn, session: SessionDep,
                           principal: OptionalPrincipal) -> RuleCommentOut:
    """Comment on a version while its comment period is open (409 after)."""
    out = await rules.comment(session=session, principal=principal, version=version, text=body.text)
    return RuleCommentOut.model_validate(out)


@router.post("/rules/versions/{version}/decision", response_model=RuleDecisionOut, tags=["merchants"])
async def decide_on_rules(version: str, body: RuleDecisionIn, merchant: MerchantDep, session: SessionDep
                          ) -> RuleDecisionOut:
    """Accept a coming version, or refuse it and leave under the old terms before it takes effect (once)."""
    out = await rules.decide(session=session, principal=merchant, version=version, accept=body.decision == "accept")
    return RuleDecisionOut.model_validate(out)


@router.get("/admin/rules/versions/{version}/decisions", response_model=RuleDecisionList)
async def rule_decisions(version: str, _: AdminDep, session: SessionDep) -> RuleDecisionList:
    """Which merchants accepted or refused a version."""
    items = await rules.decisions(session=session, version=version)
    return RuleDecisionList(items=[RuleDecisionOut.model_validate(i) for i in items])


# ---- licence changes (C4) --------------------------------------------------------------------------------

@router.post("/licence-changes", status_code=201, response_model=LicenceChangeOut, tags=["merchants"])
async def submit_licence_change(body: LicenceChangeIn, merchant: MerchantDep, session: SessionDep
                                ) -> LicenceChangeOut:
    """Report a change of your licence or registration data (name, kind, licence number, ICP number). The shop
    page keeps the data on record until the platform approves it (due within 7 working days); one request at
    a time."""
    out = await licence_changes.submit_licence_change(session=session, principal=merchant, change_in=body)
    return LicenceChangeOut.model_validate(out)


@router.get("/licence-changes", response_model=LicenceChangePage, tags=["merchants"])
async def my_licence_changes(merchant: MerchantDep, session: SessionDep, limit: LimitQuery = 50,
                             cursor: CursorQuery = None) -> LicenceChangePage:
    """Your licence change requests, oldest first, with their decisions."""
    items, last = await licence_changes.list_licence_changes(session=session, merchant_id=merchant.tenant, status=None,
                                                     after=decode_cursor(cursor), limit=limit)
    return LicenceChangePage(items=[LicenceChangeOut.model_validate(i) for i in items],
                             next_cursor=encode_cursor(last) if last else None)


@router.get("/licence-changes/{change_id}", response_model=LicenceChangeOut, tags=["merchants"])
async def get_licence_change(change_id: str, principal: MerchantOrAdminDep, session: SessionDep
                             ) -> LicenceChangeOut:
    out = await licence_changes.get_licence_change(session=session, principal=principal, change_id=change_id)
    return LicenceChangeOut.model_validate(out)


@router.get("/admin/licence-changes", response_model=LicenceChangePage)
async def licence_change_queue(
    _: AdminDep, session: SessionDep, limit: LimitQuery = 50, cursor: CursorQuery = None,
    status: Annotated[str | None, Query(pattern="^(pending|approved|rejected)$")] = None,
) -> LicenceChangePage:
    """The review queue (`?status=pending`), oldest first; `sla_breached` marks requests pending past their
    7-working-day deadline."""
    items, last = await licence_changes.list_licence_changes(session=session, merchant_id=None, status=status,
                                                     after=decode_cursor(cursor), limit=limit)
    return LicenceChangePage(items=[LicenceChangeOut.model_validate(i) for i in items],
                             next_cursor=encode_cursor(last) if last else None)


@router.post("/admin/licence-changes/{change_id}/approve", response_model=LicenceChangeOut)
async def approve_licence_change(change_id: str, admin: AdminDep, session: SessionDep,
                                 body: LicenceApprovalIn | None = None) -> LicenceChangeOut:
    """The new data was verified: the shop page shows it from now on."""
    out = await licence_changes.decide_licence_change(session=session, actor=admin.scope, change_id=change_id,
                                                      approve=True, reason=body.reason if body else None)
    return LicenceChangeOut.model_validate(out)


@router.post("/admin/licence-changes/{change_id}/reject", response_model=LicenceChangeOut)
async def reject_licence_change(change_id: str, body: LicenceDecisionIn, admin: AdminDep,
                                session: SessionDep) -> LicenceChangeOut:
    """The new data could not be verified; the data on record stays. The reason is shown to the merchant."""
    out = await licence_changes.decide_licence_change(session=session, actor=admin.scope, change_id=change_id,
                                              approve=False, reason=body.reason)
    return LicenceChangeOut.model_validate(out)


# ---- reviews ---------------------------------------------------------------------------------------------

@router.post("/orders/{order_id}/reviews", status_code=201, response_model=ReviewOut)
async def add_review(order_id: str, body: ReviewIn, customer: CustomerDep, session: SessionDep) -> ReviewOut:
    """The order's customer rates it once it is delivered; one review per order, never deleted."""
    out = await reviews.add_review(session=session, principal=customer, order_id=order_id, review_in=body)
    return ReviewOut.model_validate(out)


@router.get("/reviews/{review_id}", response_model=ReviewOut)
async def get_review(review_id: str, session: SessionDep) -> ReviewOut:
    """A review (there is no way to delete one: masked content keeps its original on record)."""
    return ReviewOut.model_validate(await reviews.get_review(session=session, review_id=review_id))


@router.get("/merchants/{merchant_id}/reviews", response_model=ReviewPage, tags=["merchants"])
async def list_reviews(merchant_id: str, session: SessionDep, limit: LimitQuery = 50,
                       cursor: CursorQuery = None) -> ReviewPage:
    """Every review of a merchant, newest first, bad ones included."""
    items, last = await reviews.list_reviews(session=session, merchant_id=merchant_id, before=decode_cursor(cursor),
                                             limit=limit)
    return ReviewPage(items=[ReviewOut.model_validate(i) for i in items],
                      next_cursor=encode_cursor(last) if last else None)


@router.post("/reviews/{review_id}/reply", response_model=ReviewOut)
async def reply_review(review_id: str, body: ReviewReplyIn, merchant: MerchantDep, session: SessionDep) -> ReviewOut:
    out = await reviews.reply_review(session=session, merchant_id=merchant.tenant, review_id=review_id,
                                     reply=body.reply)
    return ReviewOut.model_validate(out)


@router.post("/admin/reviews/{review_id}/mask", response_model=ReviewOut)
async def mask_review(review_id: str, body: MaskIn, admin: AdminDep, session: SessionDep) -> ReviewOut:
    """Mask content the law forbids; the original and the legal reason stay on record."""
    out = await reviews.mask_review(session=session, actor=admin.scope, review_id=review_id, reason=body.reason)
    return ReviewOut.model_validate(out)


# ---- complaints ------------------------------------------------------------------------------------------

@router.post("/complaints", status_code=201, response_model=ComplaintOut)
async def file_complaint(body: ComplaintIn, session: SessionDep, settings: SettingsDep,
                         principal: OptionalPrincipal) -> ComplaintOut:
    """Complain about a listing or a merchant. Open to anyone (ECL art. 59); a token, when sent, identifies the
    complainant, who can then follow the complaint with `GET /v1/complaints/{id}`."""
    out = await complaints.file_complaint(session=session, settings=settings, principal=principal, complaint_in=body)
    return ComplaintOut.model_validate(out)


@router.get("/complaints/{complaint_id}", response_model=ComplaintOut)
async def get_complaint(complaint_id: str, session: SessionDep, principal: OptionalPrincipal) -> ComplaintOut:
    out = await complaints.get_complaint(session=session, principal=principal, complaint_id=complaint_id)
    return ComplaintOut.model_validate(out)


@router.get("/admin/complaints", response_model=ComplaintPage)
async def list_complaints(
    _: AdminDep, session: SessionDep, limit: LimitQuery = 50, cursor: CursorQuery = None,
    status: Annotated[str | None, Query(pattern="^(open|upheld|rejected)$")] = None,
) -> ComplaintPage:
    """The complaint queue, oldest first, with each one's deadline (`overdue` once it has passed)."""
    items, last = await complaints.list_complaints(session=session, status=status, before=decode_cursor(cursor),
                                                limit=limit)
    return ComplaintPage(items=[ComplaintOut.model_validate(i) for i in items],
                         next_cursor=encode_cursor(last) if last else None)


@router.post("/admin/complaints/{complaint_id}/resolve", response_model=ComplaintOut)
async def resolve_complaint(complaint_id: str, body: ResolveIn, admin: AdminDep, session: SessionDep) -> ComplaintOut:
    out = await complaints.resolve_complaint(session=session, actor=admin.scope, complaint_id=complaint_id,
                                          outcome=body.outcome, note=body.note)
    return ComplaintOut.model_validate(out)


# ---- takedowns and enforcement ---------------------------------------------------------------------------

@router.post("/admin/products/{product_id}/takedown", response_model=EnforcementOut)
async def take_down(product_id: str, body: TakedownIn, admin: AdminDep, session: SessionDep) -> EnforcementOut:
    """Hide a listing at once (search, pages, carts and checkout) and publish the measure."""
    out = await enforcement.take_down(session=session, actor=admin.scope, product_id=product_id, reason=body.reason)
    return EnforcementOut.model_validate(out)


@router.post("/admin/products/{product_id}/approve")
async def approve_listing(product_id: str, admin: AdminDep, session: SessionDep) -> dict[str, str]:
    """Release a listing that moderation held (`pending_review`): it goes live."""
    return await enforcement.approve_listing(session=session, actor=admin.scope, product_id=product_id)


@router.post("/admin/enforcement/warnings", status_code=201, response_model=EnforcementOut)
async def warn(body: WarningIn, admin: AdminDep, session: SessionDep) -> EnforcementOut:
    entry = await enforcement.warn(session=session, actor=admin.scope, merchant_id=body.merchant_id, reason=body.reason,
                               ends_at=body.ends_at)
    return EnforcementOut.model_validate(entry)


@router.post("/admin/merchants/{merchant_id}/suspend", response_model=MerchantAdminOut, tags=["merchants"])
async def suspend_merchant(merchant_id: str, admin: AdminDep, session: SessionDep,
                           body: SuspendIn | None = None) -> MerchantAdminOut:
    """Suspend: every listing disappears and nothing of theirs can be bought, at once; published on
    `GET /v1/enforcement` (until `ends_at`, when given)."""
    merchant = await enforcement.suspend(session=session, actor=admin.scope, merchant_id=merchant_id,
                                     reason=body.reason if body else None, ends_at=body.ends_at if body else None)
    return MerchantAdminOut.model_validate(merchant)


@router.get("/enforcement", response_model=EnforcementPage)
async def list_enforcement(session: SessionDep, limit: LimitQuery = 50, cursor: CursorQuery = None
                           ) -> EnforcementPage:
    """Public list of measures in force (takedowns, warnings, ...), newest first."""
    rows, last = await enforcement.list_enforcement(session=session, before=decode_cursor(cursor), limit=limit)
    return EnforcementPage(items=[EnforcementOut.model_validate(r) for r in rows],
                           next_cursor=encode_cursor(last) if last else None)


# ---- IP notice and takedown (C37) ------------------------------------------------------------------------

@router.post("/ip-notices", status_code=201, response_model=IPNoticeCreated)
async def file_ip_notice(body: IPNoticeIn, session: SessionDep) -> IPNoticeCreated:
    """A rights holder's notice against a listing, with evidence (ECL art. 42). Open to anyone: the listing is
    taken down at once and the seller told; the case is public on `GET /v1/ip-cases`. Keep `case_key`: it
    reports a complaint or suit on the case later."""
    return IPNoticeCreated.model_validate(await ip_cases.file_notice(session=session, notice_in=body))


@router.get("/ip-cases", response_model=IPCasePage)
async def list_ip_cases(
    session: SessionDep, limit: LimitQuery = 50, cursor: CursorQuery = None,
    merchant_id: Annotated[str | None, Query(max_length=40)] = None,
    status: Annotated[str | None, Query(pattern="^(taken_down|countered|restored|upheld)$")] = None,
) -> IPCasePage:
    """Every IP case with its notice, counter-notice and outcome, newest first (ECL art. 44; public)."""
    rows, last = await ip_cases.list_cases(session=session, merchant_id=merchant_id, status=status,
                                           before=decode_cursor(cursor), limit=limit)
    return IPCasePage(items=[IPCaseOut.model_validate(ip_cases.case_view(r)) for r in rows],
                      next_cursor=encode_cursor(last) if last else None)


@router.get("/ip-cases/{case_id}", response_model=IPCaseOut)
async def get_ip_case(case_id: str, session: SessionDep, principal: OptionalPrincipal) -> IPCaseOut:
    """A public IP case; the seller and the admin also see the rights holder's contact."""
    return IPCaseOut.model_validate(await ip_cases.get_case(session=session, principal=principal, case_id=case_id))


@router.post("/ip-cases/{case_id}/counter-notice", response_model=IPCaseOut)
async def file_counter_notice(case_id: str, body: CounterNoticeIn, merchant: MerchantDep,
                              session: SessionDep) -> IPCaseOut:
    """The seller states, with evidence, that it does not infringe (ECL art. 43). It is forwarded to the rights
    holder at once; the listing returns 15 days later unless a complaint or suit is reported."""
    out = await ip_cases.file_counter_notice(session=session, merchant_id=merchant.tenant, actor=merchant.scope,
                                             case_id=case_id, counter_in=body)
    return IPCaseOut.model_validate(out)


@router.post("/ip-cases/{case_id}/action", response_model=IPCaseOut)
async def report_ip_action(case_id: str, body: IPActionIn, session: SessionDep,
                           principal: OptionalPrincipal) -> IPCaseOut:
    """The rights holder (`case_key`) or the admin reports a complaint to an authority or a suit: the listing
    stays down (ECL art. 45)."""
    out = await ip_cases.report_action(session=session, principal=principal, case_id=case_id, action_in=body)
    return IPCaseOut.model_validate(out)


@router.get("/admin/merchants-due-reverification")
async def reverification_due(_: AdminDep, session: SessionDep) -> dict[str, list[dict[str, object]]]:
    """Merchants flagged by the nightly check as overdue for re-verification."""
    return {"items": list(await sellers.reverification_flags(session=session))}


# ---- records ---------------------------------------------------------------------------------------------

@router.get("/admin/audit-log", response_model=AuditPage)
async def list_audit_log(
    _: AdminDep, session: SessionDep, limit: LimitQuery = 50, cursor: CursorQuery = None,
    actor: Annotated[str | None, Query(max_length=60)] = None,
    merchant_id: Annotated[str | None, Query(max_length=40)] = None,
) -> AuditPage:
    """Who did what, when: every admin action and merchants' sensitive ones, newest first."""
    raw = decode_cursor(cursor)
    if raw is not None and not raw.isdigit():
        raise field_error("cursor", "not a valid cursor")
    rows = await audit_log.list_audit(session=session, before=int(raw) if raw else None, limit=limit, actor=actor,
                                    merchant_id=merchant_id)
    return AuditPage(items=[AuditOut.model_validate(r) for r in rows],
                     next_cursor=encode_cursor(str(rows[-1].id)) if len(rows) == limit else None)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


@router.get("/admin/exports/transactions", response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {}}}})
async def export_transactions(
    request: Request, admin: AdminDep, session: SessionDep,
    start: Annotated[datetime, Query(alias="from", description="Inclusive, RFC 3339 (UTC when no offset)")],
    end: Annotated[datetime, Query(alias="to", description="Exclusive")],
) -> StreamingResponse:
    """Every order created in [from, to) as CSV for regulators, streamed in batches (flat memory)."""
    rows = await export.start_export(session=session, factory=request.app.state.sessionmaker, actor=admin.scope,
                                      start=_utc(start), end=_utc(end))
    name = f"transactions_{_utc(start):%Y%m%d}_{_utc(end):%Y%m%d}.csv"
    return StreamingResponse(rows, media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/admin/exports/statistics", response_model=StatisticsOut, response_model_by_alias=True,
            responses={200: {"content": {"text/csv": {}}}})
async def export_statistics(
    principal: AdminOrRegulatorDep, session: SessionDep,
    start: Annotated[date, Query(alias="from", description="First Shanghai calendar day")],
    end: Annotated[date, Query(alias="to", description="Last Shanghai calendar day, included")],
    period: Annotated[Literal["day", "month"], Query(description="Group by Shanghai day or month")] = "month",
    fmt: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
) -> Response:
    """For the authorities (C25): price, sales (orders, units) and turnover of the online orders placed in the
    range, by period, category and region (the province delivered to), as JSON or CSV. The operator or the
    regulator liaison; every export is in the audit log. What counts is said in app/trust/statistics.py."""
    stats = await statistics.export(session=session, actor=principal.scope, start=start, end=end, period=period,
                                    fmt=fmt)
    if fmt == "csv":
        return Response(statistics.to_csv(stats), media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="statistics_{period}_{start:%Y%m%d}_{end:%Y%m%d}.csv"'})
    body = StatisticsOut.model_validate(stats).model_dump(mode="json", by_alias=True)
    return JSONResponse(body)


@router.get("/regulator/legal-hold/{order_id}", response_model=LegalHoldOut, tags=["trust"])
async def read_legal_hold(order_id: str, regulator: RegulatorDep, session: SessionDep,
                          settings: SettingsDep) -> LegalHoldOut:
    """The regulator liaison reads the buyer data a closed account left on one order (audited); nobody else can."""
    out = await export.read_legal_hold(session=session, actor=regulator.scope, order_id=order_id,
                                       hold_years=settings.shop_legal_hold_years)
    return LegalHoldOut.model_validate(out)


@router.get("/admin/records/verify", response_model=ChainCheck)
async def verify_records(_: AdminDep, session: SessionDep) -> ChainCheck:
    """Check the hash chain over orders and payments against the records as they are now: the first link whose
    record was changed or removed, or whose link was altered, is reported (also `shop verify-records`)."""
    return ChainCheck.model_validate(await records.verify(session=session))
