from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, model_validator

from app.catalog.media.schemas import MediaOut
from app.catalog.returns import ConditionLabel, ReturnClass, ReturnReason
from app.catalog.tax import TaxRate
from app.core.schemas import Amount, Currency, OutSchema, Schema, UtcDatetime

CategorySlug = Literal["apparel", "appliances", "home", "books-media", "agri", "daily-goods",
                       "production-materials", "fresh", "services"]
ProductStatus = Literal["draft", "active"]
# What a merchant may set on an existing listing: `archived` takes it off sale and out of every list but the
# merchant's own, without deleting it (orders and revisions keep pointing at it).
EditableStatus = Literal["draft", "active", "archived"]
Sku = str
# A SKU is part of URLs (`/v1/inventory/{sku}`, `.../stock/{sku}`), where `/` (even sent as %2F) would split it:
# new SKUs take none. `ANY_SKU_PATTERN` reads the SKUs made before, which a till may still send.
SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"
ANY_SKU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-/]{0,63}$"


class TierIn(Schema):
    min_qty: int = Field(ge=1, le=10**9)
    unit_price: Amount


class WholesaleIn(Schema):
    moq: int = Field(default=1, ge=1, le=10**9, description="Minimum order quantity")
    pack_size: int = Field(default=1, ge=1, le=10**6, description="Quantities must be multiples of this")
    tiers: list[TierIn] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _tiers_ascend(self) -> WholesaleIn:
        qtys = [t.min_qty for t in self.tiers]
        if qtys != sorted(set(qtys)):
            raise ValueError("tiers must have distinct min_qty in ascending order")
        return self


Attributes = dict[str, str]
OptionText = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[^\x00-\x1f]+$")]
Barcode = Annotated[str, Field(pattern=r"^[0-9A-Za-z\-]{1,64}$", description="EAN-13, UPC ... as printed")]
Grams = Annotated[int, Field(ge=0, le=10**8, description="Weight in grams")]
Cm3 = Annotated[int, Field(ge=0, le=10**9, description="Volume in cm³, for shipping templates priced by volume")]


class OptionIn(Schema):
    name: OptionText = Field(description="颜色, 尺码, 规格 ...")
    values: list[OptionText] = Field(min_length=1, max_length=100)

    @model_validator(mode="after")
    def _distinct(self) -> OptionIn:
        if len(set(self.values)) != len(self.values):
            raise ValueError("each value once")
        return self


def _distinct_names(options: list[OptionIn] | None) -> None:
    if options and len({o.name for o in options}) != len(options):
        raise ValueError("each option needs its own name")


class OptionOut(OutSchema):
    name: str
    values: list[str]

RETURN_CLASS_HELP = ("7-day no-reason returns: `standard` (returnable), `statutory_excluded` (excluded by law, R7 "
                     "art. 6) or `confirm_required` (excluded only when the buyer confirms at checkout, R7 art. 7)")
TAX_RATE_HELP = ("VAT rate in percent (13, 9, 6, 3 or 0) printed on invoices; null: the category's usual rate "
                 "(agri, fresh, books-media 9, services 6, others 13)")
RETURN_REASON_HELP = ("statutory_excluded: custom_made | fresh | digital | periodical; confirm_required: "
                      "unsafe_once_unsealed | value_lost_once_activated | near_expiry_or_defective_disclosed")


class VariantIn(Schema):
    sku: str = Field(pattern=SKU_PATTERN)
    price: Amount
    currency: Currency = "CNY"
    attributes: Attributes = Field(default_factory=dict, max_length=20, description="Option name -> value")
    wholesale: WholesaleIn | None = None
    barcode: Barcode | None = None
    weight: Grams | None = None
    volume: Cm3 | None = None


