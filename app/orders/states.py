"""The order state machine as a pure function.

    prepaid (stripe, terms):  pending_payment --pay--> paid --ship--> shipped --deliver--> delivered
                              --complete--> completed
    cash on delivery:         confirmed --ship--> shipped --deliver--> delivered (cash taken: paid)
                              --complete--> completed
    store pick-up:            paid | confirmed --collect--> completed
    cancellation:             pending_payment | paid | confirmed --cancel--> cancelled
                              pending_payment --expire--> cancelled (the hold ran out)
    terms (wholesale, credit): confirmed like cash on delivery; paid later with mark-paid.

Anything else is an `InvalidTransition`. Cancelling after shipping is not allowed: that is a return.
"""

from __future__ import annotations

from app.core.errors import Conflict

STATUSES = ("pending_payment", "paid", "confirmed", "shipped", "delivered", "completed", "cancelled")
EVENTS = ("pay", "ship", "deliver", "complete", "collect", "cancel", "expire")

TRANSITIONS: dict[tuple[str, str], str] = {
    ("pending_payment", "pay"): "paid",
    ("pending_payment", "cancel"): "cancelled",
    ("pending_payment", "expire"): "cancelled",
    ("paid", "ship"): "shipped",
    ("paid", "cancel"): "cancelled",
    ("paid", "collect"): "completed",
    ("confirmed", "ship"): "shipped",
    ("confirmed", "cancel"): "cancelled",
    ("confirmed", "collect"): "completed",
    ("shipped", "deliver"): "delivered",
    ("delivered", "complete"): "completed",
}


class InvalidTransition(Conflict):
    type_slug = "invalid-transition"
    title = "Not allowed in the order's current state"

    def __init__(self, status: str, event: str) -> None:
        super().__init__(f"cannot {event} an order that is {status}", extra={"order_status": status, "event": event})


def next_status(status: str, event: str) -> str:
    """The status after `event`, or InvalidTransition."""
    try:
        return TRANSITIONS[(status, event)]
    except KeyError:
        raise InvalidTransition(status, event) from None


def initial_status(*, prepaid: bool) -> str:
    """Prepaid orders wait for payment; cash on delivery and credit terms are confirmed at once."""
    return "pending_payment" if prepaid else "confirmed"


def can_cancel(status: str) -> bool:
    return (status, "cancel") in TRANSITIONS
