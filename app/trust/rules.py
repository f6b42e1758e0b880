"""The platform's trading rules (C7): versions published for comment at least 7 days before they take effect,
every version kept readable, and each merchant's acceptance or refusal (ECL arts. 33-34, TRR arts. 6-9)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import events
from app.core.auth import Principal
from app.core.clock import as_utc, utcnow
from app.core.errors import Conflict, InvalidInput, NotFound
from app.core.ids import new_id
from app.trust.audit_log import record_audit
from app.trust.models import RuleComment, RuleDecision, RuleVersion

MIN_NOTICE = timedelta(days=7)  # ECL art. 34, TRR art. 7: public comment and publication ≥ 7 days before effect
# TRR art. 6: the kinds of rules a platform publishes.
CATEGORIES = ("basic", "liability", "ip", "credit", "consumer_protection", "disclosure", "illegal_info",
              "disputes")
# The return rules (C35, R7 art. 21) are the consumer-protection rules: a seller accepts the version in force
# before it puts listings on sale.
RETURN_RULES = "consumer_protection"


def publication_errors(*, published_at: datetime, comment_closes_at: datetime,
                       effective_at: datetime) -> list[dict[str, Any]]:
    """Field errors of a new version's dates: comments open for at least 7 days, closing before it takes effect,
    and the version published at least 7 days before it takes effect."""
    errors: list[dict[str, Any]] = []
    if effective_at < published_at + MIN_NOTICE:
        errors.append({"field": "effective_at", "message": "must be at least 7 days after publication "
                                                            f"(not before {(published_at + MIN_NOTICE).isoformat()})"})
    if comment_closes_at < published_at + MIN_NOTICE:
        errors.append({"field": "comment_closes_at", "message": "the comment period must last at least 7 days"})
    elif comment_closes_at > effective_at:
        errors.append({"field": "comment_closes_at", "message": "comments must close before the version takes "
                                                                 "effect"})
    return errors


def stage(version: RuleVersion, now: datetime) -> str:
    """`comment` while comments are open, `upcoming` until it takes effect, then `effective`."""
    if now < as_utc(version.comment_closes_at):
        return "comment"
    return "upcoming" if now < as_utc(version.effective_at) else "effective"


def view(version: RuleVersion, now: datetime, *, body: bool = True) -> dict[str, Any]:
    out = {"id": version.id, "version": version.version, "category": version.category, "title": version.title,
           "summary": version.summary, "published_at": version.published_at,
           "comment_closes_at": version.comment_closes_at, "effective_at": version.effective_at,
           "stage": stage(version, now)}
    if body:
        out["body"] = version.body
    return out


async def publish(*, session: AsyncSession, actor: str, version: str, category: str, title: str, body: str,
                  summary: str, effective_at: datetime, comment_closes_at: datetime | None) -> dict[str, Any]:
    """Publish a new version for comment; refused when it would take effect less than 7 days from now."""
    now = utcnow()
    effective_at = as_utc(effective_at)
    # Comments close the day before it takes effect unless told otherwise (never before 7 days are up).
    default_close = effective_at - timedelta(days=1) if effective_at > now + MIN_NOTICE else now + MIN_NOTICE
    closes = as_utc(comment_closes_at) if comment_closes_at else max(now + MIN_NOTICE, default_close)
    errors = publication_errors(published_at=now, comment_closes_at=closes, effective_at=effective_at)
    if errors:
        raise InvalidInput("; ".join(e["message"] for e in errors), errors=errors)
    row = RuleVersion(id=new_id("rul"), version=version, category=category, title=title, body=body, summary=summary,
                      published_by=actor, published_at=now, comment_closes_at=closes, effective_at=effective_at)
    session.add(row)
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        raise Conflict(f"rules version {version} exists; versions are never changed, publish a new one") from None
    await record_audit(session, actor=actor, action="rules.publish", target_type="rule_version", target_id=row.id,
                       merchant_id=None, before=None,
                       after={"version": version, "effective_at": effective_at.isoformat()})
    await events.emit(session, kind="rules.published", merchant_id=None,
                      payload={"id": row.id, "version": version, "effective_at": effective_at.isoformat()})
    await session.commit()
    return view(row, now)


async def list_versions(*, session: AsyncSession) -> list[dict[str, Any]]:
    """Every version ever published, newest effective date first (the archive)."""
    now = utcnow()
    rows = (await session.scalars(select(RuleVersion).order_by(RuleVersion.effective_at.desc(),
                                                                RuleVersion.id.desc()))).all()
    return [view(r, now, body=False) for r in rows]


async def _get(session: AsyncSession, version: str) -> RuleVersion:
    row = await session.scalar(select(RuleVersion).where(RuleVersion.version == version))
    if row is None:
        raise NotFound("rules version", version)
    return row


async def get_version(*, session: AsyncSession, version: str) -> dict[str, Any]:
    """One version with its text and the public comments on it."""
    row = await _get(session, version)
    comments = (await session.scalars(select(RuleComment).where(RuleComment.rule_version_id == row.id)
                                      .order_by(RuleComment.created_at, RuleComment.id))).all()
    return {**view(row, utcnow()), "comments": [{"id": c.id, "text": c.text, "created_at": c.created_at}
                                                 for c in comments]}


async def current(*, session: AsyncSession) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The version in effect now (or None), and those published but not yet in effect."""
    now = utcnow()
    rows = (await session.scalars(select(RuleVersion).order_by(RuleVersion.effective_at.desc()))).all()
    effective = next((r for r in rows if as_utc(r.effective_at) <= now), None)
    coming = [view(r, now) for r in reversed(rows) if as_utc(r.effective_at) > now]
    return (view(effective, now) if effective else None), coming


