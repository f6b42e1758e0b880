"""An app with Alipay and WeChat Pay configured against the local fakes (keys made here), and merchants with
their own accounts at both."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from app.core import clock
from app.main import create_app
from tests import factories as f
from tests.conftest import _empty_tables, make_settings
from tests.fakes.alipay_server import FakeAlipay
from tests.fakes.stripe_server import FakeStripe
from tests.fakes.wechatpay_server import FakeWechatPay, private_pem, public_pem, rsa_key

ALIPAY_APP_ID = "2021000000000077"
MCHID, APPID, APIV3_KEY, SERIAL = "1900000001", "wx8888888888888888", "0123456789abcdef0123456789abcdef", "5157F09"


@pytest.fixture(scope="session")
def app_key() -> rsa.RSAPrivateKey:
    return rsa_key()


@pytest.fixture(scope="session")
def merchant_key() -> rsa.RSAPrivateKey:
    return rsa_key()


@pytest.fixture(scope="session")
def alipay_server(app_key: rsa.RSAPrivateKey) -> Iterator[FakeAlipay]:
    with FakeAlipay(app_id=ALIPAY_APP_ID, app_public_key=public_pem(app_key)) as fake:
        yield fake


@pytest.fixture(scope="session")
def wechat_server(merchant_key: rsa.RSAPrivateKey) -> Iterator[FakeWechatPay]:
    with FakeWechatPay(mchid=MCHID, appid=APPID, apiv3_key=APIV3_KEY, merchant_public_key=public_pem(merchant_key),
                       merchant_serial_no=SERIAL) as fake:
        yield fake


def cn_settings(db_url: str, *, alipay: FakeAlipay, wechat: FakeWechatPay, app_key: rsa.RSAPrivateKey,
                merchant_key: rsa.RSAPrivateKey, **extra: Any) -> dict[str, Any]:
    return {
        "alipay_app_id": ALIPAY_APP_ID, "alipay_app_private_key": private_pem(app_key),
        "alipay_public_key": alipay.alipay_public_key_pem, "alipay_gateway": alipay.gateway_url,
        "alipay_auth_url": alipay.auth_url,
        "wechatpay_mchid": MCHID, "wechatpay_appid": APPID, "wechatpay_apiv3_key": APIV3_KEY,
        "wechatpay_private_key": private_pem(merchant_key), "wechatpay_cert_serial_no": SERIAL,
        "wechatpay_public_key": wechat.platform_public_key_pem, "wechatpay_public_key_id": wechat.public_key_id,
        "wechatpay_api_base": wechat.url, **extra}


@pytest.fixture
def alipay(alipay_server: FakeAlipay) -> FakeAlipay:
    alipay_server.reset()
    return alipay_server


@pytest.fixture
def wechat(wechat_server: FakeWechatPay, monkeypatch: pytest.MonkeyPatch) -> FakeWechatPay:
    wechat_server.reset()
    # the SDK reaches the fake as its proxy, which serves api.mch.weixin.qq.com under its own authority
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", wechat_server.ca_bundle_path or "")
    return wechat_server


@pytest.fixture
async def cn_app(db_url: str, fake_stripe: FakeStripe, alipay: FakeAlipay, wechat: FakeWechatPay,
                 app_key: rsa.RSAPrivateKey, merchant_key: rsa.RSAPrivateKey, tmp_path: Path) -> AsyncIterator[Any]:
    await _empty_tables(db_url, keep=True)
    clock.reset()
    fake_stripe.reset()
    values = cn_settings(db_url, alipay=alipay, wechat=wechat, app_key=app_key, merchant_key=merchant_key,
                         stripe_api_base=fake_stripe.url, shop_media_root=str(tmp_path / "media"))
    application = create_app(make_settings(db_url, **values))
    yield application
    clock.reset()
    await application.state.engine.dispose()


@pytest.fixture
async def cn_client(cn_app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=cn_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=60) as c:
        yield c


@dataclass
class CnShop:
    """A shop whose merchant has an Alipay account (its seller id) and a WeChat Pay sub_mchid."""

    shop: f.Shop
    seller_id: str
    sub_mchid: str

    @property
    def m(self) -> f.MerchantCtx:
        return self.shop.m

    @property
    def variant_id(self) -> str:
        return self.shop.variant_id


_seq = iter(range(100, 10_000))


async def cn_shop(client: httpx.AsyncClient, alipay: FakeAlipay, wechat: FakeWechatPay, *, price: int = 10_000,
                  on_hand: int = 10) -> CnShop:
    shop = await f.shop(client, on_hand=on_hand, price=price)
    n = next(_seq)
    seller_id, sub_mchid = f"2088{n:012d}", f"19{n:08d}"
    token = alipay.issue_token(seller_id)
    wechat.bind(sub_mchid)
    r = await client.put("/v1/payment-accounts/alipay", headers=shop.m.headers,
                         json={"sub_merchant_id": seller_id, "app_auth_token": token})
    assert r.status_code == 201, r.text
    r = await client.put("/v1/payment-accounts/wechatpay", headers=shop.m.headers, json={"sub_merchant_id": sub_mchid})
    assert r.status_code == 201, r.text
    return CnShop(shop, seller_id, sub_mchid)


async def checkout(client: httpx.AsyncClient, s: CnShop, method: str, *, quantity: int = 1,
                   phone: bool = False) -> dict[str, Any]:
    headers = {"user-agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile"} if phone else {}
    r = await client.post("/v1/checkout", headers=headers,
                          json=f.checkout_body([(s.variant_id, quantity)], method=method))
    assert r.status_code == 201, r.text
    return dict(r.json())
