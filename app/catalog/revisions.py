"""What a listing revision holds and how its hash is made (no database).

The content is what a buyer reads on the product page: texts, category, each variant's SKU, price,
attributes and wholesale terms, the seller's display name and the return terms (whether the category
allows the 7-day no-reason return, and the listing's return class, see app/catalog/returns.py).

The hash is SHA-256 over the canonical JSON (sorted keys, no spaces, UTF-8), so it can be recomputed
from the stored content on either database. The migration that backfilled revision 1
(migrations/versions/*_listing_revisions_*.py) builds the same shape; keep the two in step.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

CONTENT_VERSION = 1


def listing_content(product: dict[str, Any], *, merchant_name: str, returnable: bool) -> dict[str, Any]:
    """The revision content of a product in its public shape (`ProductOut`: title, variants ...)."""
    return {
        "version": CONTENT_VERSION,
        "title": product["title"],
        "description": product["description"],
        "category": product["category"],
        "merchant": {"id": product["merchant_id"], "name": merchant_name},
        "after_sales": {"category_returnable": bool(returnable),
                        "return_class": product.get("return_class") or "standard",
                        "return_reason": product.get("return_reason")},
        "variants": [{
            "id": v["id"], "sku": v["sku"], "price": v["price"], "currency": v["currency"],
            "attributes": dict(v.get("attributes") or {}),
            "wholesale": ({"moq": v["wholesale"]["moq"], "pack_size": v["wholesale"]["pack_size"],
                           "tiers": [{"min_qty": t["min_qty"], "unit_price": t["unit_price"]}
                                     for t in v["wholesale"]["tiers"]]}
                          if v.get("wholesale") else None),
        } for v in product["variants"]],
    }


def content_hash(content: dict[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of `content`."""
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
