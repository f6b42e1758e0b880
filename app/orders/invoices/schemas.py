from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.core.schemas import OutSchema, Schema

InvoiceKind = Literal["personal", "company"]


class InvoiceRequestIn(Schema):
    kind: InvoiceKind = Field(description="`personal` (个人) or `company` (单位)")
    title: str = Field(min_length=1, max_length=100, description="发票抬头: the buyer's name, or the company's")
    taxpayer_id: str | None = Field(default=None, max_length=18, description=(
        "The company's taxpayer number: its unified social credit code (18 characters, check character "
        "verified). Required for a company"))


class InvoiceRequestOut(OutSchema):
    order_id: str
    kind: str
    title: str
    taxpayer_id: str | None = None
    requested_at: str | None = None
    updated_at: str | None = None


class InvoiceLineOut(OutSchema):
    sku: str = Field(description="The order line's SKU; `SHIPPING` for the delivery charge")
    title: str
    quantity: int = Field(description="Negative on a red invoice")
    amount: int = Field(description="fen, tax included (retail prices include VAT); negative on a red invoice")
    tax_rate: int = Field(description="VAT rate in percent: 13, 9, 6, 3 or 0")
    tax: int = Field(description="fen: amount × rate ÷ (100 + rate), rounded to the fen")


class InvoiceOut(OutSchema):
    id: str
    order_id: str
    order_number: str
    number: str = Field(description="The merchant's invoice number (one running sequence per merchant)")
    color: Literal["blue", "red"] = Field(description="`blue`: the sale; `red` (红字): reverses the refunded part "
                                                      "of the blue invoice `original_id`")
    original_id: str | None = None
    original_number: str | None = None
    kind: str
    title: str
    taxpayer_id: str | None = None
    lines: list[InvoiceLineOut]
    total: int = Field(description="fen, tax included; the sum of the lines")
    tax_total: int = Field(description="fen; the sum of the lines' tax")
    currency: str
    issuer: str
    issued_at: str
    pdf_url: str = Field(description="The invoice as application/pdf, for the order's customer and merchant")


class OrderInvoicesOut(OutSchema):
    request: InvoiceRequestOut | None = None
    items: list[InvoiceOut]
