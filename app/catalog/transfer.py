"""The product CSV, both ways: the rules that turn its rows into products (pure, no database) and the rows an
export writes. One row per variant; the rows of a product share its `product` key (its id when exported; any
text of the merchant's choosing for a new product). Product columns (title, category, status, description)
are given on one of its rows, usually the first, and may be repeated identically.

| column | meaning |
|---|---|
| product | the product's id (update it) or a key shared by the rows of one new product |
| title, category, status, description | the product; `status` draft, active or archived (default draft) |
| option1_name, option1_value ... option3_* | the variant's option values (颜色 红色, 尺码 XL ...) |
| sku, price | the variant: its SKU, and its price in yuan (79.90) |
| barcode, weight | EAN/UPC as printed; grams |
| images | the product's pictures: URLs or names of files uploaded with the import, separated by `|` |
| variant_image | the picture that shows this variant (a URL or file name; added to the product's pictures) |
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from app.catalog import moderation
from app.catalog.options import MAX_OPTIONS, MAX_VARIANTS
from app.catalog.schemas import SKU_PATTERN
from app.core.csvfile import Row, RowError

COLUMNS = ("product", "title", "category", "status", "description",
           "option1_name", "option1_value", "option2_name", "option2_value", "option3_name", "option3_value",
           "sku", "price", "barcode", "weight", "images", "variant_image")
REQUIRED = ("product", "sku", "price")
CATEGORIES = frozenset({"apparel", "appliances", "home", "books-media", "agri", "daily-goods",
                        "production-materials", "fresh", "services"})
_SKU = re.compile(SKU_PATTERN)
_BARCODE = re.compile(r"^[0-9A-Za-z\-]{1,64}$")
_PRODUCT_KEY = re.compile(r"^[^\x00-\x1f]{1,64}$")
_LIMITS = {"title": 200, "description": 10_000}
MAX_PRICE = Decimal(10**10)
MAX_PICTURES = 20


@dataclass(slots=True)
class VariantRow:
    line: int
    sku: str
    price: int  # fen
    attributes: dict[str, str]
    barcode: str | None
    weight: int | None
    images: list[str]
    variant_image: str | None


@dataclass(slots=True)
class ProductRows:
    key: str
    title: str | None = None
    category: str | None = None
    status: str | None = None
    description: str | None = None
    option_names: list[str] | None = None
    variants: list[VariantRow] = field(default_factory=list)
    first_line: dict[str, int] = field(default_factory=dict)  # product column -> line that gave it

    @property
    def lines(self) -> list[int]:
        return [v.line for v in self.variants]

    def pictures(self) -> list[str]:
        """The product's pictures in the order the file gives them, each once."""
        out: dict[str, None] = {}
        for v in self.variants:
            out.update(dict.fromkeys(v.images))
            if v.variant_image:
                out[v.variant_image] = None
        return list(out)

    def options(self) -> list[dict[str, object]]:
        names = self.option_names or []
        values: dict[str, list[str]] = {n: [] for n in names}
        for v in self.variants:
            for n in names:
                if v.attributes[n] not in values[n]:
                    values[n].append(v.attributes[n])
        return [{"name": n, "values": values[n]} for n in names]


def price_fen(text: str) -> int:
    """`79.9`, `79.90`, `¥1,299` -> fen; ValueError when it is not an amount of yuan with at most 2 decimals."""
    cleaned = text.replace(",", "").replace("，", "").removeprefix("¥").removeprefix("￥").strip()
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError("not an amount in yuan, e.g. 79.90") from None
    if not amount.is_finite() or amount < 0 or amount >= MAX_PRICE or amount != amount.quantize(Decimal("0.01")):
        raise ValueError("an amount in yuan from 0 with at most 2 decimals, e.g. 79.90")
    return int(amount * 100)


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def _variant(row: Row, errors: list[RowError]) -> VariantRow | None:
    c, line = row.cells, row.line
    bad = len(errors)

    def err(column: str, message: str) -> None:
        errors.append(RowError(line, column, message))

    if not _SKU.match(c["sku"]):
        err("sku", "required: letters, digits and _ . - / (at most 64), starting with a letter or digit")
    try:
        price = price_fen(c["price"]) if c["price"] else 0
        if not c["price"]:
            err("price", "required")
    except ValueError as exc:
        price = 0
        err("price", str(exc))
    if c["barcode"] and not _BARCODE.match(c["barcode"]):
        err("barcode", "letters, digits and - only (at most 64)")
    weight: int | None = None
    if c["weight"]:
        if c["weight"].isdigit() and int(c["weight"]) <= 10**8:
            weight = int(c["weight"])
        else:
            err("weight", "whole grams, e.g. 350")
    attributes: dict[str, str] = {}
    for i in range(1, MAX_OPTIONS + 1):
        name, value = c[f"option{i}_name"], c[f"option{i}_value"]
        if not name and not value:
            continue
        if not name or not value:
            err(f"option{i}_{'name' if not name else 'value'}", "an option needs both its name and its value")
        elif len(name) > 40 or len(value) > 40:
            err(f"option{i}_{'name' if len(name) > 40 else 'value'}", "at most 40 characters")
        elif name in attributes:
            err(f"option{i}_name", f"{name} is named twice")
        else:
            attributes[name] = value
    images = [ref.strip() for ref in c["images"].split("|") if ref.strip()] if c["images"] else []
    if len(images) > MAX_PICTURES:
        err("images", f"at most {MAX_PICTURES} pictures")
    if len(errors) > bad:
        return None
    return VariantRow(line, c["sku"], price, attributes, c["barcode"] or None, weight, images,
                      c["variant_image"] or None)


