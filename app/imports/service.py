"""Import jobs: a merchant sends a CSV (products or stock levels); it is kept, then read, checked and applied in
the background while the merchant polls its progress.

Every bad row is named with its line and field. When any row is bad nothing is applied, unless the merchant
asked to apply the good rows. The good rows are applied in one transaction, which also records the job's
outcome, so a job is either applied whole or not at all. Pictures named by URL are fetched and stored
before that transaction (stored pictures are harmless: content-addressed, and found again next time).

A job runs right after the request that created it (in the same process); a periodic job picks up any
left queued (or running without progress for `STALE_MINUTES`) by a process that stopped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.catalog import bulk, moderation, transfer
from app.catalog import service as catalog_service
from app.catalog.media import service as media_service
from app.catalog.media import storage as media_storage
from app.catalog.media.storage.base import MediaStorage
from app.config import Settings
from app.core import csvfile
from app.core.clock import as_utc, utcnow
from app.core.csvfile import MalformedCsv, RowError
from app.core.errors import DomainError, InvalidInput, NotFound, field_error
from app.core.ids import new_id
from app.core.logging import get_logger
from app.imports import fetch
from app.imports.models import ImportJob
from app.inventory import transfer as stock_transfer
from app.inventory.moves import counts as moves

log = get_logger("app.imports")
MAX_ROWS = 10_000
MAX_ERRORS_KEPT = 1_000
STALE_MINUTES = 10
KINDS = ("products", "stock")


def limits_of(settings: Settings) -> media_service.Limits:
    return media_service.Limits(settings.shop_media_max_bytes, settings.shop_media_max_pixels)


def _out(job: ImportJob) -> dict[str, Any]:
    return {"id": job.id, "kind": job.kind, "status": job.status, "phase": job.phase,
            "apply_good_rows": job.apply_good_rows, "encoding": job.encoding, "total_rows": job.total_rows,
            "processed_rows": job.processed_rows, "applied_rows": job.applied_rows, "error_rows": job.error_rows,
            "errors": job.errors or [], "detail": job.detail, "created_at": job.created_at,
            "finished_at": job.finished_at}


async def create_job(*, session: AsyncSession, storage: MediaStorage, settings: Settings, merchant_id: str,
                     kind: str, body: bytes, pictures: Sequence[tuple[str, bytes]], apply_good_rows: bool
                     ) -> dict[str, Any]:
    """Keep the file (and store the pictures sent with it) for a job; the caller starts `run_job`."""
    if not body.strip():
        raise field_error("file", "the file is empty")
    names = [name for name, _ in pictures]
    if len(set(names)) != len(names):
        raise field_error("images", "two pictures have the same file name")
    if pictures and kind != "products":
        raise field_error("images", "pictures come with a product import")
    files: dict[str, str] = {}
    if pictures:
        try:
            assets = await media_service.store_pictures(session=session, storage=storage, limits=limits_of(settings),
                                                        files=[data for _, data in pictures])
        except InvalidInput as exc:  # name the picture that was refused
            raise InvalidInput(f"images: {exc.detail}", errors=[
                {"field": "images", "message": e["message"]} for e in exc.extra.get("errors", [])]) from None
        files = dict(zip(names, assets, strict=True))
    now = utcnow()
    job_id = new_id("imp")
    await session.execute(insert(ImportJob).values(
        id=job_id, merchant_id=merchant_id, kind=kind, status="queued", phase="queued",
        apply_good_rows=apply_good_rows, payload=body, files=files, errors=[], created_at=now, updated_at=now))
    await session.commit()
    job = await get_job(session=session, merchant_id=merchant_id, job_id=job_id)
    await session.commit()  # the job runs right after this request, on SQLite it needs the write lock
    return job


async def get_job(*, session: AsyncSession, merchant_id: str, job_id: str) -> dict[str, Any]:
    job = await session.get(ImportJob, job_id)
    if job is None or job.merchant_id != merchant_id:
        raise NotFound("import", job_id)
    return _out(job)


async def list_jobs(*, session: AsyncSession, merchant_id: str, before: str | None, limit: int
                    ) -> tuple[list[dict[str, Any]], str | None]:
    """The merchant's import jobs, newest first (the console's list)."""
    stmt = select(ImportJob).where(ImportJob.merchant_id == merchant_id)
    if before:
        stmt = stmt.where(ImportJob.id < before)
    jobs = list((await session.scalars(stmt.order_by(ImportJob.id.desc()).limit(limit + 1))).all())
    more = len(jobs) > limit
    jobs = jobs[:limit]
    return [_out(j) for j in jobs], (jobs[-1].id if more else None)


async def _claim(session: AsyncSession, job_id: str) -> ImportJob | None:
    now = utcnow()
    stale = now - timedelta(minutes=STALE_MINUTES)
    claimed = await session.execute(
        update(ImportJob).where(ImportJob.id == job_id, or_(
            ImportJob.status == "queued", (ImportJob.status == "running") & (ImportJob.updated_at < stale)))
        .values(status="running", phase="reading", started_at=now, updated_at=now))
    await session.commit()
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    return await session.get(ImportJob, job_id)


async def _progress(session: AsyncSession, job_id: str, **values: Any) -> None:
    await session.execute(update(ImportJob).where(ImportJob.id == job_id).values(updated_at=utcnow(), **values))
    await session.commit()


def _errors(errors: Sequence[RowError]) -> tuple[int, list[dict[str, Any]]]:
    ordered = sorted(set(errors), key=lambda e: (e.line, e.field, e.message))
    return len({e.line for e in ordered}), [{"line": e.line, "field": e.field, "message": e.message}
                                            for e in ordered[:MAX_ERRORS_KEPT]]


async def run_job(factory: async_sessionmaker[AsyncSession], settings: Settings, storage: MediaStorage,
                  job_id: str) -> bool:
    """Run one job if it is still to run (another process may have taken it). True when it ran."""
    async with factory() as session:
        job = await _claim(session, job_id)
        if job is None:
            return False
        try:
            await _run(session, settings, storage, job)
        except DomainError as exc:
            await session.rollback()
            await _progress(session, job_id, status="failed", detail=exc.detail[:500], finished_at=utcnow())
        except Exception:
            log.exception("import_failed", job_id=job_id)
            await session.rollback()
            await _progress(session, job_id, status="failed", detail="the import failed unexpectedly; it has "
                            "been logged", finished_at=utcnow())
    return True


async def run_queued(factory: async_sessionmaker[AsyncSession], settings: Settings) -> int:
    """Run the jobs a stopped process left (periodic job)."""
    stale = utcnow() - timedelta(minutes=STALE_MINUTES)
    async with factory() as session:
        ids = list((await session.scalars(select(ImportJob.id).where(
            or_(ImportJob.status == "queued", (ImportJob.status == "running") & (ImportJob.updated_at < stale)))
            .order_by(ImportJob.id).limit(10))).all())
        await session.commit()
    storage = media_storage.from_settings(settings)
    ran = 0
    for job_id in ids:
        # A job created a moment ago is being run by its own request: leave it a minute.
        async with factory() as session:
            created = await session.scalar(select(ImportJob.created_at).where(ImportJob.id == job_id))
            await session.commit()
        if created is not None and utcnow() - as_utc(created) < timedelta(minutes=1):
            continue
        ran += await run_job(factory, settings, storage, job_id)
    return ran


async def _run(session: AsyncSession, settings: Settings, storage: MediaStorage, job: ImportJob) -> None:
    try:
        text, encoding = csvfile.decode(job.payload)
        columns, required = ((transfer.COLUMNS, transfer.REQUIRED) if job.kind == "products"
                             else (stock_transfer.COLUMNS, stock_transfer.REQUIRED))
        rows = csvfile.read(text, columns=columns, required=required, max_rows=MAX_ROWS)
    except MalformedCsv as exc:
        await _progress(session, job.id, status="failed", phase="reading", error_rows=1, finished_at=utcnow(),
                        errors=[{"line": exc.line, "field": "file", "message": exc.message}],
                        detail=f"the file cannot be read: line {exc.line}: {exc.message}")
        return
    await _progress(session, job.id, encoding=encoding, total_rows=len(rows), phase="checking")
    if job.kind == "products":
        await _run_products(session, settings, storage, job, rows)
    else:
        await _run_stock(session, job, rows)


async def _finish(session: AsyncSession, job: ImportJob, *, total: int, errors: list[RowError], applied: int,
                  failed: bool) -> None:
    """Record the outcome, in the transaction that applied the rows (if any), and commit it."""
    bad, listed = _errors(errors)
    detail = (f"{bad} rows have errors: nothing was applied (send it again with apply_good_rows=true to apply "
              "the others)") if failed else None
    await session.execute(update(ImportJob).where(ImportJob.id == job.id).values(
        status="failed" if failed else "succeeded", phase="done", processed_rows=total, applied_rows=applied,
        error_rows=bad, errors=listed, detail=detail, updated_at=utcnow(), finished_at=utcnow()))
    await session.commit()


async def _run_products(session: AsyncSession, settings: Settings, storage: MediaStorage, job: ImportJob,
                        rows: list[csvfile.Row]) -> None:
    policy = moderation.policy_from(settings)
    products, errors = transfer.parse(rows, policy=policy)
    existing, refused = await bulk.check(session, merchant_id=job.merchant_id, products=products)
    await session.commit()
    errors += refused
    await _progress(session, job.id, processed_rows=len(rows), phase="pictures")
    bad = {e.line for e in errors}
    pictures, picture_errors = await _pictures(session, settings, storage, job, products, bad)
    errors += picture_errors
    bad |= {e.line for e in picture_errors}
    if errors and not job.apply_good_rows:
        await _finish(session, job, total=len(rows), errors=errors, applied=0, failed=True)
        return
    for group in products.values():
        group.variants = [v for v in group.variants if v.line not in bad]
    await _progress(session, job.id, phase="applying")
    applied = await bulk.apply(session, merchant_id=job.merchant_id, products=products, existing=existing,
                               pictures=pictures, policy=policy)
    await _finish(session, job, total=len(rows), errors=errors, applied=applied, failed=False)


async def _pictures(session: AsyncSession, settings: Settings, storage: MediaStorage, job: ImportJob,
                    products: dict[str, transfer.ProductRows], bad: set[int]
                    ) -> tuple[dict[str, str], list[RowError]]:
    """Each picture reference of the good rows -> a stored asset: a file sent with the import, a picture
    stored here already (an exported URL), or one fetched from its URL. Rows naming one that fails are bad."""
    uses: dict[str, list[tuple[int, str]]] = {}
    for group in products.values():
        for v in group.variants:
            if v.line in bad:
                continue
            for ref in v.images:
                uses.setdefault(ref, []).append((v.line, "images"))
            if v.variant_image:
                uses.setdefault(v.variant_image, []).append((v.line, "variant_image"))
    if not uses:
        return {}, []
    found: dict[str, str] = {ref: job.files[ref] for ref in uses if ref in (job.files or {})}
    found.update(await media_service.assets_by_url(session=session, urls=[r for r in uses if r not in found]))
    await session.commit()
    errors: list[RowError] = []
    limits = limits_of(settings)
    async with httpx.AsyncClient() as client:
        for ref in [r for r in uses if r not in found]:
            try:
                data = await fetch.fetch(client, ref, max_bytes=limits.max_bytes,
                                         allow_private=settings.shop_import_allow_private_urls)
                (found[ref],) = await media_service.store_pictures(session=session, storage=storage, limits=limits,
                                                                   files=[data])
            except fetch.FetchFailed as exc:
                errors += [RowError(line, column, str(exc)) for line, column in uses[ref]]
            except InvalidInput as exc:
                message = "; ".join(e["message"] for e in exc.extra.get("errors", [])) or exc.detail
                errors += [RowError(line, column, f"{ref}: {message}") for line, column in uses[ref]]
            except DomainError as exc:  # the picture store
                errors += [RowError(line, column, exc.detail) for line, column in uses[ref]]
    return found, errors


async def _run_stock(session: AsyncSession, job: ImportJob, rows: list[csvfile.Row]) -> None:
    counts, errors = stock_transfer.parse(rows)
    variants, locations, refused = await moves.resolve(session, merchant_id=job.merchant_id, rows=counts)
    await session.commit()
    errors += refused
    bad = {e.line for e in errors}
    await _progress(session, job.id, processed_rows=len(rows), phase="applying")
    if errors and not job.apply_good_rows:
        await _finish(session, job, total=len(rows), errors=errors, applied=0, failed=True)
        return
    good = [c for c in counts if c.line not in bad]
    await moves.set_counts(session, merchant_id=job.merchant_id, rows=good, variants=variants,
                           locations=locations, source=f"import:{job.id}", key=f"import:{job.id}")
    await _finish(session, job, total=len(rows), errors=errors, applied=len(good), failed=False)


# ---- exports -----------------------------------------------------------------------------------------

EXPORT_PAGE = 500


async def export_products(factory: async_sessionmaker[AsyncSession], *, merchant_id: str, encoding: str
                          ) -> AsyncIterator[bytes]:
    """The merchant's products in the import's format, a page of products at a time (newest first)."""
    if encoding == "utf-8":
        yield b"\xef\xbb\xbf"  # so that Excel reads it as UTF-8
    yield csvfile.encode(next(csvfile.write(transfer.COLUMNS, [])), encoding)
    before: str | None = None
    while True:
        async with factory() as session:
            items, before = await catalog_service.list_products(
                session=session, q=None, category=None, merchant_id=merchant_id, viewer_merchant_id=merchant_id,
                before=before, limit=EXPORT_PAGE)
            await session.commit()
        rows = [row for item in items for row in transfer.export_rows(item)]
        if rows:
            yield csvfile.encode("".join(list(csvfile.write(transfer.COLUMNS, rows))[1:]), encoding)
        if before is None:
            return


async def export_stock(factory: async_sessionmaker[AsyncSession], *, merchant_id: str, encoding: str
                       ) -> AsyncIterator[bytes]:
    """The merchant's stock levels in the import's format, a page at a time."""
    if encoding == "utf-8":
        yield b"\xef\xbb\xbf"
    yield csvfile.encode(next(csvfile.write(stock_transfer.COLUMNS, [])), encoding)
    after: str | None = None
    while True:
        async with factory() as session:
            page = await moves.count_rows(session, merchant_id=merchant_id, after=after, limit=EXPORT_PAGE)
            await session.commit()
        if not page:
            return
        after = page[-1][0]
        rows = [row[1:] for row in page]
        yield csvfile.encode("".join(list(csvfile.write(stock_transfer.COLUMNS, rows))[1:]), encoding)
