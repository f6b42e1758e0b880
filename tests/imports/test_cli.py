"""`shop import` against the API: progress, every bad row printed, the exit code says whether it was applied."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
from rich.console import Console

from app.imports.cli import run_import
from tests import factories as f


async def _no_wait(_: float) -> None:
    return None


async def test_shop_import_prints_every_bad_row_and_applies_with_the_flag(client: httpx.AsyncClient,
                                                                         tmp_path: Path) -> None:
    m = await f.merchant(client)
    path = tmp_path / "货品.csv"
    path.write_bytes("product,title,category,sku,price\nA,苹果 Apple,agri,APL-1,12.5\nA,,,APL-2,abc\n"
                     .encode("gbk"))
    client.headers.update(m.headers)
    out = io.StringIO()
    console = Console(file=out, width=200)
    code = await run_import(client, csv_file=(path.name, path.read_bytes()), kind="products",
                            apply_good_rows=False, images=[],
                            console=console, wait=_no_wait)
    assert code == 1
    assert "line 3, price: not an amount in yuan" in out.getvalue()
    assert "failed: 0 of 2 rows applied, 1 with errors (gbk" in out.getvalue()
    code = await run_import(client, csv_file=(path.name, path.read_bytes()), kind="products",
                            apply_good_rows=True, images=[],
                            console=Console(file=io.StringIO()), wait=_no_wait)
    assert code == 0
    items = (await client.get("/v1/products", params={"merchant_id": m.id})).json()["items"]
    assert [v["sku"] for v in items[0]["variants"]] == ["APL-1"]
