from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, model_validator

from app.catalog.schemas import ReturnLabel
from app.core.schemas import Address, Email, OutSchema, Schema, UtcDatetime
from app.orders.invoices.schemas import InvoiceRequestIn
from app.orders.schemas import OrderOut
from app.payments import registry


class CustomerCreate(Schema):
    email: Email
    password: str = Field(min_length=8, max_length=200)
    name: str = Field(min_length=1, max_length=100)
    consents: dict[str, bool] = Field(default_factory=dict, max_length=20, description="Optional purposes the "
                                      "person ticked (marketing, share_merchant, share_carrier): none is given "
                                      "unless sent. The account and order purposes are recorded with the sign-up")


class CustomerOut(OutSchema):
    id: str
    email: str
    name: str
    created_at: UtcDatetime


class TokenOut(OutSchema):
    access_token: str
    token_type: str = "bearer"
    expires_in: int


class CartItemIn(Schema):
    variant_id: str = Field(min_length=1, max_length=40)
    quantity: int = Field(ge=1, le=10_000)


class CartItemOut(OutSchema):
    variant_id: str
    sku: str
    title: str
    merchant_id: str
    quantity: int
    unit_price: int
    total: int
    currency: str
    available: bool
    return_class: str = "standard"
    return_label: ReturnLabel | None = None


class CartOut(OutSchema):
    id: str
    customer_id: str | None
    status: str
    items: list[CartItemOut]
    subtotal: int
    shipping: int = Field(default=0, description="Delivery before an address is known: the shops' shipping "
                          "templates at their general rate (remote provinces are priced at checkout)")
    currency: str


class CheckoutLine(Schema):
    variant_id: str = Field(min_length=1, max_length=40)
    quantity: int = Field(ge=1, le=10_000)


class DeliveryFulfilment(Schema):
    type: Literal["delivery"]
    address: Address


class PickupFulfilment(Schema):
    type: Literal["pickup"]
    location_id: str = Field(min_length=1, max_length=40)


Fulfilment = Annotated[DeliveryFulfilment | PickupFulfilment, Field(discriminator="type")]


class CheckoutIn(Schema):
    lines: list[CheckoutLine] | None = Field(default=None, min_length=1, max_length=200)
    cart_id: str | None = Field(default=None, max_length=40)
    email: Email | None = None
    fulfilment: Fulfilment
    payment_method: Annotated[str, *registry.accepts("retail")] = Field(
        description="A way to pay this platform offers (`cod`, `stripe`, ...); see the storefront's choices")
    coupon_code: str | None = Field(default=None, min_length=1, max_length=40)
    wechat_openid: str | None = Field(default=None, min_length=6, max_length=128, pattern=r"^[A-Za-z0-9_-]+$",
                                      description="Inside WeChat: the buyer's openid under the platform's app (from "
                                      "its OAuth step); `wechatpay` is then paid by JSAPI (`payment.jsapi`)")
    confirm_return_exclusions: bool = Field(default=False, description=(
        "The buyer confirms that the checkout's `confirm_required` items (return_class on the product) cannot be "
        "returned without a reason. Without it those items keep the 7-day no-reason return."))
    invoice: InvoiceRequestIn | None = Field(default=None, description=(
        "Ask for an invoice with the order (each merchant's order gets the request); the same as "
        "`POST /v1/orders/{id}/invoice-request` afterwards"))

    @model_validator(mode="after")
    def _lines_or_cart(self) -> CheckoutIn:
        if (self.lines is None) == (self.cart_id is None):
            raise ValueError("send either lines or cart_id")
        return self


class PaymentOut(OutSchema):
    id: str
    provider: str
    amount: int
    currency: str
    client_secret: str | None = Field(default=None, description="Stripe: confirm the PaymentIntent in the browser")
    pay_url: str | None = Field(default=None, description="Alipay: send the buyer to this cashier (desktop page "
                                "pay, or phone wap pay for a phone's browser)")
    code_url: str | None = Field(default=None, description="WeChat Pay Native (desktop): show it as a QR code")
    h5_url: str | None = Field(default=None, description="WeChat Pay H5 (a phone's browser): send the buyer there")
    jsapi: dict[str, str] | None = Field(default=None, description="WeChat Pay JSAPI (inside WeChat): the "
                                         "parameters of WeixinJSBridge's getBrandWCPayRequest")
    sandbox: bool | None = Field(default=None, description="True: the provider is the local sandbox (沙箱); no "
                                 "money moves")
    sandbox_pay_url: str | None = Field(default=None, description="Sandbox only: the page that pays a WeChat Pay "
                                        "QR code without scanning it")
    merchant_id: str | None = Field(default=None, description="A checkout across merchants paid into each one's "
                                    "own account: whose share this payment is")
    order_id: str | None = Field(default=None, description="That merchant's order, paid by this payment")
    combined: str | None = Field(default=None, description="WeChat Pay: the combined payment (合单支付) this share "
                                 "is part of; its shares have one code_url / h5_url / jsapi, paid in one step")


class CheckoutOut(OutSchema):
    orders: list[OrderOut]
    payment: PaymentOut | None = Field(default=None, description="The checkout's (first) payment")
    payments: list[PaymentOut] = Field(default_factory=list, description=(
        "Every payment of the checkout. One, except when its merchants are each paid into their own account "
        "(Alipay, WeChat Pay): then one per merchant, paid one after another (Alipay), or shares of one combined "
        "payment paid in one step (WeChat Pay)"))


class PromotionIn(Schema):
    code: str = Field(min_length=2, max_length=40, pattern=r"^[A-Za-z0-9_-]+$")
    kind: Literal["percent", "amount"]
    value: int = Field(ge=1, le=10**9, description="percent: 1–100 (% off); amount: fen off")
    channels: list[Literal["online", "store"]] = Field(min_length=1, max_length=2)
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    usage_limit: int | None = Field(default=None, ge=1, le=10**9)
    description: str | None = Field(default=None, max_length=2000, description="The terms shoppers read with "
                                    "the code (满200减20 ...); no clause may take away consumer rights")

    @model_validator(mode="after")
    def _consistent(self) -> PromotionIn:
        if self.kind == "percent" and self.value > 100:
            raise ValueError("a percent promotion takes value 1–100")
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class PromotionOut(OutSchema):
    id: str
    merchant_id: str
    code: str
    kind: str
    value: int
    channels: list[str]
    starts_at: UtcDatetime
    ends_at: UtcDatetime
    usage_limit: int | None
    description: str | None = None
    used_count: int = Field(description="Uses counted against usage_limit, online and in stores together")
    created_at: UtcDatetime
    redemptions_online: int = Field(default=0, description="Uses by online checkouts (not given back)")
    redemptions_store: int = Field(default=0, description="Uses at store tills (not voided)")



class AccountClosed(OutSchema):
    id: str
    status: Literal["closed"]
    records_retained_years: int = Field(description="Orders and payments stay under legal hold this long")
    orders_on_legal_hold: int = Field(default=0, description="Orders whose buyer name, phone and address moved to "
                                      "the legal-hold store")
