"""Benchmark: the server-rendered storefront pages (home, category, Chinese search, product page) beside /healthz.

Fresh PostgreSQL database -> ``shop migrate`` -> ``shop serve --workers 2`` -> a merchant with a store and
N products seeded through the API -> page sizes (the issue's 200 KB limit) -> wrk on /healthz and each page, once
with the anonymous page cache (SHOP_PAGE_CACHE_SECONDS=1) and once without (0), the server restarted between ->
one table, each page's rate also as a share of the same server's /healthz rate (the issue's target: ≥ 10 %).

    .venv/bin/python bench/web_pages.py --duration 10
    .venv/bin/python bench/web_pages.py --products 200 --duration 5

Exit status is 1 if any request failed (non-2xx/3xx or socket error) or a page is over 200 KB, else 0.
"""

from __future__ import annotations

import argparse
import secrets
import shlex
import sys

import httpx
from harness import (
    PgDatabase,
    Server,
    ensure_wrk,
    install_sigterm_handler,
    log,
    lua_paths_script,
    migrate,
    print_table,
    result_rows,
    run_wrk,
)

DEFAULTS = {"products": 200, "duration": 10, "connections": 32, "threads": 2, "workers": 2, "warmup": 2}
PAGE_LIMIT = 200 * 1024
TARGET = "≥ 10 % of /healthz"


def reproduce_command(args: argparse.Namespace) -> str:
    parts = [".venv/bin/python", "bench/web_pages.py", "--duration", str(args.duration)]
    for name in ("products", "connections", "threads", "workers", "warmup"):
        if getattr(args, name) != DEFAULTS[name]:
            parts += [f"--{name}", str(getattr(args, name))]
    return shlex.join(parts)


def seed(base_url: str, admin: str, products: int) -> str:
    """A verified merchant, a store (徐汇店) and `products` down jackets in stock there; one product id."""
    with httpx.Client(base_url=base_url, timeout=30) as c:
        m = c.post("/v1/merchants", json={"name": "暖冬服饰", "kind": "enterprise", "licence_no": "91350100M000100Y43",
                                          "contact_email": "bench@example.com"}).json()
        c.post(f"/v1/admin/merchants/{m['id']}/verify", headers={"Authorization": f"Bearer {admin}"}).raise_for_status()
        key = {"Authorization": f"Bearer {m['api_key']}"}
        addr = {"name": "张三", "phone": "13800138000", "line1": "淮海中路 999 号", "city": "上海",
                "postal_code": "200031", "country": "CN"}
        store = c.post("/v1/locations", headers=key, json={"code": "XH", "name": "徐汇店", "kind": "store",
                                                           "address": addr}).json()
        product_id = ""
        for n in range(products):
            p = c.post("/v1/products", headers=key, json={
                "title": f"男士羽绒服 第{n}款", "category": "apparel", "description": "加厚保暖", "status": "active",
                "variants": [{"sku": f"DOWN-{n}", "price": 39900 + n, "attributes": {"尺码": "L"}}]})
            p.raise_for_status()
            product_id = p.json()["id"]
            c.put(f"/v1/locations/{store['id']}/stock/DOWN-{n}", headers=key, json={"on_hand": 10}).raise_for_status()
    return product_id


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="wrk benchmark of the storefront pages")
    for name, value in DEFAULTS.items():
        parser.add_argument(f"--{name}", type=int, default=value)
    args = parser.parse_args(argv)
    install_sigterm_handler()
    command = reproduce_command(args)
    ensure_wrk()
    rows: list[tuple[str, str, str, str]] = []
    ok = True
    with PgDatabase() as db:
        migrate(db.url)
        admin = secrets.token_urlsafe(24)
        product_id = ""
        for cached in ("1", "0"):
            env = {"DATABASE_URL": db.url, "SHOP_ADMIN_TOKEN": admin, "SHOP_PAGE_CACHE_SECONDS": cached,
                   "SHOP_CATALOG_CACHE_SECONDS": cached}
            mode = "cached 1 s" if cached == "1" else "uncached"
            with Server(env, workers=args.workers, ready_path="/readyz") as server:
                if not product_id:
                    log("seed", products=args.products)
                    product_id = seed(server.base_url, admin, args.products)
                pages = {"/healthz": "/healthz", "home /": "/", "category /?category=apparel": "/?category=apparel",
                         "search /search?q=羽绒": "/search?q=羽绒", "product /products/{id}": f"/products/{product_id}"}
                healthz_rps = 0.0
                for label, path in pages.items():
                    if path != "/healthz":
                        size = len(httpx.get(server.base_url + path, timeout=30).content)
                        ok &= size < PAGE_LIMIT
                        rows.append((f"{label} page size", f"{size / 1024:.1f} KB", "< 200 KB", command))
                    script = lua_paths_script([path])
                    if args.warmup > 0:
                        run_wrk(server.base_url + "/", lua_script=script, connections=args.connections,
                                threads=args.threads, duration_s=args.warmup)
                    result = run_wrk(server.base_url + "/", lua_script=script, connections=args.connections,
                                     threads=args.threads, duration_s=args.duration)
                    ok &= result.non_2xx == 0 and result.socket_errors == 0
                    if path == "/healthz":
                        healthz_rps = result.rps
                        rows += result_rows(f"GET /healthz ({mode})", result, command=command)
                        continue
                    rows += result_rows(f"GET {label} ({mode})", result, command=command)
                    share = 100 * result.rps / healthz_rps if healthz_rps else 0.0
                    rows.append((f"GET {label} ({mode}) share of /healthz", f"{share:.1f} %", TARGET, command))
    print_table(f"storefront pages: {args.products} products, {args.workers} workers, {args.connections} "
                f"connections, {args.duration}s each", rows)
    print(f"reproduce: {command}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
