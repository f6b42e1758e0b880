"""Who may end a formed contract (C15): the rules, with no database.

Once an order is paid the merchant cannot cancel it on its own. It may only cancel under a published code, and
then either the buyer accepts (a proposal the buyer answers) or the merchant refunds at once and the cancellation
counts against its credit (`app/trust/credit.py`)."""

from __future__ import annotations

from typing import Literal

from app.core.errors import Conflict, InvalidInput

# Published in the order terms (`app/orders/terms.py`); a new code is a new terms version.
SELLER_CANCEL_CODES: dict[str, tuple[str, str]] = {
    "out_of_stock": ("商品缺货，无法在承诺时间内发货", "Out of stock: cannot ship within the promised time"),
    "undeliverable_address": ("收货地址不在配送范围内", "The address is outside the delivery area"),
    "price_error": ("商品标价明显错误", "An obvious pricing error"),
    "buyer_request": ("买家联系商家要求取消", "The buyer asked the merchant to cancel"),
    "force_majeure": ("不可抗力（自然灾害、疫情管控等）", "Force majeure (natural disaster, lockdown ...)"),
}

Decision = Literal["free", "propose", "cancel_and_count"]


def merchant_cancel(*, paid: bool, code: str | None, refund_now: bool) -> Decision:
    """What a merchant's cancel request does: before payment it is free; after payment it needs a published code
    and then cancels at once (refunded, counted against credit) or proposes the cancellation to the buyer."""
    if not paid:
        return "free"
    if code is None:
        raise Conflict("a paid order cannot be cancelled by the merchant alone: give a published `code` and "
                       "either let the buyer accept or set `refund_now`",
                       extra={"codes": sorted(SELLER_CANCEL_CODES)})
    if code not in SELLER_CANCEL_CODES:
        raise InvalidInput("unknown cancellation code", errors=[
            {"field": "code", "message": "one of " + ", ".join(sorted(SELLER_CANCEL_CODES))}])
    return "cancel_and_count" if refund_now else "propose"
