"""What the console's order page shows: delivery, payment and refunds, shipments, returns, and a timeline of
every state change with who made it (the order's own time stamps, the audit log's console actions with the
person's name, the returns' history and the refunds)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.auth import Principal
from app.logistics import carriers
from app.logistics import service as logistics_service
from app.merchants.models import Location
from app.orders import contract
from app.orders import views as orders_views
from app.orders.invoices import service as invoices_service
from app.orders.models import Order, Refund
from app.orders.returns import service as returns_service
from app.trust.models import AuditEntry
from app.web import i18n

# Console actions that made an order change state, by the state stamp they explain.
_STAMP_ACTIONS = {"shipped_at": "console.ship", "delivered_at": "console.deliver", "completed_at": "console.complete",
                  "cancelled_at": "console.cancel"}


def _utc(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def refund_lines(form: dict[str, str]) -> list[tuple[str, int]]:
    """`qty_<variant_id>` fields of the refund form with a quantity above zero; a bad number is a 422."""
    from app.core.errors import field_error
    lines = []
    for key, value in form.items():
        if key.startswith("qty_") and value:
            if not value.isdigit() or int(value) > 1_000_000:
                raise field_error(key, "a whole number of units")
            if int(value) > 0:
                lines.append((key[4:][:40], int(value)))
    return lines


def place(address: dict[str, Any]) -> str:
    """Province, city, district and street as one line, a municipality's name once (上海 is both)."""
    parts: list[str] = []
    for key in ("province", "city", "district", "line1"):
        value = str(address.get(key) or "").strip()
        if value and (not parts or parts[-1].rstrip("市省") != value.rstrip("市省")):
            parts.append(value)
    text = "".join(parts)
    if address.get("line2"):
        text += f" {address['line2']}"
    return text


def _who(entry: AuditEntry, lang: i18n.Lang) -> str:
    after = entry.after or {}
    name = str(after.get("name") or entry.actor)
    role = after.get("role")
    return f"{name}（{i18n.translate(lang, f'role_{role}')}）" if role else name


async def timeline(session: AsyncSession, order: Order, returns: list[dict[str, Any]],
                   lang: i18n.Lang) -> list[dict[str, Any]]:
    """Every state change of the order, oldest first: when, what, who."""
    entries = (await session.scalars(select(AuditEntry).where(
        AuditEntry.merchant_id == order.merchant_id, AuditEntry.target_type == "order",
        AuditEntry.target_id == order.id).order_by(AuditEntry.id))).all()
    refunds = (await session.scalars(select(Refund).where(Refund.order_id == order.id)
                                     .order_by(Refund.created_at, Refund.id))).all()
    t = i18n.translate
    used: set[int] = set()
    out: list[dict[str, Any]] = []
    buyer = (order.fulfilment.get("address") or {}).get("name") or order.email or t(lang, "guest")
    out.append({"at": _utc(order.created_at), "what": t(lang, "tl_created"),
                "who": t(lang, "ch_pos") if order.channel == "pos" else buyer})
    if order.paid_at:
        who = t(lang, "tl_cod_cash") if order.payment_method == "cod" else t(lang, f"pay_{order.payment_method}")
        out.append({"at": _utc(order.paid_at), "what": t(lang, "tl_paid"), "who": who})
    for stamp, action in _STAMP_ACTIONS.items():
        at = getattr(order, stamp)
        if at is None:
            continue
        if stamp == "completed_at" and order.fulfilment.get("type") == "pickup":
            action = "console.collect"
        entry = next((e for e in entries if e.action == action and e.id not in used), None)
        if entry is not None:
            used.add(entry.id)
        what = t(lang, f"tl_{stamp[:-3]}")
        if stamp == "cancelled_at" and order.cancel_reason:
            what += f"：{order.cancel_reason}"
        if stamp == "completed_at" and order.fulfilment.get("type") == "pickup":
            what = t(lang, "tl_collected")
        out.append({"at": _utc(at), "what": what,
                    "who": _who(entry, lang) if entry else t(lang, "tl_by_system" if stamp in (
                        "completed_at", "cancelled_at") else "tl_by_api")})
    for e in entries:
        if e.id in used:
            continue
        name = e.action.removeprefix("console.")
        out.append({"at": _utc(e.created_at), "what": t(lang, f"act_{name}"), "who": _who(e, lang)})
    for r in returns:
        for h in r["history"]:
            out.append({"at": _utc(datetime.fromisoformat(h["at"])) if h["at"] else None,
                        "what": f"{t(lang, 'return')} · {t(lang, 'ret_' + h['status'])}",
                        "who": t(lang, f"actor_{h['actor']}")})
    for rf in refunds:
        out.append({"at": _utc(rf.created_at),
                    "what": f"{t(lang, 'refund')} {i18n.money(rf.amount, order.currency)} · {t(lang, rf.status)}",
                    "who": t(lang, f"refund_reason_{rf.reason}")})
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    out.sort(key=lambda x: x["at"] or epoch)
    return out


async def context(session: AsyncSession, order: Order, lang: i18n.Lang) -> dict[str, Any]:
    view = await orders_views.view(session, order=order)
    returns = await returns_service.list_returns(session, principal=Principal(kind="merchant",
                                                                             merchant_id=order.merchant_id),
                                                 order_id=order.id)
    refunds = (await session.scalars(select(Refund).where(Refund.order_id == order.id)
                                     .order_by(Refund.created_at, Refund.id))).all()
    store = await session.get(Location, order.pickup_location_id) if order.pickup_location_id else None
    address = order.fulfilment.get("address") or {}
    refundable = [ln for ln in view["lines"] if ln["quantity"] > ln["returned_quantity"]]
    invoicing = await invoices_service.invoices_of(session, order=order)
    return {"invoice_request": invoicing["request"], "invoices": invoicing["items"],
            "invoice_issuable": invoicing["request"] is not None and order.payment_status in (
                "paid", "partially_refunded") and not any(i["color"] == "blue" for i in invoicing["items"]),
            "order": view, "address": address, "place": place(address), "note": order.fulfilment.get("note"),
            "store": store, "cancel_codes": contract.SELLER_CANCEL_CODES, "carriers": carriers.CARRIERS,
            "journey": await logistics_service.journey(session, order_id=order.id),
            "returns": returns, "refunds": refunds, "timeline": await timeline(session, order, returns, lang),
            "refundable": refundable if order.status in ("shipped", "delivered", "completed") and
            order.payment_status in ("paid", "partially_refunded") else [],
            "paid": order.total - order.refunded, "errors": []}
