from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, BackgroundTasks, Query, Request
from starlette.datastructures import UploadFile
from starlette.responses import StreamingResponse

from app.catalog.media.api import StorageDep
from app.core.deps import MerchantDep, SessionDep, SettingsDep
from app.core.errors import DomainError, field_error
from app.imports import service
from app.imports.schemas import ImportJobOut

router = APIRouter(tags=["imports"])
Kind = Literal["products", "stock"]
Encoding = Annotated[Literal["utf-8", "gbk"], Query(description="gbk: what Excel in China opens directly")]
MAX_PICTURES = 200


class UnsupportedMediaType(DomainError):
    status = 415
    type_slug = "unsupported-media-type"
    title = "Unsupported media type"


_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "text/csv": {"schema": {"type": "string"}},
    "multipart/form-data": {"schema": {"type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary", "description": "The CSV"},
        "images": {"type": "array", "items": {"type": "string", "format": "binary"},
                   "description": "Pictures the CSV names by file name (products)"}}}}}}}


async def _read_upload(request: Request) -> tuple[bytes, list[tuple[str, bytes]]]:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind in ("text/csv", "text/plain", "application/csv"):
        return await request.body(), []
    if not kind and not await request.body():
        raise field_error("file", "required: the CSV, as text/csv or as `file` in multipart/form-data")
    if kind != "multipart/form-data":
        raise UnsupportedMediaType("send the CSV as text/csv, or as `file` in multipart/form-data")
    form = await request.form(max_files=MAX_PICTURES + 1, max_fields=10)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise field_error("file", "required: the CSV file")
    pictures = []
    for item in form.getlist("images"):
        if not isinstance(item, UploadFile) or not item.filename:
            raise field_error("images", "each picture is a file with a name")
        pictures.append((item.filename, await item.read()))
    return await upload.read(), pictures


ApplyGoodRows = Annotated[bool, Query(description="Apply the good rows even if some are bad")]


@router.post("/v1/imports/products", status_code=202, response_model=ImportJobOut, openapi_extra=_BODY)
async def import_products(request: Request, merchant: MerchantDep, session: SessionDep, settings: SettingsDep,
                          storage: StorageDep, background: BackgroundTasks, apply_good_rows: ApplyGoodRows = False
                          ) -> ImportJobOut:
    """Start importing products, one row per variant, with their pictures (UTF-8 or GBK, detected; at most
    10,000 rows): poll `GET /v1/imports/{id}`. The format is the export's; see the README."""
    return await _start(request, "products", merchant.tenant, session, settings, storage, background,
                        apply_good_rows)


@router.post("/v1/imports/stock", status_code=202, response_model=ImportJobOut, openapi_extra=_BODY)
async def import_stock(request: Request, merchant: MerchantDep, session: SessionDep, settings: SettingsDep,
                       storage: StorageDep, background: BackgroundTasks, apply_good_rows: ApplyGoodRows = False
                       ) -> ImportJobOut:
    """Start importing counted stock levels (sku, location code, on_hand, safety_stock): poll
    `GET /v1/imports/{id}`."""
    return await _start(request, "stock", merchant.tenant, session, settings, storage, background, apply_good_rows)


async def _start(request: Request, kind: Kind, merchant_id: str, session: SessionDep, settings: SettingsDep,
                 storage: StorageDep, background: BackgroundTasks, apply_good_rows: bool) -> ImportJobOut:
    body, pictures = await _read_upload(request)
    job = await service.create_job(session=session, storage=storage, settings=settings, merchant_id=merchant_id,
                                   kind=kind, body=body, pictures=pictures, apply_good_rows=apply_good_rows)
    background.add_task(service.run_job, request.app.state.sessionmaker, settings, storage, job["id"])
    return ImportJobOut.model_validate(job)


@router.get("/v1/imports/{job_id}", response_model=ImportJobOut)
async def get_import(job_id: str, merchant: MerchantDep, session: SessionDep) -> ImportJobOut:
    """Progress, then outcome: every bad row by line and field."""
    return ImportJobOut.model_validate(await service.get_job(session=session, merchant_id=merchant.tenant,
                                                             job_id=job_id))


def _csv(request: Request, chunks: Any, name: str, encoding: str) -> StreamingResponse:
    charset = "utf-8" if encoding == "utf-8" else "gb18030"
    return StreamingResponse(chunks, media_type=f"text/csv; charset={charset}",
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/v1/exports/products.csv", response_class=StreamingResponse,
            responses={200: {"content": {"text/csv": {}}}})
async def export_products(request: Request, merchant: MerchantDep, encoding: Encoding = "utf-8"
                          ) -> StreamingResponse:
    """Every product of the merchant, one row per variant, in the import's format (streamed)."""
    return _csv(request, service.export_products(request.app.state.sessionmaker, merchant_id=merchant.tenant,
                                                 encoding=encoding), "products.csv", encoding)


@router.get("/v1/exports/stock.csv", response_class=StreamingResponse, responses={200: {"content": {"text/csv": {}}}})
async def export_stock(request: Request, merchant: MerchantDep, encoding: Encoding = "utf-8") -> StreamingResponse:
    """Every stock level of the merchant (SKU, location code, on_hand, safety_stock), streamed."""
    return _csv(request, service.export_stock(request.app.state.sessionmaker, merchant_id=merchant.tenant,
                                              encoding=encoding), "stock.csv", encoding)
