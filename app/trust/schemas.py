from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import Field, HttpUrl

from app.core.schemas import Email, OutSchema, Phone, Schema, UtcDatetime

ComplaintCategory = Literal["counterfeit", "prohibited_goods", "false_information", "quality", "service",
                            "ip_infringement", "fraud", "other"]


class ReviewIn(Schema):
    rating: int = Field(ge=1, le=5)
    text: str = Field(default="", max_length=2000)


class ReviewReplyIn(Schema):
    reply: str = Field(min_length=1, max_length=2000)


class MaskIn(Schema):
    reason: str = Field(min_length=1, max_length=500, description="The law the content breaks")


class ReviewOut(OutSchema):
    id: str
    order_id: str
    merchant_id: str
    rating: int
    text: str = Field(description="Shown as a notice when the platform masked unlawful content")
    masked: bool
    reply: str | None
    replied_at: UtcDatetime | None
    created_at: UtcDatetime


class ReviewPage(OutSchema):
    items: list[ReviewOut]
    next_cursor: str | None = None


class ComplaintIn(Schema):
    target_type: Literal["product", "merchant"]
    target_id: str = Field(min_length=1, max_length=40)
    reason: str = Field(min_length=1, max_length=5000)
    category: ComplaintCategory = "other"
    evidence: list[HttpUrl] = Field(default_factory=list, max_length=20)
    contact_email: Email | None = None


class ComplaintEventOut(OutSchema):
    status: str
    at: str
    by: str
    note: str | None = None


class ComplaintOut(OutSchema):
    id: str
    target_type: str
    target_id: str
    merchant_id: str
    category: str
    reason: str
    evidence: list[str]
    status: str
    resolution: str | None
    history: list[ComplaintEventOut]
    sla_due_at: UtcDatetime
    overdue: bool
    created_at: UtcDatetime
    resolved_at: UtcDatetime | None


class ComplaintPage(OutSchema):
    items: list[ComplaintOut]
    next_cursor: str | None = None


class ResolveIn(Schema):
    outcome: Literal["upheld", "rejected"]
    note: str = Field(min_length=1, max_length=2000)


class TakedownIn(Schema):
    reason: str = Field(min_length=1, max_length=500)


class WarningIn(Schema):
    merchant_id: str = Field(min_length=1, max_length=40)
    reason: str = Field(min_length=1, max_length=500)
    ends_at: datetime = Field(description="Warnings drop off the public list when they expire")


class SuspendIn(Schema):
    reason: str | None = Field(default=None, max_length=500)
    ends_at: datetime | None = Field(default=None, description="A fixed-term suspension drops off the public "
                                     "list when it ends; reinstatement is a fresh verification")


class EnforcementOut(OutSchema):
    id: str
    merchant_id: str
    shop_name: str
    action: str
    target_type: str
    target_id: str
    target_title: str
    reason: str
    decided_at: UtcDatetime
    published_at: UtcDatetime
    ends_at: UtcDatetime | None


class EnforcementPage(OutSchema):
    items: list[EnforcementOut]
    next_cursor: str | None = None


class AuditOut(OutSchema):
    id: int
    actor: str
    action: str
    target_type: str
    target_id: str | None
    merchant_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    created_at: UtcDatetime


class AuditPage(OutSchema):
    items: list[AuditOut]
    next_cursor: str | None = None


class TradingModelOut(OutSchema):
    code: str
    name_zh: str
    name_en: str


class PlatformInfo(OutSchema):
    icp_no: str
    licence_url: str
    rules_url: str
    credit_rules_url: str
    trading_models: list[TradingModelOut]


class SellerProfileIn(Schema):
    trading_model: Literal["b2c_mall", "b2c_single_store", "b2b_marketplace", "b2b_own", "c2c"]
    self_declaration: Literal["sporadic_small", "own_farm_produce", "family_handicraft",
                              "convenience_services"] | None = Field(
        default=None, description="Unregistered individuals: which ground of ECL art. 10 they trade under")
    shop_description: str | None = Field(default=None, max_length=2000, description="The shop's own words on its "
                                         "page; no clause may take away consumer rights")


class SellerProfileOut(OutSchema):
    merchant_id: str
    trading_model: str | None
    self_declaration: str | None
    shop_description: str | None = None


class BusinessLicence(OutSchema):
    uscc: str
    name: str


