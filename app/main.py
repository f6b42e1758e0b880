"""The application factory: settings, database, middleware, routers, error handlers."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi_offline import FastAPIOffline
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import configure_mappers
from starlette.responses import Response

from app import jobs
from app.catalog.api import router as catalog_router
from app.catalog.collections.api import router as collections_router
from app.catalog.media import storage as media_storage
from app.catalog.media.api import router as media_router
from app.catalog.search import service as search_service
from app.catalog.search import text as search_text
from app.catalog.search.api import router as search_router
from app.catalog.search.live import LiveIndex
from app.catalog.search.suggestions import Suggestions
from app.community.api import router as community_router
from app.config import Settings, check_production, get_settings, icp_problem
from app.core import docs, heap, openapi
from app.core.cache import PageCache
from app.core.http import BodyLimitMiddleware, MetricsMiddleware, install_error_handlers, problem
from app.core.inputs import InputGuardMiddleware
from app.core.logging import configure as configure_logging
from app.core.logging import get_logger
from app.core.ratelimit import RateLimitMiddleware, make_counter
from app.core.replica import ReadRouter
from app.core.routing import prefiltered
from app.core.security import configure_password_hashing
from app.db import DEFAULT_POOL_SIZE, make_engine, make_sessionmaker
from app.imports.api import router as imports_router
from app.inventory.api import router as inventory_router
from app.inventory.moves.api import router as moves_router
from app.inventory.pos.api import router as pos_router
from app.logistics.api import router as logistics_router
from app.merchants.api import router as merchants_router
from app.orders import lifecycle as orders_lifecycle
from app.orders import payments as orders_payments
from app.orders.api import router as orders_router
from app.orders.invoices.api import router as invoices_router
from app.payments.api import routers as payments_routers
from app.reports.api import router as reports_router
from app.retail import service as retail_service
from app.retail.api import router as retail_router
from app.retail.campaigns.api import router as campaigns_router
from app.retail.flash import service as flash_service
from app.retail.flash.admission import make_gate
from app.retail.flash.api import router as flash_router
from app.retail.messages.api import router as messages_router
from app.retail.privacy.api import router as privacy_router
from app.retail.tills.api import router as till_router
from app.trust import reputation
from app.trust.api import router as trust_router
from app.trust.audit import AuditMiddleware
from app.web.routes import mount_pages
from app.webhooks.api import router as webhooks_router
from app.wholesale.api import router as wholesale_router

log = get_logger("app")

DESCRIPTION = """Liutong (流通) — one order core and one stock pool for retail storefronts, wholesale
buyers, community group-buys and store POS terminals. Money is in integer minor units (fen); errors
are RFC 9457 problem documents."""


def install_hooks() -> None:
    """Wire what calls back across layers without importing upwards: the order core gives coupon uses back through
    retail, payment notifications reach the order core, and search sorts by the trust module's seller credit."""
    orders_lifecycle.install_coupon_release(retail_service.release_promotion_use)
    orders_lifecycle.install_cancel_hook("flash_sale", flash_service.give_back)
    orders_payments.install()
    search_service.install_seller_credit(reputation.credit_score_of)


