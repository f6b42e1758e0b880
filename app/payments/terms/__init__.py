"""Credit terms for wholesale buyers: the order is confirmed at once and paid by its due date (`mark-paid`)."""

from app.payments.base import Provider
from app.payments.offline import always

PROVIDER = Provider(name="terms", prepaid=False, channels=frozenset({"wholesale"}),
                    label=("账期支付", "Payment on terms"), gateway=always("terms"))
