"""Alipay (支付宝): settings `ALIPAY_APP_ID`, `ALIPAY_APP_PRIVATE_KEY`, `ALIPAY_PUBLIC_KEY`, `ALIPAY_GATEWAY`.
Each merchant is paid into its own Alipay account through its authorisation of the platform's app."""

from app.payments.alipay.notify import router
from app.payments.alipay.provider import build
from app.payments.base import Provider

PROVIDER = Provider(name="alipay", prepaid=True, channels=frozenset({"retail", "community"}),
                    label=("支付宝", "Alipay"), gateway=build, router=router, accounts=True)
