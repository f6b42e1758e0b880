"""Console pages for catalogue work: the product list with bulk edit, the product editor (options matrix,
variants, pictures), collections, imports with their progress, and stock moves.

Same sign-in, base template and forms as the rest of the console (app/web/console.py); every change goes
through the API's service functions, so the pages follow the API's rules and refuse what it refuses.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, BackgroundTasks, Request
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile
from starlette.responses import Response, StreamingResponse

from app.catalog import moderation, options, work
from app.catalog import service as catalog_service
from app.catalog.collections import service as collections_service
from app.catalog.collections.rules import describe as describe_rule
from app.catalog.collections.schemas import CollectionIn, CollectionPatch
from app.catalog.media import service as media_service
from app.catalog.media.schemas import MediaPatch
from app.catalog.schemas import BulkEdit, DuplicateIn, OptionsPut, ProductCreate, ProductPatch
from app.core.auth import Principal
from app.core.clock import SHANGHAI
from app.core.deps import SessionDep, SettingsDep
from app.core.errors import DomainError, NotFound
from app.core.ids import new_id
from app.core.money import yuan_to_fen
from app.core.pagination import decode_cursor, encode_cursor
from app.imports import service as imports_service
from app.inventory import service as inventory_service
from app.inventory.moves import service as moves_service
from app.inventory.moves.schemas import AdjustIn, TransferIn
from app.logistics import service as logistics_service
from app.merchants import service as merchants_service
from app.web import i18n
from app.web.console import as_merchant, page, staff_of
from app.web.pages import TEMPLATES, WebRoute, check_csrf, form_errors, lang_of, redirect

router = APIRouter(prefix="/console/catalog", route_class=WebRoute, include_in_schema=False)
PAGE = 50
MAX_UPLOADS = 20

# The pages' own words, looked up before the shared catalogue (app/web/i18n.py), so this module adds labels
# without touching the file other pages edit.
WORDS: dict[str, tuple[str, str]] = {
    "catalog": ("商品管理", "Catalogue"),
    "new_product": ("新建商品", "New product"),
    "edit_product": ("编辑商品", "Edit product"),
    "basics": ("基本信息", "Basics"),
    "save": ("保存", "Save"),
    "archive": ("归档（下架保留）", "Archive"),
    "unarchive": ("取消归档（转为草稿）", "Restore as draft"),
    "duplicate": ("复制商品", "Duplicate"),
    "archived": ("已归档", "Archived"),
    "options": ("规格", "Options"),
    "option_name": ("规格名称", "Option name"),
    "option_values": ("规格值（用逗号分隔）", "Values (comma-separated)"),
    "option_hint": ("例如 规格名称“颜色”，规格值“红色，黑色，白色”。新增的值会自动生成对应的商品规格（SKU）。",
                    "E.g. option 颜色 with values 红色, 黑色. A new value makes its variants appear."),
    "new_variant_price": ("新规格价格（元）", "Price of new variants (yuan)"),
    "sku_prefix": ("SKU 前缀", "SKU prefix"),
    "update_options": ("更新规格", "Update options"),
    "variants": ("规格明细", "Variants"),
    "barcode": ("条码", "Barcode"),
    "weight_g": ("重量（克）", "Weight (g)"),
    "picture": ("图片", "Picture"),
    "no_picture": ("无", "None"),
    "bulk_fill": ("批量填充", "Fill all"),
    "fill_price": ("统一价格（元）", "One price for all (yuan)"),
    "fill_stock": ("统一库存（件）", "One stock count for all"),
    "fill_location": ("库存地点", "Stock at"),
    "save_variants": ("保存规格明细", "Save variants"),
    "pictures": ("商品图片", "Pictures"),
    "upload": ("上传图片", "Upload pictures"),
    "files": ("选择图片（可多选，JPG/PNG/WebP/GIF，每张不超过 10 MB）", "Pictures (JPEG, PNG, WebP, GIF; 10 MB each)"),
    "alt": ("图片说明", "Alt text"),
    "move_up": ("前移", "Move up"),
    "move_down": ("后移", "Move down"),
    "delete": ("删除", "Delete"),
    "select": ("选择", "Select"),
    "select_all": ("全选", "Select all"),
    "bulk_edit": ("批量修改所选商品", "Edit the selected products"),
    "price_percent": ("价格调整（%，如 -10 表示降价 10%）", "Price change (%, -10 = 10 % off)"),
    "keep": ("不修改", "Keep"),
    "apply": ("应用", "Apply"),
    "updated_n": ("已修改 {n} 个商品。", "{n} products updated."),
    "next_page": ("下一页", "Next page"),
    "first_page": ("第一页", "First page"),
    "search_title": ("按标题搜索", "Search titles"),
    "variants_n": ("{n} 个规格", "{n} variants"),
    "from_price": ("{p} 起", "from {p}"),
    "collections": ("商品集合", "Collections"),
    "new_collection": ("新建集合", "New collection"),
    "kind": ("类型", "Kind"),
    "manual": ("手动挑选", "Picked by hand"),
    "by_rule": ("按条件自动", "By rule"),
    "rule": ("条件", "Rule"),
    "price_min": ("最低价（元）", "Lowest price (yuan)"),
    "price_max": ("最高价（元）", "Highest price (yuan)"),
    "keyword": ("关键词", "Keyword"),
    "product_count": ("商品数", "Products"),
    "add_products": ("加入商品", "Add products"),
    "remove": ("移出", "Remove"),
    "any_category": ("任意分类", "Any category"),
    "public_page": ("在店铺中查看", "View in the shop"),
    "imports": ("批量导入", "Import"),
    "import_kind": ("导入内容", "What"),
    "import_products": ("商品（每行一个规格）", "Products (one row per variant)"),
    "import_stock": ("库存数量", "Stock counts"),
    "csv_file": ("CSV 文件（UTF-8 或 GBK，Excel 另存为 CSV 即可）", "CSV file (UTF-8 or GBK)"),
    "apply_good_rows": ("有错误行时仍导入正确的行", "Apply the good rows even if some are bad"),
    "start_import": ("开始导入", "Start import"),
    "export_products": ("导出商品 CSV", "Export products"),
    "export_stock": ("导出库存 CSV", "Export stock"),
    "job": ("导入任务", "Import job"),
    "progress": ("进度", "Progress"),
    "rows": ("行数", "Rows"),
    "applied": ("已导入", "Applied"),
    "error_rows": ("错误行", "Bad rows"),
    "line": ("行号", "Line"),
    "field": ("字段", "Field"),
    "message": ("说明", "Message"),
    "queued": ("排队中", "Queued"), "running": ("导入中", "Running"), "done": ("已完成", "Done"),
    "rejected": ("未导入（有错误行）", "Not applied (bad rows)"),
    "stock_moves": ("库存调整", "Stock moves"),
    "adjust": ("增减库存", "Adjust stock"),
    "quantity_signed": ("数量（入库为正，出库为负）", "Quantity (+ in, − out)"),
    "reason": ("原因", "Reason"),
    "note": ("备注", "Note"),
    "damaged": ("损坏", "Damaged"), "found": ("盘盈", "Found"),
    "returned_to_supplier": ("退回供应商", "Returned to supplier"),
    "shrinkage": ("损耗", "Shrinkage"), "correction": ("更正", "Correction"), "other": ("其他", "Other"),
    "transfer": ("调拨", "Transfer"),
    "transfers": ("调拨单", "Transfers"),
    "from_location": ("调出地点", "From"),
    "to_location": ("调入地点", "To"),
    "transfer_lines": ("调拨明细（每行：SKU 数量）", "Lines (one per line: SKU quantity)"),
    "send": ("发出调拨", "Send"),
    "receive": ("确认收货", "Receive"),
    "cancel_transfer": ("撤回", "Cancel"),
    "in_transit": ("在途", "In transit"), "received": ("已收货", "Received"), "cancelled": ("已撤回", "Cancelled"),
    "low_stock": ("低库存提醒", "Low stock"),
    "threshold": ("提醒阈值", "Alert at"),
    "set_threshold": ("设置提醒", "Set alert"),
    "none_low": ("没有低于阈值的库存。", "Nothing is low."),
    "sku": ("SKU", "SKU"),
    "created_at": ("创建时间", "Created"),
}


def _translator(lang: i18n.Lang) -> Callable[..., str]:
    def t(key: str, **kwargs: object) -> str:
        pair = WORDS.get(key)
        if pair is None:
            return i18n.translate(lang, key, **kwargs)
        text = pair[0 if lang == "zh" else 1]
        return text.format(**kwargs) if kwargs else text
    return t


def cny(amount: int | None) -> str:
    """¥7,890.00: thousands separated, exact (fen are integers)."""
    value = int(amount or 0)
    sign = "-" if value < 0 else ""
    return f"{sign}¥{abs(value) // 100:,}.{abs(value) % 100:02d}"


TEMPLATES.env.filters["cny"] = cny


async def _merchant(request: Request, session: AsyncSession, action: str) -> Principal:
    """The signed-in merchant, for a console `action` (products.view, products.edit, stock.view, stock.edit): the
    one place these pages ask who is signed in and what they may do."""
    return as_merchant(await staff_of(request, session, action))


def _page(request: Request, name: str, context: dict[str, Any], *, status: int = 200) -> Response:
    return page(request, f"console/catalog/{name}", {"t": _translator(lang_of(request)), **context},
                status=status)


async def _form(request: Request) -> tuple[dict[str, str], Any]:
    form = await request.form(max_files=MAX_UPLOADS + 1, max_fields=2000)
    check_csrf(request, form)
    return {k: str(v).strip()[:2000] for k, v in form.items() if isinstance(v, str)}, form


def _fen(value: str | None) -> int | None:
    """Yuan as typed ("12.5", "1,299") to fen, exactly; None when blank or not an amount."""
    text = (value or "").replace(",", "").replace("，", "").strip()
    try:
        return yuan_to_fen(text) if text else None
    except ValueError:
        return None


def _int(value: str | None) -> int | None:
    try:
        return int((value or "").strip())
    except ValueError:
        return None


def _values(text: str) -> list[str]:
    """Option values as typed, split on commas (Chinese or ASCII), spaces trimmed, each once."""
    parts = [v.strip() for v in text.replace("，", ",").replace("、", ",").split(",")]
    return list(dict.fromkeys(v for v in parts if v))


def _options_from(v: dict[str, str]) -> list[dict[str, Any]]:
    out = []
    for i in range(options.MAX_OPTIONS):
        name, values = v.get(f"option_name_{i}", ""), _values(v.get(f"option_values_{i}", ""))
        if name or values:
            out.append({"name": name, "values": values})
    return out


# What a refused form field is called on the page, and what pydantic's refusals mean, in the merchant's words.
FIELD_NAMES = {"title": "标题", "category": "分类", "description": "描述", "status": "状态", "price": "价格",
               "sku": "SKU", "sku_suffix": "SKU 后缀", "barcode": "条码", "weight": "重量", "options": "规格",
               "name": "规格名称", "values": "规格值", "fill": "新规格价格", "product_ids": "所选商品",
               "price_percent": "价格调整", "rule": "条件", "keyword": "关键词", "price_min": "最低价",
               "price_max": "最高价", "quantity": "数量", "reason": "原因", "lines": "调拨明细", "note": "备注",
               "from_location_id": "调出地点", "to_location_id": "调入地点", "file": "文件", "image_id": "图片"}
PYDANTIC_ZH = {"missing": "必填", "string_too_short": "不能为空", "too_short": "至少选一项",
               "string_too_long": "太长了", "too_long": "太多了", "literal_error": "请从列表中选择",
               "string_pattern_mismatch": "格式不对（只能用字母、数字和 - _ .）", "int_type": "请填写整数",
               "int_parsing": "请填写整数", "decimal_parsing": "请填写数字", "decimal_type": "请填写数字",
               "decimal_max_places": "最多两位小数", "decimal_max_digits": "数字太大",
               "greater_than_equal": "太小了", "less_than_equal": "太大了", "int_from_float": "请填写整数"}


def _errors(exc: ValidationError | DomainError, lang: i18n.Lang) -> list[str]:
    """Each refusal as `字段：怎么改` on a Chinese page (the API's own words for rules pydantic does not check)."""
    if lang != "zh":
        return form_errors(exc)
    if isinstance(exc, DomainError):
        listed = [e for e in exc.extra.get("errors", []) if isinstance(e, dict)]
        if not listed:
            return form_errors(exc)
        return [f"{_where(str(e.get('field', '')).split('.'))}：{e.get('message')}" for e in listed]
    out = []
    for e in exc.errors():
        loc = [str(p) for p in e["loc"]]
        where = _where(loc)
        message = PYDANTIC_ZH.get(e["type"]) or str(e["msg"]).removeprefix("Value error, ")
        out.append(f"{where}：{message}" if where else message)
    return out


def _where(loc: list[str]) -> str:
    """`variants.2.price` -> 第 3 个价格: the field's name on the page, with the row it is in."""
    names = [FIELD_NAMES.get(p, p) for p in loc if p and not p.isdigit()]
    rows = [f"第 {int(p) + 1} 个" for p in loc if p.isdigit()]
    return "".join(rows) + (names[-1] if names else "")


def _why(request: Request, exc: ValidationError | DomainError) -> list[str]:
    return _errors(exc, lang_of(request))


def _policy(request: Request) -> moderation.ListingPolicy:
    return moderation.policy_from(request.app.state.settings)


async def _own_product(session: AsyncSession, merchant: Principal, product_id: str) -> dict[str, Any]:
    found = await catalog_service.products_by_ids(session, [product_id[:40]])
    if not found or found[0]["merchant_id"] != merchant.tenant:
        raise NotFound("product", product_id)
    return found[0]


# ---- product list and bulk edit --------------------------------------------------------------------------

async def _list_page(request: Request, session: AsyncSession, merchant: Principal, *, errors: list[str],
                     status: int = 200) -> Response:
    cursor = request.query_params.get("cursor")
    before = decode_cursor(cursor) if cursor else None
    products, last = await catalog_service.list_products(
        session=session, q=(request.query_params.get("q") or "")[:100] or None, category=None,
        merchant_id=merchant.tenant, viewer_merchant_id=merchant.tenant, before=before, limit=PAGE)
    query = {k: v for k, v in {"q": request.query_params.get("q") or "",
                               "cursor": encode_cursor(last) if last else ""}.items() if v}
    return _page(request, "products.html", {
        "products": products, "categories": await catalog_service.list_categories(session=session),
        "errors": errors, "next_url": f"/console/catalog/products?{urlencode(query)}" if last else None,
        "paged": bool(cursor), "q": request.query_params.get("q") or "",
        "done": _int(request.query_params.get("done"))}, status=status)


@router.get("/products")
async def product_list(request: Request, session: SessionDep) -> Response:
    return await _list_page(request, session, await _merchant(request, session, "products.view"), errors=[])


@router.post("/products/bulk")
async def product_bulk(request: Request, session: SessionDep) -> Response:
    merchant = await _merchant(request, session, "products.edit")
    v, form = await _form(request)
    ids = [str(x)[:40] for x in form.getlist("product_id")][:500]
    percent: Decimal | None = None
    if v.get("price_percent"):
        try:
            percent = Decimal(v["price_percent"].replace("%", ""))
        except InvalidOperation:
            return await _list_page(request, session, merchant, errors=["价格调整：请填写数字，如 -10"],
                                    status=422)
    try:
        body = BulkEdit.model_validate({"product_ids": ids, "status": v.get("status") or None,
                                        "category": v.get("category") or None, "price_percent": percent})
        out = await work.bulk_edit(session=session, merchant_id=merchant.tenant, body=body, policy=_policy(request))
    except (ValidationError, DomainError) as exc:
        await session.rollback()
        return await _list_page(request, session, merchant, errors=_why(request, exc), status=422)
    return redirect(f"/console/catalog/products?done={out['updated']}")


# ---- create and edit -------------------------------------------------------------------------------------

async def _new_page(request: Request, session: AsyncSession, *, values: dict[str, str], errors: list[str],
                    status: int = 200) -> Response:
    return _page(request, "new.html", {"categories": await catalog_service.list_categories(session=session),
                                       "v": values, "errors": errors, "max_options": options.MAX_OPTIONS},
                 status=status)


@router.get("/products/new")
async def new_product(request: Request, session: SessionDep) -> Response:
    await _merchant(request, session, "products.edit")
    return await _new_page(request, session, values={}, errors=[])


@router.post("/products/new")
async def create_product(request: Request, session: SessionDep) -> Response:
    """A product with its whole options matrix: one variant per combination, SKUs from the prefix."""
    merchant = await _merchant(request, session, "products.edit")
    v, _ = await _form(request)
    chosen = _options_from(v)
    prefix = v.get("sku_prefix", "")
    combos = options.combinations(chosen) if chosen and all(o["values"] for o in chosen) else [{}]
    try:
        body = ProductCreate.model_validate({
            "title": v.get("title"), "category": v.get("category"), "description": v.get("description", ""),
            "status": v.get("status") or "draft", "options": chosen or None, "tax_rate": _tax_rate(v),
            "variants": [{"sku": options.sku_for(prefix, c, chosen) if c else prefix, "price": _fen(v.get("price")),
                          "attributes": c} for c in combos][:options.MAX_VARIANTS + 1]})
        product = await catalog_service.create_product(session=session, merchant_id=merchant.tenant,
                                                       product_in=body, policy=_policy(request))
    except (ValidationError, DomainError) as exc:
        await session.rollback()
        return await _new_page(request, session, values=v, errors=_why(request, exc), status=422)
    return redirect(f"/console/catalog/products/{product['id']}")


def _tax_rate(v: dict[str, str]) -> int | str | None:
    """The form's VAT rate: empty is the category's usual rate (None); a number goes to the schema as one (it
    checks the value), anything else as it came (a 422 naming the field)."""
    raw = v.get("tax_rate") or ""
    return int(raw) if raw.isdigit() and len(raw) <= 3 else (raw or None)


def _common_prefix(product: dict[str, Any]) -> str:
    """What the variants' SKUs start with (MY-TS of MY-TS-V1-M ...): the suggested prefix for new ones."""
    parts = [v["sku"].split("-") for v in product["variants"]]
    shared: list[str] = []
    for column in zip(*parts, strict=False):  # the leading parts every SKU has in the same place
        if len(set(column)) != 1:
            break
        shared.append(column[0])
    return "-".join(shared) or (parts[0][0] if parts else "")


async def _edit_page(request: Request, session: AsyncSession, merchant: Principal, product_id: str, *,
                     errors: list[str], status: int = 200) -> Response:
    product = await _own_product(session, merchant, product_id)
    image_of = {v["id"]: (v["media"][0]["id"] if v["media"] else "") for v in product["variants"]}
    return _page(request, "edit.html", {
        "p": product, "categories": await catalog_service.list_categories(session=session), "errors": errors,
        "locations": await merchants_service.list_locations(session=session, merchant_id=merchant.tenant),
        "image_of": image_of, "max_options": options.MAX_OPTIONS, "sku_prefix": _common_prefix(product),
        "shipping_templates": await logistics_service.list_templates(session=session, merchant_id=merchant.tenant),
        "saved": request.query_params.get("saved") == "1"}, status=status)


@router.get("/products/{product_id}")
async def edit_product(request: Request, product_id: str, session: SessionDep) -> Response:
    merchant = await _merchant(request, session, "products.view")
    return await _edit_page(request, session, merchant, product_id, errors=[])


async def _apply(request: Request, session: AsyncSession, merchant: Principal, product_id: str,
                 change: Callable[[], Any]) -> Response:
    """Run one change; on a refusal show the editor again with what to fix (nothing was changed)."""
    await _own_product(session, merchant, product_id)
    try:
        await change()
    except (ValidationError, DomainError) as exc:
        await session.rollback()
        return await _edit_page(request, session, merchant, product_id, errors=_why(request, exc), status=422)
    return redirect(f"/console/catalog/products/{product_id}?saved=1")


@router.post("/products/{product_id}")
async def save_basics(request: Request, product_id: str, session: SessionDep) -> Response:
    merchant = await _merchant(request, session, "products.edit")
    v, _ = await _form(request)

    async def change() -> None:
        patch = ProductPatch.model_validate({"title": v.get("title"), "category": v.get("category"),
                                             "description": v.get("description", ""), "status": v.get("status"),
                                             "shipping_template_id": v.get("shipping_template_id") or None,
                                             **({"tax_rate": _tax_rate(v)} if "tax_rate" in v else {})})
        await catalog_service.update_product(session=session, merchant_id=merchant.tenant, product_id=product_id,
                                             patch=patch, policy=_policy(request))
    return await _apply(request, session, merchant, product_id, change)


@router.post("/products/{product_id}/status/{status}")
async def set_status(request: Request, product_id: str, status: str, session: SessionDep) -> Response:
    """The archive / restore buttons."""
    merchant = await _merchant(request, session, "products.edit")
    await _form(request)

    async def change() -> None:
        patch = ProductPatch.model_validate({"status": status})
        await catalog_service.update_product(session=session, merchant_id=merchant.tenant, product_id=product_id,
                                             patch=patch, policy=_policy(request))
    return await _apply(request, session, merchant, product_id, change)


@router.post("/products/{product_id}/duplicate")
async def duplicate(request: Request, product_id: str, session: SessionDep) -> Response:
    merchant = await _merchant(request, session, "products.edit")
    v, _ = await _form(request)
    await _own_product(session, merchant, product_id)
    try:
        copy = await work.duplicate_product(session=session, merchant_id=merchant.tenant, product_id=product_id,
                                            body=DuplicateIn.model_validate({"sku_suffix": v.get("sku_suffix")
                                                                             or "-COPY"}),
                                            policy=_policy(request))
    except (ValidationError, DomainError) as exc:
        await session.rollback()
        return await _edit_page(request, session, merchant, product_id, errors=_why(request, exc), status=422)
    return redirect(f"/console/catalog/products/{copy['id']}")


@router.post("/products/{product_id}/options")
async def save_options(request: Request, product_id: str, session: SessionDep) -> Response:
    merchant = await _merchant(request, session, "products.edit")
    v, _ = await _form(request)

    async def change() -> None:
        price = _fen(v.get("fill_price"))
        fill = {"price": price, "sku_prefix": v.get("sku_prefix") or None} if price is not None else None
        body = OptionsPut.model_validate({"options": _options_from(v), "fill": fill})
        await catalog_service.set_options(session=session, merchant_id=merchant.tenant, product_id=product_id,
                                          body=body)
    return await _apply(request, session, merchant, product_id, change)


@router.post("/products/{product_id}/variants")
async def save_variants(request: Request, product_id: str, session: SessionDep, settings: SettingsDep) -> Response:
    """Every variant's price, barcode, weight and picture in one save; the fill fields set all prices (and the
    stock at one location) at once. Prices first, in one transaction; then the stock counts."""
    merchant = await _merchant(request, session, "products.edit")
    v, _ = await _form(request)
    product = await _own_product(session, merchant, product_id)
    fill_price = _fen(v.get("fill_price")) if v.get("fill_price") else None
    errors: list[str] = []
    if v.get("fill_price") and fill_price is None:
        errors.append(f"统一价格：{v['fill_price']} 不是金额，请填写如 79.00")
    rows: list[dict[str, Any]] = []
    for i, variant in enumerate(product["variants"]):
        price = fill_price if fill_price is not None else _fen(v.get(f"price_{i}"))
        if price is None:
            errors.append(f"{variant['sku']} 的价格：请填写金额，如 79.00")
        weight = v.get(f"weight_{i}", "")
        row: dict[str, Any] = {"sku": variant["sku"], "price": price, "barcode": v.get(f"barcode_{i}") or None,
                               "weight": _int(weight) if weight else None,
                               "image_id": v.get(f"image_{i}") or None}
        if weight and row["weight"] is None:
            errors.append(f"{variant['sku']} 的重量：请填写整数克数")
        rows.append(row)
    stock = _int(v.get("fill_stock")) if v.get("fill_stock") else None
    location_id = v.get("location_id", "")
    if v.get("fill_stock") and (stock is None or not 0 <= stock <= 10**9):
        errors.append("统一库存：请填写 0 或正整数")
    if stock is not None and await merchants_service.get_location(
            session=session, merchant_id=merchant.tenant, location_id=location_id) is None:
        errors.append("库存地点：请选择您的库存地点")
    if errors:
        return await _edit_page(request, session, merchant, product_id, errors=errors, status=422)

    async def change() -> None:
        patch = ProductPatch.model_validate({"variants": rows})
        await catalog_service.update_product(session=session, merchant_id=merchant.tenant, product_id=product_id,
                                             patch=patch, policy=_policy(request))
        if stock is not None:  # a count of every variant at that location, in the ledger like any count
            for variant in product["variants"]:
                await inventory_service.set_on_hand(session, merchant_id=merchant.tenant, location_id=location_id,
                                                    variant_id=variant["id"], on_hand=stock, source="console",
                                                    key=f"console:{new_id('cnt')}", safety_stock=None)
            await session.commit()
    return await _apply(request, session, merchant, product_id, change)


@router.post("/products/{product_id}/media")
async def upload_pictures(request: Request, product_id: str, session: SessionDep, settings: SettingsDep) -> Response:
    merchant = await _merchant(request, session, "products.edit")
    v, form = await _form(request)
    await _own_product(session, merchant, product_id)
    files = [f for f in form.getlist("files") if isinstance(f, UploadFile) and f.filename][:MAX_UPLOADS]
    if not files:
        return await _edit_page(request, session, merchant, product_id, errors=["图片：请选择要上传的图片"], status=422)
    limits = media_service.Limits(settings.shop_media_max_bytes, settings.shop_media_max_pixels)
    errors: list[str] = []
    for upload in files:  # each picture is its own upload, as through the API: a bad one does not stop the rest
        try:
            await media_service.add_media(session=session, storage=request.app.state.media_storage, limits=limits,
                                          merchant_id=merchant.tenant, product_id=product_id,
                                          data=await upload.read(limits.max_bytes + 1), alt=v.get("alt", "")[:200],
                                          variant_id=None, position=None)
        except DomainError as exc:
            await session.rollback()
            errors += [f"{upload.filename}: {m}" for m in _why(request, exc)]
    if errors:
        return await _edit_page(request, session, merchant, product_id, errors=errors, status=422)
    return redirect(f"/console/catalog/products/{product_id}?saved=1#pictures")


@router.post("/products/{product_id}/media/{media_id}")
async def picture_action(request: Request, product_id: str, media_id: str, session: SessionDep) -> Response:
    """Save a picture's alt text, move it one place, or delete it."""
    merchant = await _merchant(request, session, "products.edit")
    v, _ = await _form(request)
    product = await _own_product(session, merchant, product_id)
    order = [m["id"] for m in product["media"]]
    action = v.get("action", "save")

    async def change() -> None:
        if action == "delete":
            await media_service.delete_media(session=session, merchant_id=merchant.tenant, product_id=product_id,
                                             media_id=media_id)
            return
        patch: dict[str, Any] = {"alt": v.get("alt", "")}
        if action in ("up", "down") and media_id in order:
            patch["position"] = max(order.index(media_id) + (-1 if action == "up" else 1), 0)
        await media_service.update_media(session=session, merchant_id=merchant.tenant, product_id=product_id,
                                         media_id=media_id, patch=MediaPatch.model_validate(patch))
    return await _apply(request, session, merchant, product_id, change)


# ---- collections -----------------------------------------------------------------------------------------

def _rule_from(v: dict[str, str]) -> dict[str, Any]:
    rule = {"category": v.get("rule_category") or None, "keyword": v.get("keyword") or None,
            "price_min": _fen(v.get("price_min")), "price_max": _fen(v.get("price_max"))}
    return {k: x for k, x in rule.items() if x is not None}


async def _collections_page(request: Request, session: AsyncSession, merchant: Principal, *, errors: list[str],
                            values: dict[str, str] | None = None, status: int = 200) -> Response:
    cursor = request.query_params.get("cursor")
    found, last = await collections_service.list_collections(
        session=session, merchant_id=merchant.tenant, viewer_merchant_id=merchant.tenant,
        before=decode_cursor(cursor) if cursor else None, limit=PAGE)
    categories = await catalog_service.list_categories(session=session)
    names = {c.slug: c.name_zh for c in categories}
    return _page(request, "collections.html", {
        "collections": [{**c, "rule_text": describe_rule(c["rule"], names)} for c in found],
        "categories": categories, "errors": errors, "v": values or {},
        "next_url": f"/console/catalog/collections?cursor={encode_cursor(last)}" if last else None},
        status=status)


@router.get("/collections")
async def collections(request: Request, session: SessionDep) -> Response:
    return await _collections_page(request, session, await _merchant(request, session, "products.view"), errors=[])


@router.post("/collections")
async def create_collection(request: Request, session: SessionDep) -> Response:
    merchant = await _merchant(request, session, "products.edit")
    v, form = await _form(request)
    kind = v.get("kind") or "manual"
    try:
        body = CollectionIn.model_validate({
            "title": v.get("title"), "description": v.get("description", ""), "kind": kind,
            "rule": _rule_from(v) if kind == "rule" else None,
            "product_ids": [str(x)[:40] for x in form.getlist("product_id")][:500] if kind == "manual" else []})
        created = await collections_service.create_collection(session=session, merchant_id=merchant.tenant,
                                                              body=body, policy=_policy(request))
    except (ValidationError, DomainError) as exc:
        await session.rollback()
        return await _collections_page(request, session, merchant, errors=_why(request, exc), values=v, status=422)
    return redirect(f"/console/catalog/collections/{created['id']}")


async def _collection_page(request: Request, session: AsyncSession, merchant: Principal, collection_id: str, *,
                           errors: list[str], status: int = 200) -> Response:
    collection = await collections_service.get_collection(session=session, collection_id=collection_id[:40],
                                                          viewer_merchant_id=merchant.tenant)
    if collection["merchant_id"] != merchant.tenant:
        raise NotFound("collection", collection_id)
    cursor = request.query_params.get("cursor")
    members, last = await collections_service.products_page(
        session=session, collection_id=collection["id"], viewer_merchant_id=merchant.tenant,
        after=decode_cursor(cursor) if cursor else None, limit=PAGE)
    candidates: list[dict[str, Any]] = []
    if collection["kind"] == "manual":
        candidates, _ = await catalog_service.list_products(
            session=session, q=(request.query_params.get("q") or "")[:100] or None, category=None,
            merchant_id=merchant.tenant, viewer_merchant_id=merchant.tenant, before=None, limit=PAGE)
        inside = {p["id"] for p in members}
        candidates = [p for p in candidates if p["id"] not in inside]
    categories = await catalog_service.list_categories(session=session)
    return _page(request, "collection.html", {
        "c": collection, "members": members, "candidates": candidates, "categories": categories,
        "rule_text": describe_rule(collection["rule"], {x.slug: x.name_zh for x in categories}),
        "errors": errors, "q": request.query_params.get("q") or "",
        "next_url": f"/console/catalog/collections/{collection['id']}?cursor={encode_cursor(last)}" if last else None},
        status=status)


@router.get("/collections/{collection_id}")
async def collection(request: Request, collection_id: str, session: SessionDep) -> Response:
    merchant = await _merchant(request, session, "products.view")
    return await _collection_page(request, session, merchant, collection_id, errors=[])


@router.post("/collections/{collection_id}")
async def collection_action(request: Request, collection_id: str, session: SessionDep) -> Response:
    """Save the texts (and the rule), add ticked products, remove one, or delete the collection."""
    merchant = await _merchant(request, session, "products.edit")
    v, form = await _form(request)
    action = v.get("action", "save")
    try:
        if action == "delete":
            await collections_service.delete_collection(session=session, merchant_id=merchant.tenant,
                                                        collection_id=collection_id)
            return redirect("/console/catalog/collections")
        if action == "add":
            await collections_service.add_products(session=session, merchant_id=merchant.tenant,
                                                   collection_id=collection_id,
                                                   product_ids=[str(x)[:40] for x in form.getlist("product_id")][:500])
        elif action == "remove":
            await collections_service.remove_product(session=session, merchant_id=merchant.tenant,
                                                     collection_id=collection_id,
                                                     product_id=v.get("product_id", "")[:40])
        else:
            current = await collections_service.get_collection(session=session, collection_id=collection_id[:40],
                                                               viewer_merchant_id=merchant.tenant)
            patch = CollectionPatch.model_validate({
                "title": v.get("title"), "description": v.get("description", ""),
                **({"rule": _rule_from(v)} if current["kind"] == "rule" else {})})
            await collections_service.update_collection(session=session, merchant_id=merchant.tenant,
                                                        collection_id=collection_id, patch=patch,
                                                        policy=_policy(request))
    except (ValidationError, DomainError) as exc:
        await session.rollback()
        if isinstance(exc, NotFound):
            raise
        return await _collection_page(request, session, merchant, collection_id, errors=_why(request, exc),
                                      status=422)
    return redirect(f"/console/catalog/collections/{collection_id}")


# ---- imports ---------------------------------------------------------------------------------------------

def _local(value: Any) -> str:
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S") if value else ""


async def _imports_page(request: Request, session: AsyncSession, merchant: Principal, *, errors: list[str],
                        status: int = 200) -> Response:
    jobs, _ = await imports_service.list_jobs(session=session, merchant_id=merchant.tenant, before=None, limit=20)
    return _page(request, "imports.html", {"jobs": jobs, "errors": errors, "local": _local}, status=status)


@router.get("/imports")
async def imports(request: Request, session: SessionDep) -> Response:
    return await _imports_page(request, session, await _merchant(request, session, "products.view"), errors=[])


@router.post("/imports")
async def start_import(request: Request, session: SessionDep, settings: SettingsDep,
                       background: BackgroundTasks) -> Response:
    """Keep the file and start the job (as `POST /v1/imports/...` does); the page then shows its progress."""
    merchant = await _merchant(request, session, "products.edit")
    v, form = await _form(request)
    upload = form.get("file")
    kind = v.get("kind") or "products"
    if kind not in imports_service.KINDS:
        kind = "products"
    if not isinstance(upload, UploadFile) or not upload.filename:
        return await _imports_page(request, session, merchant, errors=["文件：请选择 CSV 文件"], status=422)
    storage = request.app.state.media_storage
    try:
        job = await imports_service.create_job(session=session, storage=storage, settings=settings,
                                               merchant_id=merchant.tenant, kind=kind, body=await upload.read(),
                                               pictures=[], apply_good_rows=v.get("apply_good_rows") == "1")
    except DomainError as exc:
        await session.rollback()
        return await _imports_page(request, session, merchant, errors=_why(request, exc), status=422)
    background.add_task(imports_service.run_job, request.app.state.sessionmaker, settings, storage, job["id"])
    return redirect(f"/console/catalog/imports/{job['id']}")


@router.get("/exports/{kind}.csv")
async def export(request: Request, kind: str, session: SessionDep) -> Response:
    """The API's exports for a signed-in merchant, in GBK: what Excel in China opens directly."""
    merchant = await _merchant(request, session, "products.view")
    await session.commit()  # the export reads in its own sessions: end this one's transaction (SQLite's lock)
    factory = request.app.state.sessionmaker
    if kind == "products":
        chunks = imports_service.export_products(factory, merchant_id=merchant.tenant, encoding="gbk")
    elif kind == "stock":
        chunks = imports_service.export_stock(factory, merchant_id=merchant.tenant, encoding="gbk")
    else:
        raise NotFound("export", kind)
    return StreamingResponse(chunks, media_type="text/csv; charset=gb18030",
                             headers={"Content-Disposition": f'attachment; filename="{kind}.csv"'})


@router.get("/imports/{job_id}")
async def import_job(request: Request, job_id: str, session: SessionDep) -> Response:
    merchant = await _merchant(request, session, "products.view")
    job = await imports_service.get_job(session=session, merchant_id=merchant.tenant, job_id=job_id[:40])
    return _page(request, "import.html", {"job": job, "local": _local,
                                          "running": job["status"] in ("queued", "running")})


# ---- stock moves -----------------------------------------------------------------------------------------

async def _stock_page(request: Request, session: AsyncSession, merchant: Principal, *, errors: list[str],
                      status: int = 200) -> Response:
    locations = await merchants_service.list_locations(session=session, merchant_id=merchant.tenant)
    transfers, _ = await moves_service.list_transfers(session, merchant_id=merchant.tenant, before=None, limit=20)
    return _page(request, "stock.html", {
        "locations": locations, "names": {loc.id: loc.name for loc in locations}, "transfers": transfers,
        "low": await moves_service.list_low(session, merchant_id=merchant.tenant), "errors": errors,
        "reasons": ["damaged", "found", "returned_to_supplier", "shrinkage", "correction", "other"],
        "local": _local}, status=status)


@router.get("/stock")
async def stock(request: Request, session: SessionDep) -> Response:
    return await _stock_page(request, session, await _merchant(request, session, "stock.view"), errors=[])


@router.post("/stock/{action}")
async def stock_action(request: Request, action: str, session: SessionDep) -> Response:
    """Adjust with a reason, send a transfer, receive or cancel one, or set a low-stock alert."""
    merchant = await _merchant(request, session, "stock.edit")
    v, _ = await _form(request)
    tenant = merchant.tenant
    try:
        match action:
            case "adjust":
                body = AdjustIn.model_validate({"quantity": _int(v.get("quantity")), "reason": v.get("reason"),
                                                "note": v.get("note", "")[:60]})
                await _location(session, tenant, v.get("location_id", ""))
                await moves_service.adjust(session, merchant_id=tenant, location_id=v["location_id"],
                                           sku=v.get("sku", "")[:64], quantity=body.quantity, reason=body.reason,
                                           note=body.note, key=None)
            case "transfer":
                lines = []
                for raw in v.get("lines", "").splitlines():
                    parts = raw.replace("，", " ").replace(",", " ").split()
                    if parts:
                        lines.append({"sku": parts[0], "quantity": _int(parts[1]) if len(parts) > 1 else None})
                transfer = TransferIn.model_validate({"from_location_id": v.get("from_location_id", ""),
                                                      "to_location_id": v.get("to_location_id", ""), "lines": lines,
                                                      "note": v.get("note", "")[:500]})
                await moves_service.create_transfer(session, merchant_id=tenant,
                                                    from_location_id=transfer.from_location_id,
                                                    to_location_id=transfer.to_location_id,
                                                    lines=[(line.sku, line.quantity) for line in transfer.lines],
                                                    note=transfer.note)
            case "receive" | "cancel":
                await moves_service.close_transfer(session, merchant_id=tenant,
                                                   transfer_id=v.get("transfer_id", "")[:40],
                                                   receive=action == "receive")
            case "threshold":
                low = _int(v.get("low_stock")) if v.get("low_stock") else None
                if v.get("low_stock") and (low is None or not 0 <= low <= 10**9):
                    raise ValueError("提醒阈值：请填写 0 或正整数")
                await _location(session, tenant, v.get("location_id", ""))
                await moves_service.set_threshold(session, merchant_id=tenant, location_id=v["location_id"],
                                                  sku=v.get("sku", "")[:64], low_stock=low)
            case _:
                raise NotFound("action", action)
    except (ValidationError, DomainError, ValueError) as exc:
        await session.rollback()
        if isinstance(exc, NotFound) and exc.detail.startswith("action"):
            raise
        messages = [str(exc)] if not isinstance(exc, ValidationError | DomainError) else _why(request, exc)
        return await _stock_page(request, session, merchant, errors=messages, status=422)
    return redirect("/console/catalog/stock")


async def _location(session: AsyncSession, merchant_id: str, location_id: str) -> None:
    if await merchants_service.get_location(session=session, merchant_id=merchant_id,
                                            location_id=location_id[:40]) is None:
        raise ValueError("地点：请选择您的库存地点")
