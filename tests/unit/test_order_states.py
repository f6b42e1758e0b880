"""Every (status, event) pair: the allowed ones move as API.md says, every other one is refused."""

import itertools

import pytest

from app.orders.states import EVENTS, STATUSES, InvalidTransition, initial_status, next_status
from app.payments import registry

ALLOWED = {
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


@pytest.mark.parametrize(("status", "event"), list(itertools.product(STATUSES, EVENTS)))
def test_transition_table(status: str, event: str) -> None:
    if (status, event) in ALLOWED:
        assert next_status(status, event) == ALLOWED[(status, event)]
    else:
        with pytest.raises(InvalidTransition) as err:
            next_status(status, event)
        assert err.value.status == 409 and status in err.value.detail


def test_no_cancel_after_shipping() -> None:
    for status in ("shipped", "delivered", "completed", "cancelled"):
        with pytest.raises(InvalidTransition):
            next_status(status, "cancel")


def test_initial_status_by_payment_method() -> None:
    assert initial_status(prepaid=registry.prepaid("stripe")) == "pending_payment"
    assert initial_status(prepaid=registry.prepaid("cod")) == "confirmed"
    assert initial_status(prepaid=registry.prepaid("terms")) == "confirmed"