def _product_fields(row: Row, errors: list[RowError], policy: moderation.ListingPolicy) -> dict[str, str]:
    c, out = row.cells, {}
    bad = len(errors)
    for name in ("title", "category", "status", "description"):
        if c[name]:
            out[name] = c[name]
    if "category" in out and out["category"] not in CATEGORIES:
        errors.append(RowError(row.line, "category", f"one of {', '.join(sorted(CATEGORIES))}"))
    if "status" in out and out["status"] not in ("draft", "active", "archived"):
        errors.append(RowError(row.line, "status", "draft, active or archived"))
    for name, limit in _LIMITS.items():
        if len(out.get(name, "")) > limit:
            errors.append(RowError(row.line, name, f"at most {limit:,} characters"))
    texts = {k: v for k, v in out.items() if k in ("title", "description")}
    for e in moderation.clause_errors(texts, policy):
        errors.append(RowError(row.line, e["field"], e["message"]))
    return out if len(errors) == bad else {}


def parse(rows: Sequence[Row], *, policy: moderation.ListingPolicy) -> tuple[dict[str, ProductRows],
                                                                             list[RowError]]:
    """The products the rows describe, and every row error. A row with an error contributes nothing (neither
    its variant nor its product columns), so the good rows alone make consistent products."""
    errors: list[RowError] = []
    products: dict[str, ProductRows] = {}
    sku_line: dict[str, int] = {}
    combos: dict[tuple[str, tuple[tuple[str, str], ...]], int] = {}
    for row in rows:
        before = len(errors)
        key = row.cells["product"]
        if not _PRODUCT_KEY.match(key):
            errors.append(RowError(row.line, "product", "required: the product's id, or a key its rows share"))
        variant = _variant(row, errors)
        fields = _product_fields(row, errors, policy)
        if len(errors) > before or variant is None:
            continue
        group = products.get(key) or ProductRows(key)
        for name, value in fields.items():
            given = getattr(group, name)
            if given is not None and given != value:
                errors.append(RowError(row.line, name, f"differs from line {group.first_line[name]}"))
        names = list(variant.attributes)
        if group.option_names is not None and group.variants and set(names) != set(group.option_names):
            errors.append(RowError(row.line, "option1_name", f"the product's options are "
                                   f"{', '.join(group.option_names) or 'none'} (line {group.variants[0].line})"))
        if variant.sku in sku_line:
            errors.append(RowError(row.line, "sku", f"{variant.sku} is also on line {sku_line[variant.sku]}"))
        combo = (key, tuple(sorted(variant.attributes.items())))
        if combo in combos:
            errors.append(RowError(row.line, "option1_value", f"the same options as line {combos[combo]}"))
        if len(group.variants) >= MAX_VARIANTS:
            errors.append(RowError(row.line, "sku", f"a product has at most {MAX_VARIANTS} variants"))
        if len(errors) > before:
            continue
        for name, value in fields.items():
            if getattr(group, name) is None:
                setattr(group, name, value)
                group.first_line[name] = row.line
        if group.option_names is None:
            group.option_names = names
        group.variants.append(variant)
        sku_line[variant.sku] = row.line
        combos[combo] = row.line
        products[key] = group
    return products, errors


def missing_product_fields(group: ProductRows) -> list[RowError]:
    """A new product needs a title and a category on one of its rows: else each of its rows is in error."""
    missing = [name for name in ("title", "category") if getattr(group, name) is None]
    return [RowError(line, missing[0], f"a new product needs its {' and '.join(missing)} on one of its rows")
            for line in group.lines] if missing else []


def export_rows(product: Mapping[str, object]) -> list[list[object]]:
    """The rows of one product (its public shape, `ProductOut`) in the import's columns."""
    variants = product["variants"]
    media = product.get("media") or []
    assert isinstance(variants, list) and isinstance(media, list)
    pictures = "|".join(str(m["url"]) for m in media)
    rows: list[list[object]] = []
    for i, v in enumerate(variants):
        attrs = list((v.get("attributes") or {}).items())[:MAX_OPTIONS]
        opts: list[object] = []
        for n in range(MAX_OPTIONS):
            opts += list(attrs[n]) if n < len(attrs) else ["", ""]
        own = v.get("media") or []
        first = i == 0
        rows.append([product["id"], product["title"] if first else "", product["category"] if first else "",
                     product["status"] if first else "", product["description"] if first else "", *opts,
                     v["sku"], yuan(int(v["price"])), v.get("barcode") or "", v.get("weight") or "",
                     pictures if first else "", own[0]["url"] if own else ""])
    return rows
