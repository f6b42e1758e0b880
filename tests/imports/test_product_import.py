"""CSV import and export of products through the HTTP API: encodings, bad rows named, all or nothing unless
the merchant asks for the good rows, pictures by URL or uploaded file, and the export read back in."""

from __future__ import annotations

import csv
import http.server
import io
import threading
from collections.abc import Iterator
from typing import Any, ClassVar

import httpx
import pytest

from app.catalog import transfer
from tests import factories as f
from tests import pictures

HEADER = ",".join(transfer.COLUMNS)


def _csv(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=transfer.COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _tee(key: str, sku: str, colour: str, size: str, price: str = "79.90", **extra: str) -> dict[str, str]:
    return {"product": key, "option1_name": "颜色", "option1_value": colour, "option2_name": "尺码",
            "option2_value": size, "sku": sku, "price": price, **extra}


async def _import(client: httpx.AsyncClient, m: f.MerchantCtx, body: bytes | str, *, kind: str = "products",
                  apply_good_rows: bool = False, files: Any = None) -> dict[str, Any]:
    params = {"apply_good_rows": "true"} if apply_good_rows else {}
    if files is None:
        data = body.encode() if isinstance(body, str) else body
        r = await client.post(f"/v1/imports/{kind}", headers={**m.headers, "content-type": "text/csv"},
                              content=data, params=params)
    else:
        r = await client.post(f"/v1/imports/{kind}", headers=m.headers, params=params, files=files)
    assert r.status_code == 202, r.text
    # The job runs after the response; the test client returns once the request, job included, is done.
    got = await client.get(f"/v1/imports/{r.json()['id']}", headers=m.headers)
    assert got.status_code == 200
    job = dict(got.json())
    assert job["status"] in ("succeeded", "failed"), job
    return job


async def _products(client: httpx.AsyncClient, m: f.MerchantCtx) -> list[dict[str, Any]]:
    return list((await client.get("/v1/products", params={"merchant_id": m.id, "limit": 500},
                                  headers=m.headers)).json()["items"])


async def test_a_product_file_with_options_is_imported(client: httpx.AsyncClient) -> None:
    m = await f.merchant(client)
    rows = [
        _tee("tee", "TEE-R-M", "红色", "M", title="纯棉T恤 Cotton tee", category="apparel", status="active",
             description="100% 棉", barcode="6901234567892", weight="180"),
        _tee("tee", "TEE-R-L", "红色", "L"), _tee("tee", "TEE-B-M", "黑色", "M"),
        _tee("tee", "TEE-B-L", "黑色", "L", price="89"),
        {"product": "rice", "title": "东北大米 5kg", "category": "agri", "sku": "RICE-5", "price": "¥59.9"},
    ]
    job = await _import(client, m, _csv(rows))
    assert job["status"] == "succeeded" and job["encoding"] == "utf-8", job
    assert (job["total_rows"], job["processed_rows"], job["applied_rows"], job["error_rows"]) == (5, 5, 5, 0)
    products = {p["title"]: p for p in await _products(client, m)}
    tee = products["纯棉T恤 Cotton tee"]
    assert tee["status"] == "active" and tee["description"] == "100% 棉"
    assert tee["options"] == [{"name": "颜色", "values": ["红色", "黑色"]}, {"name": "尺码", "values": ["M", "L"]}]
    by_sku = {v["sku"]: v for v in tee["variants"]}
    assert by_sku["TEE-R-M"]["barcode"] == "6901234567892" and by_sku["TEE-R-M"]["weight"] == 180
    assert by_sku["TEE-B-L"]["price"] == 8900 and by_sku["TEE-B-L"]["attributes"] == {"颜色": "黑色", "尺码": "L"}
    rice = products["东北大米 5kg"]
    assert rice["status"] == "draft" and rice["variants"][0]["price"] == 5990


def _with_bad_rows() -> list[dict[str, str]]:
    rows = [_tee("tee", f"TEE-{i}", "红色", str(i), title="T恤", category="apparel") for i in range(6)]
    rows[1]["price"] = "七十九"  # line 3
    rows[2]["sku"] = "坏 SKU"  # line 4
    rows[3]["sku"] = "TEE-0"  # line 5: the SKU of line 2 again
    rows[4]["category"] = "toys"  # line 6
    rows.append({"product": "lonely", "sku": "LONE-1", "price": "10"})  # line 8: a new product without a title
    return rows


async def test_bad_rows_are_all_named_and_nothing_is_applied_gbk_too(client: httpx.AsyncClient) -> None:
    m = await f.merchant(client)
    job = await _import(client, m, _csv(_with_bad_rows()).encode("gbk"))
    assert job["status"] == "failed" and job["encoding"] == "gbk" and job["applied_rows"] == 0
    named = [(e["line"], e["field"]) for e in job["errors"]]
    assert named == [(3, "price"), (4, "sku"), (5, "sku"), (6, "category"), (8, "title")]
    assert job["error_rows"] == 5 and "apply_good_rows" in job["detail"]
    assert await _products(client, m) == []
    good = await _import(client, m, _csv(_with_bad_rows()).encode("gbk"), apply_good_rows=True)
    assert good["status"] == "succeeded" and good["applied_rows"] == 2 and good["error_rows"] == 5
    (tee,) = await _products(client, m)
    assert sorted(v["sku"] for v in tee["variants"]) == ["TEE-0", "TEE-5"]


async def test_a_file_that_cannot_be_read_is_named(client: httpx.AsyncClient) -> None:
    m = await f.merchant(client)
    unknown = await _import(client, m, "product,sku,price,colour\nx,X-1,1,red\n")
    assert unknown["status"] == "failed" and unknown["errors"][0]["field"] == "file"
    assert "colour" in unknown["errors"][0]["message"]
    nul = await _import(client, m, f"{HEADER}\nx,\x00")
    assert nul["errors"] == [{"line": 2, "field": "file", "message": "the file contains a NUL byte"}]
    latin = await _import(client, m, b"product,sku,price\n\xff\xfe\xfa,X,1\n")
    assert "neither UTF-8 nor GBK" in latin["errors"][0]["message"]
    r = await client.post("/v1/imports/products", headers=m.headers, json={"rows": []})
    assert r.status_code == 415
    empty = await client.post("/v1/imports/products", headers={**m.headers, "content-type": "text/csv"}, content=b"")
    assert empty.status_code == 422 and empty.json()["errors"][0]["field"] == "file"


async def test_someone_elses_job_and_products_are_not_theirs(client: httpx.AsyncClient) -> None:
    a, b = await f.merchant(client), await f.merchant(client)
    p = await f.product(client, a, skus=("A-1",))
    job = await _import(client, b, _csv([{"product": p["id"], "sku": "A-1", "price": "1"},
                                         {"product": "mine", "title": "我的", "category": "home", "sku": "B-1",
                                          "price": "2"}]))
    assert job["status"] == "failed"
    assert [(e["line"], e["field"]) for e in job["errors"]] == [(2, "product")]
    assert await _products(client, b) == [] and len(await _products(client, a)) == 1
    other = await client.get(f"/v1/imports/{job['id']}", headers=a.headers)
    assert other.status_code == 404


class _Pictures(http.server.BaseHTTPRequestHandler):
    files: ClassVar[dict[str, bytes]] = {}

    def do_GET(self) -> None:
        data = self.files.get(self.path)
        self.send_response(200 if data else 404)
        self.end_headers()
        self.wfile.write(data or b"")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def picture_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Pictures)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


