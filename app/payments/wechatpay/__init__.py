"""WeChat Pay API v3 (微信支付) in service-provider mode: settings `WECHATPAY_MCHID`, `WECHATPAY_APPID`,
`WECHATPAY_APIV3_KEY`, `WECHATPAY_PRIVATE_KEY`, `WECHATPAY_CERT_SERIAL_NO`, `WECHATPAY_PUBLIC_KEY`,
`WECHATPAY_PUBLIC_KEY_ID`, `WECHATPAY_API_BASE`. Each merchant is paid into its own `sub_mchid`."""

from app.payments.base import Provider
from app.payments.wechatpay.notify import router
from app.payments.wechatpay.provider import build

PROVIDER = Provider(name="wechatpay", prepaid=True, channels=frozenset({"retail", "community"}),
                    label=("微信支付", "WeChat Pay"), gateway=build, router=router, accounts=True,
                    refunds_notified=True)