class ProductCreate(Schema):
    title: str = Field(min_length=1, max_length=200)
    category: CategorySlug
    description: str = Field(default="", max_length=10_000)
    status: ProductStatus = "draft"
    variants: list[VariantIn] = Field(min_length=1, max_length=100)
    options: list[OptionIn] | None = Field(default=None, max_length=3, description="Each variant's attributes "
                                           "pick one value of each; omitted, they are read off the attributes")
    return_class: ReturnClass = Field(default="standard", description=RETURN_CLASS_HELP)
    return_reason: ReturnReason | None = Field(default=None, description=RETURN_REASON_HELP)
    shipping_template_id: str | None = Field(default=None, max_length=40, description=(
        "One of your shipping templates (GET /v1/shipping-templates) pricing its delivery; none: the platform's "
        "flat fee"))
    tax_rate: TaxRate | None = Field(default=None, description=TAX_RATE_HELP)

    @model_validator(mode="after")
    def _unique_skus(self) -> ProductCreate:
        skus = [v.sku for v in self.variants]
        if len(set(skus)) != len(skus):
            raise ValueError("each variant needs its own sku")
        _distinct_names(self.options)
        return self


class VariantPatch(Schema):
    sku: str = Field(pattern=SKU_PATTERN, description="Identifies the variant; an unknown sku adds one")
    price: Amount | None = None
    currency: Currency | None = None
    attributes: Attributes | None = Field(default=None, max_length=20)
    wholesale: WholesaleIn | None = None
    barcode: Barcode | None = None
    weight: Grams | None = None
    volume: Cm3 | None = None
    image_id: str | None = Field(default=None, max_length=40, description="The product picture (media id) that "
                                 "shows this variant; null: none")
    condition_label: ConditionLabel | None = Field(
        default=None, description="二次销售 or 瑕疵: required before a SKU whose returned units are back on hand sells "
                                  "again; shown on the product page")


class NewVariantsFill(Schema):
    """What the variants a new option value brings get (the merchant edits them afterwards)."""

    price: Amount
    sku_prefix: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}$",
                                   description="SKU of a new variant: this, then each value (default: the "
                                   "product's first SKU)")
    weight: Grams | None = None


class OptionsPut(Schema):
    options: list[OptionIn] = Field(max_length=3)
    fill: NewVariantsFill | None = Field(default=None, description="Required when new combinations appear")

    @model_validator(mode="after")
    def _names(self) -> OptionsPut:
        _distinct_names(self.options)
        return self


class ProductPatch(Schema):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    category: CategorySlug | None = None
    description: str | None = Field(default=None, max_length=10_000)
    status: EditableStatus | None = None
    variants: list[VariantPatch] | None = Field(default=None, min_length=1, max_length=100)
    return_class: ReturnClass | None = Field(default=None, description=RETURN_CLASS_HELP)
    return_reason: ReturnReason | None = Field(default=None, description=RETURN_REASON_HELP)
    shipping_template_id: str | None = Field(default=None, max_length=40, description=(
        "One of your shipping templates (GET /v1/shipping-templates) pricing its delivery; none: the platform's "
        "flat fee (null detaches it)"))
    tax_rate: TaxRate | None = Field(default=None, description=TAX_RATE_HELP)


class TierOut(OutSchema):
    min_qty: int
    unit_price: int


class WholesaleOut(OutSchema):
    moq: int
    pack_size: int
    tiers: list[TierOut]


class VariantOut(OutSchema):
    id: str
    sku: str
    price: int
    currency: str
    attributes: Attributes
    wholesale: WholesaleOut | None = None
    barcode: str | None = None
    weight: int | None = Field(default=None, description="Grams")
    volume: int | None = Field(default=None, description="cm³ (shipping templates priced by volume)")
    condition_label: str | None = Field(default=None, description="二次销售 or 瑕疵: returned goods sold again")
    media: list[MediaOut] = Field(default_factory=list, description="Pictures of this variant, in page order")


class ReturnLabel(OutSchema):
    zh: str
    en: str


class ProductOut(OutSchema):
    id: str
    merchant_id: str
    title: str
    description: str
    category: str
    status: str
    options: list[OptionOut] = Field(default_factory=list)
    variants: list[VariantOut]
    media: list[MediaOut] = Field(default_factory=list, description="The product's pictures, in page order")
    return_class: str
    return_reason: str | None = None
    return_label: ReturnLabel
    shipping_template_id: str | None = None
    tax_rate: int = Field(default=13, description="VAT rate in percent that invoices charge (13, 9, 6, 3 or 0)")
    tax_rate_source: Literal["product", "category"] = Field(
        default="category", description="`product`: set on the product; `category`: its category's usual rate")
    created_at: UtcDatetime
    updated_at: UtcDatetime


