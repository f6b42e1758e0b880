"""Who takes part in the tour: merchants it signs up for each run, kept out of the public lists (their goods sell by
link only), so the shop's listing, search and home page look the same after the tour as before; customers and one
individual seller are new on every run too. The demo's merchants (from `shop demo`'s credentials file) are only
read, for their shop pages."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.core.uscc import uscc_check_char
from app.tour.client import Api

PASSWORD = "tour-password-1"
INDIVIDUAL_ID = "510107190001010009"  # the demo's obviously fake ID-number-shaped placeholder (born 1900-01-01)


def address(name: str, line1: str, district: str, city: str, postal_code: str) -> dict[str, str]:
    return {"name": name, "phone": "13800138000", "line1": line1, "district": district, "city": city,
            "postal_code": postal_code, "country": "CN"}


@dataclass(frozen=True)
class Role:
    """A part the tour needs played: the demo merchant that plays it and what to create when it is missing."""

    key: str  # the demo's key in var/demo-credentials.json
    name: str
    trading_model: str
    store_code: str
    store_name: str
    store_address: dict[str, str]


ROLES: dict[str, Role] = {
    "apparel": Role("apparel", "导览服饰连锁 Tour Apparel Chain", "b2c_mall", "TOUR-ST", "导览徐汇店",
                    address("店长", "漕溪北路 398 号", "徐汇区", "上海市", "200030")),
    "fresh": Role("fresh", "导览邻里生鲜 Tour Neighbourhood Fresh", "b2c_mall", "TOUR-ST", "导览文三路店",
                  address("店长", "文三路 199 号", "西湖区", "杭州市", "310012")),
    "factory": Role("factory", "导览包装材料厂 Tour Packaging Factory", "b2b_own", "TOUR-OUTLET", "厂区门市部",
                    address("门市", "上角社区工业路 12 号", "长安镇", "东莞市", "523850")),
}


@dataclass
class Seller:
    key: str
    merchant_id: str
    api_key: str
    name: str
    store_id: str
    store_name: str
    from_demo: bool


def fake_uscc() -> str:
    """A well-formed unified social credit code (valid check character) for a merchant the tour signs up."""
    first17 = "91" + "310115" + f"{secrets.randbelow(10**8):08d}" + "1"
    return first17 + uscc_check_char(first17)


def read_credentials(path: Path) -> dict[str, Any]:
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError):
        return {}


def _store(api: Api, role: Role, merchant_id: str, key: str) -> tuple[str, str] | None:
    """The merchant's first store (None when its key is not accepted here); one is created when it has none."""
    listing = api.call("GET", "/v1/locations", step=f"{role.key}: list locations", token=key,
                       params={"limit": 500}, expect=(200, 401, 403))
    if not isinstance(listing, dict) or "items" not in listing:
        return None
    for loc in listing["items"]:
        if loc["kind"] == "store":
            return str(loc["id"]), str(loc["name"])
    made = api.call("POST", "/v1/locations", step=f"{role.key}: open a store", token=key,
                    json={"code": role.store_code, "name": role.store_name, "kind": "store",
                          "address": role.store_address})
    return str(made["id"]), str(made["name"])


def sign_up(api: Api, *, admin: str, name: str, kind: str, licence_no: str, email: str, trading_model: str,
            self_declaration: str | None = None) -> tuple[str, str]:
    """Self sign-up, verification by the operator, and the seller's trading model: (merchant id, API key)."""
    made = api.call("POST", "/v1/merchants", step=f"sign up {name}",
                    json={"name": name, "kind": kind, "licence_no": licence_no, "contact_email": email,
                          "id_number_consent": kind == "individual"})  # an individual ticks the ID-number consent
    api.call("POST", f"/v1/admin/merchants/{made['id']}/verify", step=f"verify {name}", token=admin)
    api.call("PUT", f"/v1/admin/merchants/{made['id']}/listing", step=f"keep {name}'s goods out of public lists",
             token=admin, json={"listed": False})
    profile: dict[str, Any] = {"trading_model": trading_model}
    if self_declaration:
        profile["self_declaration"] = self_declaration
    api.call("PUT", "/v1/seller-profile", step=f"{name}: trading model", token=made["api_key"], json=profile)
    return str(made["id"]), str(made["api_key"])


def seller(api: Api, *, admin: str, role: Role, creds: dict[str, Any], run: str) -> Seller:
    """A merchant signed up and verified for this run to play `role`, its goods kept out of public lists (the
    demo's merchants would put the tour's goods on the public home page)."""
    del creds  # the demo's merchants are read elsewhere, never sold through
    merchant_id, key = sign_up(api, admin=admin, name=role.name, kind="enterprise", licence_no=fake_uscc(),
                               email=f"tour-{run.lower()}-{role.key}@example.com", trading_model=role.trading_model)
    store = _store(api, role, merchant_id, key)
    assert store is not None
    return Seller(role.key, merchant_id, key, role.name, store[0], store[1], False)


@dataclass
class Customer:
    email: str
    token: str


def customer(api: Api, *, run: str, n: int, name: str) -> Customer:
    """A shopper signs up and signs in (OAuth2 password grant)."""
    email = f"tour-{run.lower()}-c{n}@example.com"
    api.call("POST", "/v1/customers", step=f"customer {name} signs up",
             json={"email": email, "password": PASSWORD, "name": name})
    token = api.call("POST", "/v1/auth/token", step=f"customer {name} signs in",
                     data={"username": email, "password": PASSWORD})
    return Customer(email, str(token["access_token"]))
