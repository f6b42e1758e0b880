"""Product pictures through the HTTP API: upload, what is accepted and refused, reads, edits, storage."""

from __future__ import annotations

import asyncio
import io
import json
import secrets
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from app.catalog.media import images
from app.main import create_app
from tests import factories as f
from tests import pictures
from tests.conftest import make_settings
from tests.fakes.s3_server import KEY, REGION, SECRET, FakeS3


def _stored(app: Any) -> list[Path]:
    root: Path = app.state.media_storage.root
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


async def _upload(client: httpx.AsyncClient, m: f.MerchantCtx, product_id: str, data: bytes,
                  name: str = "photo.jpg", **form: Any) -> httpx.Response:
    return await client.post(f"/v1/products/{product_id}/media", headers=m.headers,
                             files={"file": (name, data, "application/octet-stream")},
                             data={k: str(v) for k, v in form.items()})


def _field_error(r: httpx.Response, status: int, field: str = "file") -> str:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    errors = r.json()["errors"]
    assert [e["field"] for e in errors] == [field]
    return str(errors[0]["message"])


async def _fetch(client: httpx.AsyncClient, url: str) -> Image.Image:
    r = await client.get(url)
    assert r.status_code == 200 and r.headers["content-type"] == "image/webp"
    img = Image.open(io.BytesIO(r.content))
    img.load()
    return img


async def test_a_photo_is_stored_upright_without_its_gps_and_shown_with_the_product(client: httpx.AsyncClient,
                                                                                   app: Any) -> None:
    m = await f.merchant(client)
    p = await f.product(client, m, skus=("PIC-1",))
    photo = pictures.jpeg(pictures.quadrants(2400, 1800), orientation=6, gps=True)
    r = await _upload(client, m, p["id"], photo, alt="正面 front")
    assert r.status_code == 201, r.text
    item = r.json()
    assert item["alt"] == "正面 front" and item["position"] == 0 and item["variant_ids"] == []
    assert (item["width"], item["height"]) == (1200, 1600)  # upright: it was shot with the phone turned
    assert item["url"] == item["renditions"]["large"]
    for label, width in (("thumb", 200), ("medium", 600), ("large", 1200)):
        url = item["renditions"][label]
        assert url.startswith("/media/") and url.endswith(".webp")
        got = await client.get(url)
        assert got.headers["cache-control"] == "public, max-age=31536000, immutable"
        img = Image.open(io.BytesIO(got.content))
        assert img.width == width and not img.getexif()
        assert b"PhoneMaker" not in got.content and b"Exif" not in got.content
    for stored in _stored(app):
        assert b"Exif" not in stored.read_bytes()
    # Every read of the product carries it: the owner's, the public page's and the listing.
    read = (await client.get(f"/v1/products/{p['id']}")).json()
    assert read["media"] == [item]
    assert read["variants"][0]["media"] == []
    listed = (await client.get("/v1/products", params={"merchant_id": m.id})).json()["items"]
    assert listed[0]["media"] == [item]