class FacetValueOut(OutSchema):
    value: str
    count: int


class PriceBandOut(OutSchema):
    min: int = Field(description="fen, inclusive")
    max: int | None = Field(default=None, description="fen, exclusive; none for the top band")
    count: int


class FacetsOut(OutSchema):
    """Counts over every match (with the filters sent), one list per facet asked for; `option.颜色` and the
    like list the values of that option."""

    model_config = ConfigDict(extra="allow")
    category: list[FacetValueOut] | None = None
    price: list[PriceBandOut] | None = None
    merchant: list[FacetValueOut] | None = None


class ListedProductOut(ProductOut):
    is_ad: bool = Field(default=False, description="A paid placement, labelled 广告 (C12). The platform sells "
                        "none: always false")


class ProductPage(OutSchema):
    items: list[ListedProductOut]
    next_cursor: str | None = None
    facets: FacetsOut | None = Field(default=None, description="Present when `facets` was asked for")


class CategoryOut(OutSchema):
    slug: str
    name_zh: str
    name_en: str


class ListingTierOut(OutSchema):
    min_qty: int
    unit_price: int


class ListingWholesaleOut(OutSchema):
    moq: int
    pack_size: int
    tiers: list[ListingTierOut]


class ListingVariantOut(OutSchema):
    id: str
    sku: str
    price: int
    currency: str
    attributes: Attributes
    wholesale: ListingWholesaleOut | None = None


class ListingSellerOut(OutSchema):
    id: str
    name: str


class ListingAfterSalesOut(OutSchema):
    category_returnable: bool = Field(description="Whether the category allows the 7-day no-reason return")
    return_class: str = Field(description="standard | statutory_excluded | confirm_required")
    return_reason: str | None = None


class ListingContentOut(OutSchema):
    version: int
    title: str
    description: str
    category: str
    merchant: ListingSellerOut
    after_sales: ListingAfterSalesOut
    variants: list[ListingVariantOut]


class ListingRevisionOut(OutSchema):
    """A listing as it read at one time; order lines point at the revision they were sold under."""

    id: str
    product_id: str
    merchant_id: str
    revision: int
    content: ListingContentOut
    content_hash: str = Field(description="SHA-256 of the canonical JSON of `content` (sorted keys, no spaces)")
    created_at: UtcDatetime


# ---- catalogue work: duplicate, bulk edit -------------------------------------------------------------------

SKU_SUFFIX_PATTERN = r"^[A-Za-z0-9_.\-]{1,20}$"


class DuplicateIn(Schema):
    sku_suffix: str = Field(default="-COPY", pattern=SKU_SUFFIX_PATTERN,
                            description="Added to every SKU of the copy (SKUs are unique per merchant)")
    title: str | None = Field(default=None, min_length=1, max_length=200, description="Default: the original's")


class BulkEdit(Schema):
    """One change to many of the merchant's products, all applied in one transaction or none."""

    product_ids: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(min_length=1, max_length=500)
    status: EditableStatus | None = None
    category: CategorySlug | None = None
    price_percent: Decimal | None = Field(
        default=None, ge=Decimal("-99.99"), le=Decimal("1000"), max_digits=6, decimal_places=2,
        description="Change every variant's price by this percentage (-10 = 10 % off, 5.5 = 5.5 % more), "
        "rounded half up to the fen")

    @model_validator(mode="after")
    def _something(self) -> BulkEdit:
        if self.status is None and self.category is None and self.price_percent is None:
            raise ValueError("send at least one of status, category, price_percent")
        if len(set(self.product_ids)) != len(self.product_ids):
            raise ValueError("each product id once")
        return self


class BulkEditOut(OutSchema):
    updated: int
    items: list[ProductOut]
