"""`POST /v1/wholesale/orders/csv`: what ERP exports really look like, and files that cannot be read."""

import httpx

from tests import factories as f


async def _setup(client: httpx.AsyncClient):
    m = await f.merchant(client)
    wh = await f.location(client, m)
    await f.wholesale_product(client, m, wh, sku="RICE-5KG")
    await f.wholesale_product(client, m, wh, sku="TEA-GREEN", price=5_000, moq=1, pack_size=1, tiers=(), on_hand=30)
    return m, await f.buyer(client, m)


async def _post(client: httpx.AsyncClient, b: f.BuyerCtx, body: bytes, **params) -> httpx.Response:
    return await client.post("/v1/wholesale/orders/csv", content=body,
                             params={"merchant_id": b.merchant_id, **params},
                             headers={**b.headers, "Content-Type": "text/csv"})


async def test_bom_crlf_blank_lines_quotes_and_extra_columns_are_read(client: httpx.AsyncClient, app):
    _, b = await _setup(client)
    body = ("\ufeffSKU, Quantity ,note\r\n"
            "\r\n"
            '"RICE-5KG","1,000","for stores 1, 2 and ""3"""\r\n'
            "\r\n"
            ' TEA-GREEN , 7 ,"two\r\nline note"\r\n'
            "\r\n").encode()
    r = await _post(client, b, body, mode="all_or_nothing", payment="terms")
    assert r.status_code == 201, r.text
    lines = r.json()["lines"]
    assert [(ln["row"], ln["sku"], ln["quantity"], ln["unit_price"]) for ln in lines] == [
        (3, "RICE-5KG", 1_000, 800), (5, "TEA-GREEN", 7, 5_000)]
    assert r.json()["order"]["total"] == 1_000 * 800 + 7 * 5_000
    assert await f.levels(app) == await f.ledger(app)


async def test_bad_rows_are_named_by_their_line_in_the_file(client: httpx.AsyncClient):
    _, b = await _setup(client)
    body = b"sku,quantity\nRICE-5KG,100\n\nNOPE,10\nTEA-GREEN,lots\nRICE-5KG,12\n"
    r = await _post(client, b, body)
    assert r.status_code == 422
    assert [(e["row"], e["field"], e["code"]) for e in r.json()["errors"]] == [
        (4, "line 4", "unknown_sku"), (5, "line 5", "invalid_quantity"), (6, "line 6", "duplicate_sku")]
    partial = await _post(client, b, body, mode="partial")
    assert partial.status_code == 201 and partial.json()["accepted"] == 1 and partial.json()["rejected"] == 3


async def test_malformed_files_get_a_400_naming_the_line(client: httpx.AsyncClient):
    _, b = await _setup(client)
    cases = {
        b"sku,quantity\nRICE-5KG,100\n\"TEA-GREEN,5\n": 3,  # unclosed quote
        b"sku,quantity\nRICE-5KG,100\nTEA-GREEN\n": 3,  # a column missing
        b"item,qty\nRICE-5KG,100\n": 1,  # not our header
        b"sku,quantity\nRICE-5KG,100\n\xff\xfe,3\n": 3,  # not UTF-8
        b"sku,quantity\nRICE-\x00,100\n": 2,  # a NUL byte
    }
    for body, line in cases.items():
        r = await _post(client, b, body)
        assert r.status_code == 400, (body, r.text)
        problem = r.json()
        assert problem["line"] == line and f"line {line}" in problem["detail"], (body, problem)
        assert r.headers["content-type"].startswith("application/problem+json")
    for body in (b"", b"\r\n\r\n", b"sku,quantity\r\n"):
        r = await _post(client, b, body)
        assert r.status_code == 400, (body, r.text)
    assert (await client.get("/v1/orders", headers=b.headers)).json()["items"] == []


async def test_query_parameters_are_validated(client: httpx.AsyncClient):
    _, b = await _setup(client)
    r = await _post(client, b, b"sku,quantity\nRICE-5KG,100\n", mode="sometimes")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "mode"
    r = await client.post("/v1/wholesale/orders/csv", content=b"sku,quantity\nRICE-5KG,100\n", headers=b.headers)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "merchant_id"
