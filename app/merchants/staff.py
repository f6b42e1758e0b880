"""A merchant's staff: invitations, password and TOTP sign-in, console sessions, and what each role may do.

`PERMISSIONS` is the one table of console actions by role; `may(role, action)` is the one check, made by the
console for every page and form (app/web/console.py: `staff_of`). A clerk is bound to one store: the console
narrows what a clerk sees to that store (its pick-ups, its stock), and `at_store` says whether a person may act
at a location.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pyotp
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.clock import utcnow
from app.core.errors import Conflict, InvalidInput, NotFound, field_error
from app.core.ids import new_id, new_token
from app.core.security import hash_password_off_loop, hash_token, verify_password_off_loop
from app.merchants.models import Location, StaffMember, StaffSession

ROLES = ("owner", "manager", "clerk", "warehouse", "finance")
SESSION_HOURS = 12
_ALL = frozenset(ROLES)

# Console action -> the roles that may do it. Every console route names its action; nothing else decides.
PERMISSIONS: dict[str, frozenset[str]] = {
    "dashboard.view": _ALL,
    "orders.view": _ALL,  # a clerk: the pick-ups of their store only
    "orders.ship": frozenset({"owner", "manager", "warehouse"}),  # ship, deliver, complete, bulk, packing slips
    "orders.cancel": frozenset({"owner", "manager"}),
    "orders.refund": frozenset({"owner", "manager", "finance"}),  # partial refunds, returns
    "orders.collect": frozenset({"owner", "manager", "clerk"}),  # a clerk: at their store only
    "products.view": frozenset({"owner", "manager", "warehouse", "clerk"}),
    "products.edit": frozenset({"owner", "manager"}),
    "stock.view": frozenset({"owner", "manager", "warehouse", "clerk"}),  # a clerk: their store only
    "stock.edit": frozenset({"owner", "manager", "warehouse", "clerk"}),  # a clerk: counts their store only
    "devices.manage": frozenset({"owner", "manager"}),
    "conflicts.manage": frozenset({"owner", "manager", "warehouse"}),
    "customers.view": frozenset({"owner", "manager", "finance"}),
    "wholesale.manage": frozenset({"owner", "manager", "finance"}),
    "marketing.manage": frozenset({"owner", "manager"}),  # promotions, group-buys, pickup points, campaigns
    "reports.view": frozenset({"owner", "manager", "finance"}),
    "payments.manage": frozenset({"owner", "finance"}),  # the shop's Alipay / WeChat Pay accounts
    "staff.manage": frozenset({"owner"}),
    "rules.answer": frozenset({"owner"}),  # accept a platform rules change, or refuse it and leave (C7)
    "webhooks.manage": frozenset({"owner", "manager"}),  # the shop's webhook deliveries and dead letters
}


def may(role: str, action: str) -> bool:
    """Whether `role` may do console `action` (an unknown action is refused to everyone)."""
    return role in PERMISSIONS.get(action, frozenset())


@dataclass(frozen=True, slots=True)
class StaffCtx:
    """The person behind a console request. `staff_id` is None for the owner signed in with the API key."""

    merchant_id: str
    name: str
    role: str
    staff_id: str | None = None
    location_id: str | None = None

    @property
    def actor(self) -> str:
        """The audit log's `actor`: the person, not the shop."""
        return f"staff:{self.staff_id}" if self.staff_id else f"merchant:{self.merchant_id}"

    @property
    def store_bound(self) -> bool:
        return self.role == "clerk"

    def at_store(self, location_id: str | None) -> bool:
        """Whether this person may act at `location_id` (a clerk only at their own store)."""
        return not self.store_bound or (location_id is not None and location_id == self.location_id)


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9 ()-]{6,30}$")


def normal_login(value: str) -> str | None:
    """An e-mail (lower case) or a phone number (digits and a leading +); None when it is neither."""
    value = value.strip()
    if _EMAIL.match(value) and len(value) <= 254:
        return value.lower()
    if _PHONE.match(value):
        digits = re.sub(r"[^0-9]", "", value)
        return ("+" if value.startswith("+") else "") + digits
    return None


async def invite(session: AsyncSession, *, merchant_id: str, name: str, login: str, role: str,
                 location_id: str | None, invited_by: str) -> tuple[StaffMember, str]:
    """A new staff member and the invitation token (in clear text, once). Never commits."""
    errors = []
    name = name.strip()
    if not 1 <= len(name) <= 100:
        errors.append({"field": "name", "message": "1 to 100 characters"})
    normal = normal_login(login)
    if normal is None:
        errors.append({"field": "login", "message": "an e-mail address or a phone number"})
    if role not in ROLES:
        errors.append({"field": "role", "message": f"one of {', '.join(ROLES)}"})
    if role == "clerk":
        loc = await session.get(Location, location_id) if location_id else None
        if loc is None or loc.merchant_id != merchant_id or loc.kind not in ("store", "pickup_point"):
            errors.append({"field": "location_id", "message": "a clerk works at one of your stores"})
    else:
        location_id = None
    if errors:
        raise InvalidInput("the invitation is not complete", errors=errors)
    assert normal is not None
    taken = await session.scalar(select(StaffMember.id).where(StaffMember.merchant_id == merchant_id,
                                                              StaffMember.login == normal))
    if taken is not None:
        raise Conflict("this e-mail or phone already has an account in your shop",
                       extra={"errors": [{"field": "login", "message": "already invited"}]})
    token = new_token("inv")
    member = StaffMember(id=new_id("stf"), merchant_id=merchant_id, name=name, login=normal, role=role,
                         location_id=location_id, invite_hash=hash_token(token), invited_by=invited_by,
                         created_at=utcnow())
    session.add(member)
    await session.flush()
    return member, token


