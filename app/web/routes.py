"""All page routers, mounted by app.main (the console and leader pages before the storefront's catch-alls)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from app.web import (
    collection_pages,
    console,
    console_catalog,
    console_payments,
    leader,
    payment,
    shipping,
    storefront,
)

router = APIRouter(include_in_schema=False)
router.include_router(shipping.router)
router.include_router(console.router)
router.include_router(console_payments.router)
router.include_router(leader.router)
router.include_router(payment.router)
router.include_router(console_catalog.router)
router.include_router(collection_pages.router)
router.include_router(storefront.router)

STATIC_DIR = Path(__file__).parent / "static"


def mount_static(app: FastAPI) -> None:
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