def configure(app: FastAPI, settings: Settings, *, engine: AsyncEngine | None = None) -> None:
    """The app's state made from `settings`: database engines, caches, media storage, signing key, flash-sale gates.
    `create_app` calls it once; a test process that serves many tests from one app calls it again before each, so
    every test starts from fresh state (the routes, which cost most to build, stay). `engine`: one already made for
    `settings.database_url` (its pool disposed of, its compiled statements kept), instead of a new one."""
    if engine is None:
        engine = make_engine(settings.database_url, pool_size=settings.shop_db_pool_size or DEFAULT_POOL_SIZE,
                             pool_timeout=settings.shop_db_pool_timeout)
    replica = (make_engine(settings.database_replica_url, pool_size=settings.shop_db_pool_size or DEFAULT_POOL_SIZE,
                           pool_timeout=settings.shop_db_pool_timeout)
               if settings.database_replica_url else None)
    configure_password_hashing(time_cost=settings.shop_password_hash_time_cost,
                               memory_kib=settings.shop_password_hash_memory_kib,
                               parallelism=settings.shop_password_hash_parallelism)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.reads = ReadRouter(app.state.sessionmaker, replica, max_lag_seconds=settings.shop_replica_max_lag_seconds)
    app.state.catalog_cache = PageCache(settings.shop_catalog_cache_seconds)
    app.state.page_cache = PageCache(settings.shop_page_cache_seconds)
    app.state.suggestions = Suggestions(settings.shop_suggest_refresh_seconds)
    app.state.search_live = (LiveIndex.from_settings(app.state.sessionmaker, settings)
                             if settings.shop_search_memory else None)
    app.state.media_storage = media_storage.from_settings(settings)
    if not settings.shop_secret_key:
        log.warning("no SHOP_SECRET_KEY set: customer tokens are signed with a per-process key")
    app.state.secret_key = settings.shop_secret_key or secrets.token_urlsafe(32)
    app.state.flash_gate = make_gate(settings.redis_url)
    app.state.flash_counter = make_counter(settings.redis_url)  # per-second windows: a counter of its own


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    if settings.shop_search_warm_up:
        search_text.warm_up()  # the segmenter's dictionary, before the first search needs it
    if app.state.search_live is not None:
        app.state.search_live.start()  # the first searches are the database's until the copy is loaded
    configure_mappers()  # else the first request to use the ORM in each process pays for it, a long stall
    heap.settle()
    runner = (jobs.JobRunner(jobs.all_jobs(broker=bool(settings.nats_url)), app.state.sessionmaker, settings)
              if settings.shop_background_jobs else None)
    if runner:
        runner.start()
    try:
        yield
    finally:
        if runner:
            await runner.stop()
        if app.state.flash_gate is not None:
            await app.state.flash_gate.close()
        await app.state.suggestions.close()
        if app.state.search_live is not None:
            await app.state.search_live.close()
        await app.state.engine.dispose()
        await app.state.reads.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    check_production(settings)  # StartupRefused: no production site without its ICP number (C6)
    install_hooks()
    configure_logging(settings.shop_log_level, json=settings.shop_log_json)
    if settings.shop_env != "production" and (icp := icp_problem(settings)):
        log.warning("icp_number_placeholder", problem=icp, hint="SHOP_ENV=production refuses to start like this")

    # Swagger UI and ReDoc from the package's own copies (no CDN): /docs works offline and where CDNs are blocked.
    app = FastAPIOffline(title="Liutong", version="0.1.0", description=DESCRIPTION, lifespan=lifespan, redoc_url=None)
    docs.install(app)
    configure(app, settings)

    install_error_handlers(app)
    app.add_middleware(InputGuardMiddleware)
    # A picture upload may be twice the picture limit, so that one too large is refused naming its field.
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.shop_max_body_bytes,
                       larger={r"^/v1/products/[^/]+/media$": 2 * settings.shop_media_max_bytes,
                               r"^/v1/imports/": settings.shop_import_max_bytes},
                       read_seconds=settings.shop_body_timeout_seconds)
    app.add_middleware(RateLimitMiddleware, per_ip=settings.shop_rate_limit_ip_per_minute,
                       per_token=settings.shop_rate_limit_token_per_minute, counter=make_counter(settings.redis_url))
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(AuditMiddleware)

    @app.get("/healthz", tags=["ops"])
    async def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["ops"], response_model=None)
    async def readyz(request: Request) -> dict[str, Any] | Response:
        """The database answers. With a replica (DATABASE_REPLICA_URL): where the public reads go now (`reads`:
        replica or primary), why (`replica`: ok, lagging, down, not streaming) and its lag in seconds; a replica
        left behind does not make the process unready, the primary answers for it."""
        try:
            async with request.app.state.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        except Exception as exc:
            log.warning("readyz_failed", error=str(exc))
            return problem(503, "database unreachable", type_slug="not-ready", title="Not ready")
        replica = await request.app.state.reads.readiness()
        live = request.app.state.search_live
        return {"status": "ready", **(replica or {}), **({"search_copy": live.state} if live is not None else {})}

    @app.get("/metrics", tags=["ops"], include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    # In the order the API's document lists them. pos_router before inventory_router: its /v1/inventory/conflicts
    # must win over /v1/inventory/{sku}.
    api_routers = (merchants_router, catalog_router, collections_router, search_router, media_router, pos_router,
                   moves_router, inventory_router, retail_router, privacy_router, orders_router, *payments_routers,
                   wholesale_router, reports_router, community_router, trust_router, campaigns_router, flash_router,
                   till_router, webhooks_router, imports_router, logistics_router, invoices_router, messages_router)
    own_routes = list(app.router.routes)
    # A request is matched against each router in turn, so the routes a rush hammers come first: a flash sale's
    # attempts (its paths are no other router's).
    for router in (flash_router, *(r for r in api_routers if r is not flash_router)):
        app.include_router(prefiltered(router))
    mount_pages(app, api_routers)
    openapi.install(app, routes=[*own_routes, *(route for router in api_routers for route in router.routes)])
    return app