async def by_invite(session: AsyncSession, token: str) -> StaffMember:
    member = await session.scalar(select(StaffMember).where(StaffMember.invite_hash == hash_token(token[:100]),
                                                            StaffMember.removed_at.is_(None)))
    if member is None:
        raise NotFound("invitation", "-")
    return member


async def accept(session: AsyncSession, *, token: str, password: str,
                 with_totp: bool) -> tuple[StaffMember, str | None]:
    """Set the password of an invited member (the invitation is then used up); a TOTP secret when asked for.
    Never commits."""
    member = await by_invite(session, token)
    if not 10 <= len(password) <= 200:
        raise field_error("password", "10 to 200 characters")
    member.password_hash = await hash_password_off_loop(password)
    member.totp_secret = pyotp.random_base32() if with_totp else None
    member.invite_hash = None
    member.activated_at = utcnow()
    return member, member.totp_secret


def totp_uri(member: StaffMember, shop_name: str) -> str | None:
    if not member.totp_secret:
        return None
    return pyotp.TOTP(member.totp_secret).provisioning_uri(name=member.login, issuer_name=shop_name)


async def authenticate(session: AsyncSession, *, merchant_id: str | None, login: str, password: str,
                       code: str) -> StaffMember | None:
    """The active member with this login and password (and TOTP code when they set one up); None otherwise.
    Without a shop given, the login must name exactly one active member across shops."""
    normal = normal_login(login)
    if normal is None:
        return None
    stmt = select(StaffMember).where(StaffMember.login == normal, StaffMember.removed_at.is_(None),
                                     StaffMember.password_hash.is_not(None))
    if merchant_id:
        stmt = stmt.where(StaffMember.merchant_id == merchant_id)
    found = (await session.scalars(stmt.limit(2))).all()
    if len(found) != 1:
        return None
    member = found[0]
    if not await verify_password_off_loop(member.password_hash or "", password):
        return None
    if member.totp_secret and not pyotp.TOTP(member.totp_secret).verify(code.strip(), valid_window=1):
        return None
    return member


async def open_session(session: AsyncSession, member: StaffMember) -> str:
    """A new console session for `member`: the random token in clear text (only its hash is kept). Never commits."""
    token = new_token("ses")
    now = utcnow()
    session.add(StaffSession(id=new_id("sss"), token_hash=hash_token(token), staff_id=member.id,
                             merchant_id=member.merchant_id, created_at=now,
                             expires_at=now + timedelta(hours=SESSION_HOURS)))
    await session.flush()
    return token


_SESSION = (select(StaffMember)
            .join(StaffSession, StaffSession.staff_id == StaffMember.id))


async def session_member(session: AsyncSession, token: str) -> StaffMember | None:
    """The member of a live session: not ended, not expired, and the member not removed (checked on every
    request, so removing someone ends their sessions at once)."""
    if not token or len(token) > 100:
        return None
    return (await session.scalars(_SESSION.where(
        StaffSession.token_hash == hash_token(token), StaffSession.ended_at.is_(None),
        StaffSession.expires_at > utcnow(), StaffMember.removed_at.is_(None)))).first()


async def end_session(session: AsyncSession, token: str) -> None:
    await session.execute(update(StaffSession).where(StaffSession.token_hash == hash_token(token[:100]))
                          .values(ended_at=utcnow()))


async def list_staff(session: AsyncSession, *, merchant_id: str) -> list[StaffMember]:
    return list((await session.scalars(select(StaffMember).where(StaffMember.merchant_id == merchant_id)
                                       .order_by(StaffMember.created_at, StaffMember.id))).all())


async def remove(session: AsyncSession, *, merchant_id: str, staff_id: str) -> StaffMember:
    """Remove a member: their sessions end now (and are stamped so). Never commits."""
    member = await session.get(StaffMember, staff_id, with_for_update=True)
    if member is None or member.merchant_id != merchant_id:
        raise NotFound("staff", staff_id)
    now = utcnow()
    member.removed_at = member.removed_at or now
    member.invite_hash = None
    await session.execute(update(StaffSession).where(StaffSession.staff_id == member.id,
                                                     StaffSession.ended_at.is_(None)).values(ended_at=now))
    return member