async def test_every_refused_kind_is_a_4xx_naming_the_file_and_changes_nothing(client: httpx.AsyncClient,
                                                                              app: Any) -> None:
    m = await f.merchant(client)
    p = await f.product(client, m)
    text = "这不是图片 this is not a picture\n".encode() * 20
    assert "not a JPEG, PNG, WebP or GIF" in _field_error(await _upload(client, m, p["id"], text, "photo.png"), 422)
    photo = pictures.jpeg(pictures.quadrants(1600, 1200))
    cut = photo[: len(photo) // 2]
    assert "damaged" in _field_error(await _upload(client, m, p["id"], cut, "cut.jpg"), 422)
    assert "megapixels" in _field_error(await _upload(client, m, p["id"], pictures.png_bomb(), "huge.png"), 422)
    big = b"\xff\xd8\xff\xe0" + secrets.token_bytes(12 * 1024 * 1024)
    assert _field_error(await _upload(client, m, p["id"], big, "big.jpg"), 413) == "larger than 10 MB"
    assert (await client.get(f"/v1/products/{p['id']}")).json()["media"] == []
    assert _stored(app) == []


async def test_a_gif_shows_its_first_frame(client: httpx.AsyncClient) -> None:
    m = await f.merchant(client)
    p = await f.product(client, m)
    r = await _upload(client, m, p["id"], pictures.gif_two_frames(), "anim.gif")
    assert r.status_code == 201, r.text
    img = (await _fetch(client, r.json()["url"])).convert("RGB")
    assert img.size == (120, 80)
    red = img.getpixel((60, 40))
    assert isinstance(red, tuple) and red[0] > 200 and red[2] < 60


async def test_the_same_picture_twice_is_stored_once(client: httpx.AsyncClient, app: Any) -> None:
    m = await f.merchant(client)
    other = await f.merchant(client)
    p = await f.product(client, m)
    q = await f.product(client, other)
    data = pictures.png(pictures.quadrants(1500, 1000))
    first = await _upload(client, m, p["id"], data, "a.png")
    files = _stored(app)
    assert first.status_code == 201 and len(files) == 3
    second = await _upload(client, m, p["id"], data, "again.png")
    third = await _upload(client, other, q["id"], data, "theirs.png")
    assert second.status_code == third.status_code == 201
    assert first.json()["id"] != second.json()["id"]  # two places on the page ...
    assert first.json()["renditions"] == second.json()["renditions"] == third.json()["renditions"]
    assert _stored(app) == files  # ... one stored picture


async def test_another_merchants_product_and_its_media_are_404(client: httpx.AsyncClient) -> None:
    owner = await f.merchant(client)
    intruder = await f.merchant(client)
    p = await f.product(client, owner)
    item = (await _upload(client, owner, p["id"], pictures.png())).json()
    r = await _upload(client, intruder, p["id"], pictures.png(pictures.quadrants(64, 64)))
    assert r.status_code == 404
    path = f"/v1/products/{p['id']}/media/{item['id']}"
    assert (await client.patch(path, headers=intruder.headers, json={"alt": "mine"})).status_code == 404
    assert (await client.delete(path, headers=intruder.headers)).status_code == 404
    assert (await client.get(f"/v1/products/{p['id']}")).json()["media"] == [item]
    anonymous = await client.post(f"/v1/products/{p['id']}/media", files={"file": ("a.png", pictures.png())})
    assert anonymous.status_code == 401


async def test_order_alt_variants_and_removal(client: httpx.AsyncClient) -> None:
    m = await f.merchant(client)
    p = await f.product(client, m, skus=("COL-RED", "COL-BLUE"))
    red_id, blue_id = (v["id"] for v in p["variants"])
    a = (await _upload(client, m, p["id"], pictures.png(pictures.quadrants(100, 100)))).json()
    b = (await _upload(client, m, p["id"], pictures.png(pictures.quadrants(120, 100)), variant_id=red_id)).json()
    c = (await _upload(client, m, p["id"], pictures.png(pictures.quadrants(140, 100)), position=0)).json()
    assert b["variant_ids"] == [red_id]

    async def page() -> dict[str, Any]:
        return dict((await client.get(f"/v1/products/{p['id']}")).json())

    assert [x["id"] for x in (await page())["media"]] == [c["id"], a["id"], b["id"]]
    assert [x["position"] for x in (await page())["media"]] == [0, 1, 2]
    path = f"/v1/products/{p['id']}/media"
    moved = await client.patch(f"{path}/{b['id']}", headers=m.headers,
                               json={"position": 0, "alt": "红色款", "variant_ids": [red_id, blue_id]})
    assert moved.status_code == 200, moved.text
    assert moved.json()["alt"] == "红色款" and moved.json()["position"] == 0
    got = await page()
    assert [x["id"] for x in got["media"]] == [b["id"], c["id"], a["id"]]
    assert [[x["id"] for x in v["media"]] for v in got["variants"]] == [[b["id"]], [b["id"]]]
    assert (await client.delete(f"{path}/{c['id']}", headers=m.headers)).status_code == 204
    got = await page()
    assert [(x["id"], x["position"]) for x in got["media"]] == [(b["id"], 0), (a["id"], 1)]
    assert (await client.delete(f"{path}/{c['id']}", headers=m.headers)).status_code == 404
    stranger = await f.product(client, m, skus=("OTHER-1",))
    wrong = await _upload(client, m, p["id"], pictures.png(), variant_id=stranger["variants"][0]["id"])
    assert _field_error(wrong, 422, "variant_id")
    wrong = await client.patch(f"{path}/{a['id']}", headers=m.headers, json={"variant_ids": ["var_nope"]})
    assert _field_error(wrong, 422, "variant_ids.0")
    assert _field_error(await client.patch(f"{path}/{a['id']}", headers=m.headers, json={"alt": None}), 422,
                        "alt")


async def test_only_a_stored_rendition_name_is_served(client: httpx.AsyncClient) -> None:
    for path in ("/media/../../etc/passwd", "/media/ab/..%2F..%2Fpyproject.toml", "/media/xx/yy.webp",
                 "/media/00/" + "0" * 64 + ".webp"):
        assert (await client.get(path)).status_code == 404, path


@pytest.fixture(scope="module")
def fake_s3() -> Iterator[FakeS3]:
    with FakeS3() as fake:
        yield fake


@pytest.fixture
async def s3_app(db_url: str, app: Any, fake_s3: FakeS3) -> AsyncIterator[tuple[Any, str]]:
    """A second app on the same (emptied) database whose pictures go to the S3 fake."""
    bucket = f"pictures-{secrets.token_hex(4)}"
    s3 = fake_s3.client()
    s3.create_bucket(Bucket=bucket)
    # Buyers' browsers read the pictures straight from the store: the operator makes the bucket public-read.
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]}))
    application = create_app(make_settings(
        db_url, shop_media_s3_endpoint=fake_s3.url, shop_media_s3_bucket=bucket, shop_media_s3_key=KEY,
        shop_media_s3_secret=SECRET, shop_media_s3_region=REGION))
    yield application, bucket
    await application.state.engine.dispose()


