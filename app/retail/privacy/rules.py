"""Personal-information rules with no database (C19–C22, PIPL): the purposes a customer consents to, the notice
text version of each, and which single fields a customer may delete."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Purpose:
    code: str
    required: bool  # needed to have an account at all: given at sign-up, ended only by closing the account
    text_version: str  # the notice the person agreed to; a changed text gets a new version
    zh: str
    en: str


# Optional purposes start off and are asked one by one (PIPL 14, 23): none is bundled with the account.
PURPOSES: dict[str, Purpose] = {p.code: p for p in (
    Purpose("account", True, "2026-12-v1", "注册和管理账户（必需）", "Create and run your account (required)"),
    Purpose("order_fulfilment", True, "2026-12-v1", "处理你下的订单：收货、付款、售后（必需）",
            "Process your orders: delivery, payment, after-sales (required)"),
    Purpose("marketing", False, "2026-12-v1", "接收促销和活动信息（可随时退订）",
            "Receive promotions and campaign messages (unsubscribe any time)"),
    Purpose("share_merchant", False, "2026-12-v1", "把联系方式提供给购买过的商家，用于会员和回访",
            "Give your contact details to merchants you bought from, for membership and follow-up"),
    Purpose("share_carrier", False, "2026-12-v1", "把地址保存给快递公司，用于上门取件和送货偏好",
            "Let carriers keep your address for pick-up and delivery preferences"),
)}
REQUIRED = tuple(code for code, p in PURPOSES.items() if p.required)
OPTIONAL = tuple(code for code, p in PURPOSES.items() if not p.required)


# Single fields a customer may delete without closing the account (PIPL 47): none the account cannot do without
# (the e-mail signs in; a name is how orders are addressed) and nothing the law keeps (orders stay, C23).
DELETABLE_FIELDS: dict[str, str] = {
    "phone": "the phone number on the profile",
    "addresses": "the saved delivery addresses (address book)",
}
KEPT_FIELDS: dict[str, str] = {
    "email": "needed to sign in: correct it with PATCH /v1/me, or close the account",
    "name": "needed to address your orders: correct it with PATCH /v1/me, or close the account",
    "orders": "transaction records are kept by law (ECL art. 31) and leave with the account only into legal hold",
    "reviews": "published reviews are part of the merchant's record; closing the account keeps them anonymous",
    "complaints": "complaints are kept as the record of how they were handled",
    "consents": "withdraw a consent with PUT /v1/me/consents",
}


def deletion_refusal(field: str) -> str | None:
    """Why `field` cannot be deleted on its own, or None when it can."""
    if field in DELETABLE_FIELDS:
        return None
    return KEPT_FIELDS.get(field, "no such field")