async def test_pictures_by_url_and_by_file_and_the_export_read_back(client: httpx.AsyncClient,
                                                                    picture_server: str) -> None:
    _Pictures.files = {"/red.jpg": pictures.jpeg(pictures.quadrants(300, 200), gps=True),
                       "/notes.txt": b"not a picture"}
    m = await f.merchant(client)
    rows = [_tee("tee", "TEE-R-M", "红色", "M", title="T恤", category="apparel",
                 images=f"{picture_server}/red.jpg|front.png", variant_image=f"{picture_server}/red.jpg"),
            _tee("tee", "TEE-B-M", "黑色", "M", variant_image="black.png"),
            _tee("tee", "TEE-W-M", "白色", "M", variant_image=f"{picture_server}/notes.txt"),
            _tee("tee", "TEE-G-M", "灰色", "M", variant_image=f"{picture_server}/missing.jpg")]
    files = [("file", ("products.csv", _csv(rows).encode(), "text/csv")),
             ("images", ("front.png", pictures.png(pictures.quadrants(220, 220)), "image/png")),
             ("images", ("black.png", pictures.png(pictures.quadrants(240, 200)), "image/png"))]
    job = await _import(client, m, b"", files=files, apply_good_rows=True)
    assert [(e["line"], e["field"]) for e in job["errors"]] == [(4, "variant_image"), (5, "variant_image")]
    assert "not a JPEG" in job["errors"][0]["message"] and "404" in job["errors"][1]["message"]
    (tee,) = await _products(client, m)
    assert len(tee["media"]) == 3  # red.jpg, front.png, black.png
    by_sku = {v["sku"]: v for v in tee["variants"]}
    assert by_sku["TEE-R-M"]["media"][0]["id"] == tee["media"][0]["id"]
    assert by_sku["TEE-B-M"]["media"][0]["id"] == tee["media"][2]["id"]
    # The export, read back in unchanged, changes nothing; with a price edited, that price.
    export = await client.get("/v1/exports/products.csv", headers=m.headers)
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    text = export.content.decode("utf-8-sig")
    assert text.startswith(HEADER) and "TEE-R-M" in text and tee["media"][0]["url"] in text
    again = await _import(client, m, text)
    assert again["status"] == "succeeded" and again["applied_rows"] == 2, again
    (same,) = await _products(client, m)
    assert {k: v for k, v in same.items() if k != "updated_at"} == {k: v for k, v in tee.items() if k != "updated_at"}
    edited = await _import(client, m, text.replace(",TEE-B-M,79.90,", ",TEE-B-M,69.90,"))
    assert edited["status"] == "succeeded"
    (after,) = await _products(client, m)
    assert {v["sku"]: v["price"] for v in after["variants"]} == {"TEE-R-M": 7990, "TEE-B-M": 6990}
    assert after["media"] == tee["media"]
    gbk = await client.get("/v1/exports/products.csv", headers=m.headers, params={"encoding": "gbk"})
    assert gbk.content.decode("gb18030") == text.replace(",TEE-B-M,79.90,", ",TEE-B-M,69.90,")
    assert (await _import(client, m, gbk.content))["encoding"] == "gbk"


async def test_imported_listings_are_moderated_like_any_other(client: httpx.AsyncClient) -> None:
    m = await f.merchant(client)
    rows = [{"product": "a", "title": "仿真枪模型 toy", "category": "home", "status": "active", "sku": "HOLD-1",
             "price": "10"},
            {"product": "b", "title": "瓷碗", "category": "home", "description": "一经售出，概不退换",
             "sku": "BOWL-1", "price": "10"}]
    job = await _import(client, m, _csv(rows), apply_good_rows=True)
    assert [(e["line"], e["field"]) for e in job["errors"]] == [(3, "description")]  # a clause against the law
    (held,) = await _products(client, m)
    assert held["status"] == "pending_review"  # a prohibited word: the platform reviews it first
    renamed = await _import(client, m, _csv([{"product": held["id"], "title": "毒品 X", "sku": "HOLD-1",
                                              "price": "10"}]))
    assert renamed["status"] == "succeeded"
    (after,) = await _products(client, m)
    assert after["status"] == "pending_review" and after["title"] == "毒品 X"