async def test_pictures_go_to_an_s3_compatible_store(s3_app: tuple[Any, str], fake_s3: FakeS3) -> None:
    application, bucket = s3_app
    transport = httpx.ASGITransport(app=application)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=60) as client:
        m = await f.merchant(client)
        p = await f.product(client, m)
        data = pictures.jpeg(pictures.quadrants(800, 600), gps=True)
        r = await _upload(client, m, p["id"], data)
        assert r.status_code == 201, r.text
        again = await _upload(client, m, p["id"], data)
        assert again.status_code == 201
        item = r.json()
    s3 = fake_s3.client()
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert len(keys) == 3  # thumb, medium and large, once however often the file is uploaded
    for label, url in item["renditions"].items():
        assert url.startswith(f"{fake_s3.url}/{bucket}/"), label
        key = url.removeprefix(f"{fake_s3.url}/{bucket}/")
        assert key in keys
        head = s3.head_object(Bucket=bucket, Key=key)
        assert head["ContentType"] == "image/webp"
        assert head["CacheControl"] == "public, max-age=31536000, immutable"
    async with httpx.AsyncClient(timeout=10) as browser:  # a buyer's browser fetches it from the store
        got = await browser.get(item["url"])
    assert got.status_code == 200 and b"PhoneMaker" not in got.content
    assert Image.open(io.BytesIO(got.content)).size == (800, 600)


async def test_a_store_that_does_not_answer_is_a_503_and_records_nothing(db_url: str, app: Any) -> None:
    application = create_app(make_settings(
        db_url, shop_media_s3_endpoint="http://127.0.0.1:9", shop_media_s3_bucket="nowhere",
        shop_media_s3_key=KEY, shop_media_s3_secret=SECRET))
    transport = httpx.ASGITransport(app=application)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=60) as client:
            m = await f.merchant(client)
            p = await f.product(client, m)
            r = await _upload(client, m, p["id"], pictures.png())
            assert r.status_code == 503 and r.headers["content-type"] == "application/problem+json"
            assert (await client.get(f"/v1/products/{p['id']}")).json()["media"] == []
    finally:
        await application.state.engine.dispose()


async def test_an_upload_being_processed_does_not_hold_up_other_requests(client: httpx.AsyncClient,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    m = await f.merchant(client)
    p = await f.product(client, m)
    entered, release = threading.Event(), threading.Event()
    real = images.process

    def held(*args: Any, **kwargs: Any) -> images.Picture:
        entered.set()
        release.wait(30)  # were this on the event loop, nothing else could answer meanwhile
        return real(*args, **kwargs)

    monkeypatch.setattr(images, "process", held)
    upload = asyncio.create_task(_upload(client, m, p["id"], pictures.png()))
    assert await asyncio.to_thread(entered.wait, 30)
    other = await client.get(f"/v1/products/{p['id']}")
    assert other.status_code == 200 and not upload.done()
    release.set()
    assert (await upload).status_code == 201