class MerchantProfileOut(OutSchema):
    """The public shop page data (C4, C5, C6, C18)."""

    id: str
    name: str
    kind: str
    status: str
    icp_no: str | None
    verified_at: UtcDatetime | None
    created_at: UtcDatetime
    registration_type: Literal["registered", "unregistered"]
    badge: str | None = Field(description="Shown on the shop for sellers who are not registered market entities")
    trading_model: str | None
    shop_description: str | None = Field(default=None, description="The shop's own words")
    business_licence: BusinessLicence | None = Field(description="Registered sellers: their licence data")
    self_declaration: str | None = Field(description="Unregistered individuals: the statutory declaration")
    rating: float | None = None
    rating_count: int = 0
    credit_score: int | None = None
    credit_formula: str
    completed_orders: int = 0
    late_shipments: int = Field(default=0, description="Orders shipped after the promised dispatch time, or not "
                                "shipped by it (C28); they lower the credit score's fulfilment speed")
    reverification_due_at: UtcDatetime | None = None
    self_operated: bool = Field(default=False, description="The platform's own shop (自营)")
    closes_at: UtcDatetime | None = Field(default=None, description="Announced closure (at least 30 days ahead)")
    closure_note: str | None = None
    platform: PlatformInfo


class LicenceChangeIn(Schema):
    """New licence and registration data; send only the fields that change (`icp_no: null` removes it)."""

    name: str | None = Field(default=None, min_length=1, max_length=200, description="Name on the licence")
    kind: Literal["enterprise", "individual"] | None = None
    licence_no: str | None = Field(default=None, min_length=1, max_length=64,
                                   description="Business licence (USCC) or ID number")
    icp_no: str | None = Field(default=None, max_length=64)
    note: str | None = Field(default=None, max_length=500, description="What changed and why, for the reviewer")
    id_number_consent: bool = Field(default=False, description="Required when the new licence number is a "
                                    "resident ID number: the separate consent to the platform keeping it (PIPL 29)")


class LicenceDecisionIn(Schema):
    reason: str = Field(min_length=1, max_length=500)


class LicenceApprovalIn(Schema):
    reason: str | None = Field(default=None, max_length=500)


class LicenceChangeOut(OutSchema):
    id: str
    merchant_id: str
    status: Literal["pending", "approved", "rejected"]
    changes: dict[str, str | None] = Field(description="The new values, by field")
    previous: dict[str, str | None] = Field(description="The values on record when it was submitted")
    note: str | None
    submitted_at: UtcDatetime
    sla_due_at: UtcDatetime = Field(description="The platform verifies it by then: 7 working days (Mon–Fri, "
                                    "Asia/Shanghai) after the day it was submitted")
    sla_breached: bool = Field(description="Still pending after `sla_due_at`, or decided after it")
    decided_at: UtcDatetime | None
    decided_by: str | None
    decision_reason: str | None


class LicenceChangePage(OutSchema):
    items: list[LicenceChangeOut]
    next_cursor: str | None = None


# ---- platform rules (C7) ---------------------------------------------------------------------------------

RuleCategory = Literal["basic", "liability", "ip", "credit", "consumer_protection", "disclosure", "illegal_info",
                       "disputes"]


class RuleVersionIn(Schema):
    version: str = Field(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9._-]+$", description="e.g. 2027.1")
    category: RuleCategory = "basic"
    title: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=200_000, description="The full text of the rules")
    summary: str = Field(min_length=1, max_length=1000, description="What changes, for merchants deciding")
    effective_at: datetime = Field(description="At least 7 days after publication (now)")
    comment_closes_at: datetime | None = Field(default=None, description="At least 7 days from now, no later "
                                               "than effective_at; default the day before it takes effect")


class RuleVersionOut(OutSchema):
    id: str
    version: str
    category: str
    title: str
    summary: str
    published_at: UtcDatetime
    comment_closes_at: UtcDatetime
    effective_at: UtcDatetime
    stage: Literal["comment", "upcoming", "effective"]
    body: str | None = None


class RuleCommentIn(Schema):
    text: str = Field(min_length=1, max_length=5000)


class RuleCommentOut(OutSchema):
    id: str
    text: str
    created_at: UtcDatetime


class RuleVersionDetail(RuleVersionOut):
    comments: list[RuleCommentOut]


class RuleVersionList(OutSchema):
    items: list[RuleVersionOut]


class RuleDecisionIn(Schema):
    decision: Literal["accept", "refuse"] = Field(description="refuse: keep the old terms and leave before the "
                                                  "version takes effect")


class RuleDecisionOut(OutSchema):
    version: str
    merchant_id: str
    decision: str
    decided_at: UtcDatetime
    leave_by: UtcDatetime | None


class RuleDecisionList(OutSchema):
    items: list[RuleDecisionOut]


class ClosureOut(OutSchema):
    merchant_id: str
    status: str
    announced_at: UtcDatetime | None
    closes_at: UtcDatetime | None
    note: str | None


class HeldBuyerOut(OutSchema):
    name: str | None
    phone: str | None
    email: str | None
    address: dict[str, Any] | None


