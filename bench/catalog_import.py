"""Benchmark: a 10,000-row product CSV imported through the API, with 37 planted bad rows.

Fresh database -> ``shop migrate`` -> ``shop serve`` (1 worker) -> a verified merchant -> a generated CSV of
10,000 variant rows (2,500 products of 2 colours x 2 sizes, titles and options in Chinese) in which 37 rows
are bad (a price that is no amount, a SKU with spaces, a SKU repeated, an unknown category, a weight that is
no number, a barcode with punctuation, an option without its value) -> four imports, each timed from the
POST until the job has finished (polled every 0.1 s):

1. UTF-8, all or nothing: every bad row named by line and field, nothing applied;
2. the same file in GBK: the same;
3. UTF-8 with ``apply_good_rows``: 9,963 rows applied;
4. GBK with ``apply_good_rows`` for a second merchant: 9,963 rows applied.

Beside them: the same server's ``GET /healthz`` rate and the CPU per row (server and PostgreSQL).

    .venv/bin/python bench/catalog_import.py                 # PostgreSQL
    .venv/bin/python bench/catalog_import.py --db sqlite     # the embedded database

Target on a 2-core machine: each import <= 10 s.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import secrets
import shlex
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from harness import (
    CpuMeter,
    PgDatabase,
    Server,
    default_pg_transport,
    ensure_wrk,
    install_sigterm_handler,
    log,
    migrate,
    print_table,
    run_wrk,
    seed_merchant,
    server_db_url,
)

ROWS = 10_000
BAD = 37
TARGET_S = 10.0
COLUMNS = ("product", "title", "category", "status", "description", "option1_name", "option1_value",
           "option2_name", "option2_value", "option3_name", "option3_value", "sku", "price", "barcode", "weight",
           "images", "variant_image")
COLOURS = ("红色", "黑色")
SIZES = ("M", "L")
SPOILERS: tuple[tuple[str, str, str], ...] = (
    ("price", "price", "七十九元"), ("sku", "sku", "坏 SKU"), ("sku", "sku", "<dup>"),
    ("category", "category", "toys"), ("weight", "weight", "半斤"), ("barcode", "barcode", "69-01#23"),
    ("option2_value", "option2_value", ""),
)


def make_csv(prefix: str) -> tuple[str, dict[int, str]]:
    """The file's text, and the planted bad rows: line -> the field that is wrong."""
    rows: list[dict[str, str]] = []
    for i in range(ROWS // 4):
        for j, (colour, size) in enumerate((c, s) for c in COLOURS for s in SIZES):
            row = {"product": f"p{i:05d}", "sku": f"{prefix}-{i:05d}-{j}", "price": f"{79 + i % 50}.90",
                   "option1_name": "颜色", "option1_value": colour, "option2_name": "尺码", "option2_value": size,
                   "barcode": f"69{i:08d}{j}", "weight": str(150 + j * 10)}
            if j == 0:
                row.update(title=f"纯棉T恤 第{i}款 Cotton tee {i}", category="apparel", status="active",
                           description="新疆长绒棉，亲肤透气。Soft long-staple cotton.")
            rows.append(row)
    planted: dict[int, str] = {}
    step = ROWS // BAD
    for n in range(BAD):
        index = n * step + 1 + n % 3  # never a product's first row, which carries its title and category
        if index % 4 == 0:
            index += 1
        kind, field, value = SPOILERS[n % len(SPOILERS)]
        row = rows[index]
        if value == "<dup>":
            value = rows[index - 1]["sku"]
        if kind == "category":
            row["category"] = value
        else:
            row[field] = value
        planted[index + 2] = field  # the header is line 1
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue(), planted


async def run_import(client: httpx.AsyncClient, headers: dict[str, str], body: bytes, *, apply: bool
                     ) -> tuple[float, dict[str, Any]]:
    started = time.monotonic()
    r = await client.post("/v1/imports/products", headers={**headers, "content-type": "text/csv"}, content=body,
                          params={"apply_good_rows": "true" if apply else "false"})
    r.raise_for_status()
    job = r.json()
    while job["status"] in ("queued", "running"):
        await asyncio.sleep(0.1)
        job = (await client.get(f"/v1/imports/{job['id']}", headers=headers)).raise_for_status().json()
    return time.monotonic() - started, job


async def product_count(client: httpx.AsyncClient, merchant_id: str) -> int:
    count, cursor = 0, None
    while True:
        params: dict[str, Any] = {"merchant_id": merchant_id, "limit": 500}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/v1/products", params=params)).json()
        count += len(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            return count


async def searchable(client: httpx.AsyncClient, merchant_id: str) -> int:
    """How many of the merchant's products search finds by a word every title has, right after the import
    (the facet counts are over every match)."""
    page = (await client.get("/v1/products", params={"q": "纯棉T恤", "merchant_id": merchant_id, "limit": 1,
                                                     "facets": "category"})).raise_for_status().json()
    return sum(v["count"] for v in page["facets"]["category"])


async def scenario(server: Server, admin: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=120) as c:
        first, headers_a, _ = await seed_merchant(c, admin, name="导入商户甲", email="import-a@example.com")
        second, headers_b, _ = await seed_merchant(c, admin, name="导入商户乙", email="import-b@example.com")
        text, planted = make_csv("TEE")
        runs = [("UTF-8, all or nothing", text.encode("utf-8"), False, first, headers_a),
                ("GBK, all or nothing", text.encode("gbk"), False, first, headers_a),
                ("UTF-8, apply the good rows", text.encode("utf-8"), True, first, headers_a),
                ("GBK, apply the good rows", text.encode("gbk"), True, second, headers_b)]
        results = []
        for label, body, apply, merchant_id, headers in runs:
            with CpuMeter(server.pid) as cpu:
                seconds, job = await run_import(c, headers, body, apply=apply)
            named = {(e["line"], e["field"]) for e in job["errors"]}
            results.append({"label": label, "seconds": seconds, "job": job, "cpu": cpu,
                            "all_named": named == set(planted.items()) and job["error_rows"] == BAD,
                            "products": await product_count(c, merchant_id),
                            "searchable": await searchable(c, merchant_id)})
            log("import.done", run=label, seconds=round(seconds, 2), status=job["status"],
                applied=job["applied_rows"], errors=job["error_rows"], encoding=job["encoding"])
        return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="10,000-row product CSV import")
    parser.add_argument("--db", choices=("pg", "sqlite"), default="pg")
    parser.add_argument("--pg-transport", choices=("socket", "tcp"), default=default_pg_transport())
    args = parser.parse_args(argv)
    install_sigterm_handler()
    command = shlex.join([".venv/bin/python", "bench/catalog_import.py", "--db", args.db])
    ensure_wrk()
    admin = secrets.token_urlsafe(24)
    with tempfile.TemporaryDirectory() as tmp:
        env = {"SHOP_ADMIN_TOKEN": admin, "SHOP_BACKGROUND_JOBS": "false", "SHOP_MEDIA_ROOT": str(Path(tmp) / "m")}
        if args.db == "sqlite":
            url = f"sqlite+aiosqlite:///{tmp}/shop.db"
            migrate(url)
            results, health = _serve({**env, "DATABASE_URL": url}, admin)
        else:
            with PgDatabase() as db:
                migrate(db.url)
                results, health = _serve({**env, "DATABASE_URL": server_db_url(db, args.pg_transport)}, admin)
    rows: list[tuple[str, str, str, str]] = []
    ok = True
    for r in results:
        job, apply = r["job"], "apply" in r["label"]
        expected_applied = ROWS - BAD if apply else 0
        fine = (r["all_named"] and job["applied_rows"] == expected_applied
                and r["products"] == (ROWS // 4 if apply else 0) and r["searchable"] == r["products"])
        ok = ok and fine and r["seconds"] <= TARGET_S
        outcome = (f"{job['error_rows']} bad rows named ({'all' if r['all_named'] else 'NOT all'} planted), "
                   f"{job['applied_rows']:,} applied, {r['products']:,} products, {r['searchable']:,} found by search")
        rows.append((f"{ROWS:,}-row CSV, {r['label']}", f"{r['seconds']:.2f} s", f"<= {TARGET_S:.0f} s", command))
        rows.append((f"  outcome ({job['encoding']})", outcome,
                     f"{BAD} named, {expected_applied:,} applied", command))
        cpu = r["cpu"]
        rows.append(("  CPU per row: server / PostgreSQL",
                     f"{cpu.server_s * 1e6 / ROWS:.0f} / {cpu.postgres_s * 1e6 / ROWS:.0f} µs", "-", command))
    rows.append(("same server GET /healthz", f"{health:,.0f} req/s", "-", command))
    print_table(f"Product CSV import: {ROWS:,} rows, {BAD} bad, 1 worker, "
                f"{'PostgreSQL' if args.db == 'pg' else 'SQLite'}", rows)
    print(f"reproduce: {command}")
    return 0 if ok else 1


def _serve(env: dict[str, str], admin: str) -> tuple[list[dict[str, Any]], float]:
    with Server(env, workers=1) as server:
        results = asyncio.run(scenario(server, admin))
        health = run_wrk(server.base_url + "/healthz", lua_script="", connections=32, duration_s=5)
    return results, health.rps


if __name__ == "__main__":
    sys.exit(main())
