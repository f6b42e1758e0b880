from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from starlette.responses import FileResponse, Response

from app.catalog.media import service
from app.catalog.media.schemas import MAX_ALT, MediaOut, MediaPatch
from app.catalog.media.storage.base import CACHE_CONTROL, CONTENT_TYPE, MediaStorage
from app.core.deps import MerchantDep, SessionDep, SettingsDep
from app.core.errors import NotFound

router = APIRouter(tags=["media"])
KEY = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{64}\.webp$")


def get_storage(request: Request) -> MediaStorage:
    storage: MediaStorage = request.app.state.media_storage
    return storage


StorageDep = Annotated[MediaStorage, Depends(get_storage)]


@router.post("/v1/products/{product_id}/media", status_code=201, response_model=MediaOut)
async def upload_media(
    product_id: str, merchant: MerchantDep, session: SessionDep, settings: SettingsDep, storage: StorageDep,
    file: Annotated[UploadFile, File(description="JPEG, PNG, WebP or GIF (first frame); at most 10 MB and 40 "
                                                 "megapixels")],
    alt: Annotated[str, Form(max_length=MAX_ALT, description="Text for people who cannot see it")] = "",
    variant_id: Annotated[str | None, Form(max_length=40, description="Show it for this variant too")] = None,
    position: Annotated[int | None, Form(ge=0, le=10_000, description="Where among the product's pictures "
                                                                        "(default: last)")] = None,
) -> MediaOut:
    """Judged by its content, not its name; EXIF (GPS positions included) removed, orientation applied;
    stored as WebP renditions. The same file uploaded twice is stored once."""
    limits = service.Limits(settings.shop_media_max_bytes, settings.shop_media_max_pixels)
    data = await file.read(limits.max_bytes + 1)
    item = await service.add_media(session=session, storage=storage, limits=limits, merchant_id=merchant.tenant,
                                   product_id=product_id, data=data, alt=alt, variant_id=variant_id or None,
                                   position=position)
    return MediaOut.model_validate(item)


@router.patch("/v1/products/{product_id}/media/{media_id}", response_model=MediaOut)
async def update_media(product_id: str, media_id: str, body: MediaPatch, merchant: MerchantDep,
                       session: SessionDep) -> MediaOut:
    item = await service.update_media(session=session, merchant_id=merchant.tenant, product_id=product_id,
                                      media_id=media_id, patch=body)
    return MediaOut.model_validate(item)


@router.delete("/v1/products/{product_id}/media/{media_id}", status_code=204, response_class=Response)
async def delete_media(product_id: str, media_id: str, merchant: MerchantDep, session: SessionDep) -> Response:
    await service.delete_media(session=session, merchant_id=merchant.tenant, product_id=product_id,
                               media_id=media_id)
    return Response(status_code=204)


@router.get("/media/{key:path}", include_in_schema=False)
async def media_file(key: str, storage: StorageDep) -> FileResponse:
    """A stored rendition of the local folder; its name is its content's hash, so it never changes."""
    path = storage.local_path(key) if KEY.match(key) else None
    if path is None or not path.is_file():
        raise NotFound("media file")
    return FileResponse(path, media_type=CONTENT_TYPE, headers={"Cache-Control": CACHE_CONTROL})