async def _in_force(session: AsyncSession, category: str, now: datetime) -> RuleVersion | None:
    """The version of `category` in effect at `now`, or None (compared in Python: SQLite compares text)."""
    rows = (await session.scalars(select(RuleVersion).where(RuleVersion.category == category))).all()
    return max((r for r in rows if as_utc(r.effective_at) <= now), key=lambda r: (as_utc(r.effective_at), r.id),
               default=None)


async def return_rules_refusal(session: AsyncSession, merchant_id: str) -> str | None:
    """Why the merchant may not put listings on sale yet: it has not accepted the return rules in force (C35).
    None when it has, or when no return rules are in force."""
    current = await _in_force(session, RETURN_RULES, utcnow())
    if current is None:
        return None
    accepted = await session.scalar(select(RuleDecision.id).where(
        RuleDecision.rule_version_id == current.id, RuleDecision.merchant_id == merchant_id,
        RuleDecision.decision == "accept"))
    if accepted is not None:
        return None
    return (f"accept the return rules in force (version {current.version}, POST /v1/rules/versions/"
            f"{current.version}/decision) before putting listings on sale; until then save listings as drafts")


async def comment(*, session: AsyncSession, principal: Principal | None, version: str, text: str) -> dict[str, Any]:
    """A public comment while the comment period is open."""
    row = await _get(session, version)
    now = utcnow()
    if now >= as_utc(row.comment_closes_at):
        raise Conflict(f"comments on rules {version} closed at {as_utc(row.comment_closes_at).isoformat()}")
    c = RuleComment(id=new_id("rco"), rule_version_id=row.id, author=principal.scope if principal else "anonymous",
                    text=text, created_at=now)
    session.add(c)
    await session.commit()
    return {"id": c.id, "text": c.text, "created_at": c.created_at}


async def decide(*, session: AsyncSession, principal: Principal, version: str, accept: bool) -> dict[str, Any]:
    """A merchant accepts a version, or refuses it: it may then leave under the terms in force before it (ECL
    art. 34). Decided once, before the version takes effect; the version in force may still be accepted (a new
    seller's onboarding, C35)."""
    merchant_id = principal.tenant
    row = await _get(session, version)
    now = utcnow()
    if now >= as_utc(row.effective_at):
        # A seller joining later accepts the version in force (its onboarding); a refusal comes before the date.
        in_force = await _in_force(session, row.category, now)
        if not accept or in_force is None or in_force.id != row.id:
            raise Conflict(f"rules {version} took effect on {as_utc(row.effective_at).isoformat()}; decide before "
                           "then")
    decision = RuleDecision(id=new_id("rde"), rule_version_id=row.id, merchant_id=merchant_id,
                            decision="accept" if accept else "refuse", decided_by=principal.scope, decided_at=now)
    session.add(decision)
    try:
        await session.flush()
    except IntegrityError:
        await session.rollback()
        raise Conflict(f"you already answered rules {version}") from None
    await record_audit(session, actor=principal.scope, action=f"rules.{decision.decision}", target_type="rule_version",
                       target_id=row.id, merchant_id=merchant_id, before=None, after={"version": version})
    await events.emit(session, kind=f"rules.{'accepted' if accept else 'refused'}", merchant_id=merchant_id,
                      payload={"version": version})
    await session.commit()
    return decision_view(decision, row)


def decision_view(decision: RuleDecision, version: RuleVersion) -> dict[str, Any]:
    refused = decision.decision == "refuse"
    return {"version": version.version, "merchant_id": decision.merchant_id, "decision": decision.decision,
            "decided_at": decision.decided_at,
            # Refusing keeps the old terms until the seller has left: it must leave by the day the version applies.
            "leave_by": version.effective_at if refused else None}


async def decisions(*, session: AsyncSession, version: str) -> list[dict[str, Any]]:
    """Every merchant's answer to a version, for the platform."""
    row = await _get(session, version)
    rows = (await session.scalars(select(RuleDecision).where(RuleDecision.rule_version_id == row.id)
                                  .order_by(RuleDecision.decided_at, RuleDecision.id))).all()
    return [decision_view(d, row) for d in rows]


async def awaiting_answer(*, session: AsyncSession, merchant_id: str) -> list[dict[str, Any]]:
    """Published versions not yet in effect that the merchant has not answered, soonest first."""
    now = utcnow()
    answered = select(RuleDecision.rule_version_id).where(RuleDecision.merchant_id == merchant_id)
    rows = (await session.scalars(select(RuleVersion).where(RuleVersion.effective_at > now,
                                                            RuleVersion.id.not_in(answered))
                                  .order_by(RuleVersion.effective_at, RuleVersion.id))).all()
    return [view(r, now, body=False) for r in rows]
