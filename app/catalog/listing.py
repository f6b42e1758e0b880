"""The public listing on PostgreSQL: the page's JSON built by PostgreSQL.

The page's ids come from the listing or from search (app/catalog/search); the page (products, variants, tiers,
pictures) is then assembled by `json_agg` in one statement and sent as is, so Python neither decodes rows nor
re-encodes them.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog import returns, tax


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _label_sql(lang: int) -> str:
    """The listing's return label (app/catalog/returns.py `label`) as a CASE over the product's columns."""
    by_category = " ".join(f"WHEN {_sql_text(c)} THEN {_sql_text(pair[lang])}"
                           for c, pair in returns.CATEGORY_LABELS.items())
    by_class = " ".join(f"WHEN {_sql_text(cls + '/' + (reason or ''))} THEN {_sql_text(pair[lang])}"
                        for (cls, reason), pair in returns.LABELS.items())
    fallback = _sql_text(returns.LABELS[("standard", None)][lang])
    return (f"CASE p.category {by_category} ELSE CASE p.return_class || '/' || coalesce(p.return_reason, '') "
            f"{by_class} ELSE {fallback} END END")


def _media_sql(source: str, where: str) -> str:
    """A JSON array of media items (app/catalog/media/service.py `_item`), in page order."""
    return f"""(
        SELECT coalesce(json_agg(json_build_object(
            'id', m.id, 'url', a.large_url, 'width', a.width, 'height', a.height, 'alt', m.alt,
            'position', m.position,
            'variant_ids', (SELECT coalesce(json_agg(l.variant_id ORDER BY l.variant_id), '[]'::json)
                              FROM variant_media l WHERE l.media_id = m.id),
            'renditions', json_build_object('thumb', a.thumb_url, 'medium', a.medium_url, 'large', a.large_url))
            ORDER BY m.position, m.id), '[]'::json)
        FROM {source} JOIN media_asset a ON a.id = m.asset_id WHERE {where})"""


def _tax_rate_sql() -> str:
    """The rate that applies (`tax.tax_rate_of`): the product's own, else its category's."""
    by_category = " ".join(f"WHEN {_sql_text(c)} THEN {r}" for c, r in tax.CATEGORY_TAX_RATES.items())
    return f"coalesce(p.tax_rate, CASE p.category {by_category} ELSE {tax.STANDARD_RATE} END)"


_PRODUCT_JSON = """json_build_object(
    'id', p.id, 'merchant_id', p.merchant_id, 'title', p.title, 'description', p.description,
    'category', p.category, 'status', p.status, 'options', p.options,
    'return_class', p.return_class, 'return_reason', p.return_reason,
    'return_label', json_build_object('zh', """ + _label_sql(0) + """, 'en', """ + _label_sql(1) + """),
    'shipping_template_id', p.shipping_template_id,
    'tax_rate', """ + _tax_rate_sql() + """,
    'tax_rate_source', CASE WHEN p.tax_rate IS NULL THEN 'category' ELSE 'product' END,
    'variants', (
        SELECT coalesce(json_agg(json_build_object(
            'id', v.id, 'sku', v.sku, 'price', v.price, 'currency', v.currency, 'attributes', v.attributes,
            'wholesale', CASE WHEN v.wholesale THEN json_build_object(
                'moq', v.moq, 'pack_size', v.pack_size,
                'tiers', (SELECT coalesce(json_agg(json_build_object('min_qty', t.min_qty,
                                                                    'unit_price', t.unit_price)
                                                   ORDER BY t.min_qty), '[]'::json)
                          FROM price_tier t WHERE t.variant_id = v.id)) END,
            'barcode', v.barcode, 'weight', v.weight, 'volume', v.volume, 'condition_label', v.condition_label,
            'media', """ + _media_sql("variant_media vm JOIN product_media m ON m.id = vm.media_id",
                                 "vm.variant_id = v.id") + """)
            ORDER BY v.id), '[]'::json)
        FROM variant v WHERE v.product_id = p.id),
    'media', """ + _media_sql("product_media m", "m.product_id = p.id") + """,
    'created_at', to_char(p.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    'updated_at', to_char(p.updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
    'is_ad', false)"""
_PAGE_JSON = text(f"""
SELECT coalesce(json_agg({_PRODUCT_JSON} ORDER BY array_position(CAST(:ids AS text[]), p.id::text)), '[]'::json)::text
FROM product p WHERE p.id = ANY(:ids)
""")
_PRODUCTS_JSON = text(f"SELECT p.id, ({_PRODUCT_JSON})::text FROM product p WHERE p.id = ANY(:ids)")


async def page_json(session: AsyncSession, ids: list[str]) -> str:
    """The products with these ids as a JSON array (the `ListedProductOut` shape: no paid placements, so `is_ad`
    is false), in the order of `ids`."""
    if not ids:
        return "[]"
    return str(await session.scalar(_PAGE_JSON, {"ids": ids}))


async def products_json(session: AsyncSession, ids: Sequence[str]) -> dict[str, bytes]:
    """Each of these products' JSON (as in `page_json`) by id, for a process's cache of them."""
    if not ids:
        return {}
    # kept compact: PostgreSQL's json text spaces every key and value out, a tenth of a page's bytes
    return {r[0]: orjson.dumps(orjson.loads(r[1]))
            for r in (await session.execute(_PRODUCTS_JSON, {"ids": list(ids)})).all()}
