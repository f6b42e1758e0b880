"""Cash on delivery, or at pick-up: the order is confirmed at once and paid when the goods change hands."""

from app.payments.base import Provider
from app.payments.offline import always

PROVIDER = Provider(name="cod", prepaid=False, channels=frozenset({"retail", "community"}),
                    label=("货到付款 / 到店付款", "Cash on delivery / at pick-up"), gateway=always("cod"))