class StatisticsGroupOut(OutSchema):
    period: str = Field(description="Shanghai calendar day (2026-11-03) or month (2026-11)")
    category: str = Field(description="The category the lines were sold under")
    region: str = Field(description="Province of the delivery address (上海市); 未知: picked up, or the address is "
                        "on legal hold")
    currency: str
    orders: int = Field(description="Orders with a line in this group")
    units: int
    turnover: int = Field(description="fen: the lines' totals after their share of the order discount; no shipping")
    average_price: int | None = Field(description="fen: turnover per unit, halves rounded up")
    min_price: int | None = Field(description="fen: the lowest unit price sold at")
    max_price: int | None = Field(description="fen: the highest unit price sold at")


class StatisticsTotalsOut(OutSchema):
    orders: int = Field(description="Orders of the range (each once, whatever its categories)")
    units: int
    turnover: int


class StatisticsOut(OutSchema):
    from_: date = Field(serialization_alias="from")
    to: date
    period: Literal["day", "month"]
    items: list[StatisticsGroupOut]
    totals: StatisticsTotalsOut


class LegalHoldOut(OutSchema):
    order_id: str
    customer_id: str
    data: HeldBuyerOut
    held_at: UtcDatetime
    order_finished_at: UtcDatetime | None = Field(description="Completed or cancelled; the hold runs from then")
    hold_ends_at: UtcDatetime | None = Field(description="When the purge job deletes it (None: order still open)")


# ---- IP notice and takedown (C37) ------------------------------------------------------------------------

RightType = Literal["trademark", "copyright", "patent", "other"]


class RightsHolderIn(Schema):
    name: str = Field(min_length=1, max_length=200, description="The rights holder (or its agent)")
    email: Email
    phone: Phone | None = None


class IPNoticeIn(Schema):
    """A rights holder's notice (ECL art. 42): which listing infringes which right, with prima facie evidence."""

    product_id: str = Field(min_length=1, max_length=40)
    rights_holder: RightsHolderIn
    right_type: RightType
    right_reference: str = Field(min_length=1, max_length=100, description="Registration or certificate number "
                                 "of the right (注册号 / 登记号 / 专利号)")
    notice: str = Field(min_length=1, max_length=5000, description="What infringes and why")
    evidence: list[HttpUrl] = Field(min_length=1, max_length=20,
                                    description="Where the evidence is: the certificate, the comparison, ...")


class CounterNoticeIn(Schema):
    """The seller's statement that it does not infringe (ECL art. 43), with prima facie evidence."""

    statement: str = Field(min_length=1, max_length=5000)
    evidence: list[HttpUrl] = Field(min_length=1, max_length=20)


class IPActionIn(Schema):
    """The rights holder reports that it has complained to an authority or sued (ECL art. 45): the listing stays
    down. Sent with the case key given with the notice (the platform admin may record it without)."""

    case_key: str | None = Field(default=None, min_length=1, max_length=100)
    kind: Literal["complaint", "lawsuit"]
    reference: str = Field(min_length=1, max_length=200, description="Case or filing number, authority or court")
    evidence: list[HttpUrl] = Field(min_length=1, max_length=20)


class RightsHolderContact(OutSchema):
    email: str
    phone: str | None


class IPCaseOut(OutSchema):
    """An IP case as published (ECL art. 44); the rights holder's contact only to the seller and the admin."""

    id: str
    status: Literal["taken_down", "countered", "restored", "upheld"]
    product_id: str
    product_title: str
    merchant_id: str
    shop_name: str
    right_type: str
    right_reference: str
    rights_holder: str
    notice: str
    evidence: list[str]
    counter_notice: str | None
    counter_evidence: list[str]
    counter_forwarded_at: UtcDatetime | None
    restore_due_at: UtcDatetime | None = Field(description="The listing returns then unless a complaint or suit "
                                               "is reported first")
    action_kind: str | None
    action_reference: str | None
    action_reported_at: UtcDatetime | None
    outcome: str | None
    created_at: UtcDatetime
    closed_at: UtcDatetime | None
    rights_holder_contact: RightsHolderContact | None = None


class IPNoticeCreated(IPCaseOut):
    case_key: str = Field(description="Shown once: send it to report a complaint or suit on this case")


class IPCasePage(OutSchema):
    items: list[IPCaseOut]
    next_cursor: str | None = None


# ---- records (C23) ---------------------------------------------------------------------------------------

class ChainBreak(OutSchema):
    seq: int = Field(description="The link's position in the chain")
    record_type: Literal["order", "payment"]
    record_id: str = Field(description="The order's id (a payment is sealed under its order's id)")
    reason: Literal["record_changed", "record_missing", "link_altered", "chain_cut"]


class ChainCheck(OutSchema):
    ok: bool
    checked: int = Field(description="Links found intact before the first break (all of them when ok)")
    head: str | None = Field(description="The last link's hash when the chain is intact")
    first_break: ChainBreak | None
