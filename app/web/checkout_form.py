"""The checkout form: Chinese address entry, the page's own checks, and the API's problems turned into words a
shopper understands, each beside its field."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from app.core.errors import DomainError
from app.logistics import rules
from app.web.i18n import Lang

PROVINCES = rules.PROVINCES  # the provinces a delivery address may name
MUNICIPALITIES = ("北京市", "天津市", "上海市", "重庆市")
ADDRESS_FIELDS = ("name", "phone", "province", "city", "district", "line1", "postal_code")
INVOICE_FIELDS = ("invoice_kind", "invoice_title", "invoice_taxpayer_id")
FORM_FIELDS = ("email", *ADDRESS_FIELDS, "location_id", "payment_method", "coupon_code",
               "confirm_return_exclusions", *INVOICE_FIELDS)

_LABELS: dict[str, tuple[str, str]] = {
    "email": ("电子邮箱", "e-mail"), "name": ("收货人", "name"), "phone": ("手机号码", "phone number"),
    "province": ("省份", "province"), "city": ("城市", "city"), "district": ("区/县", "district"),
    "line1": ("详细地址", "street address"), "postal_code": ("邮编", "postal code"),
    "location_id": ("自提门店", "pick-up store"), "payment_method": ("支付方式", "payment method"),
    "coupon_code": ("优惠码", "coupon code"),
    "invoice_title": ("发票抬头", "name on the invoice"), "invoice_kind": ("抬头类型", "invoice type"),
    "invoice_taxpayer_id": ("纳税人识别号", "taxpayer number"),
}
_SPECIFIC: dict[str, tuple[str, str]] = {
    "email": ("请填写正确的电子邮箱，例如 name@example.com", "Enter an e-mail address such as name@example.com"),
    # U+2011, a hyphen that never ends a line: the example number stays whole.
    "phone": ("请填写正确的手机号码（11 位，以 13–19 开头）或带区号的固定电话，例如 021\u201155550000",
              "Enter a mobile number (11 digits starting 13–19) or a landline with its area code, e.g. "
              "021\u201155550000"),
    "postal_code": ("邮编应为 6 位数字", "A postal code is 6 digits"),
    "location_id": ("请选择一家自提门店", "Choose a store to collect from"),
    "payment_method": ("请选择支付方式", "Choose how to pay"),
    "coupon_code": ("优惠码无效，或不适用于这些商品", "This coupon code is not valid for these items"),
    "invoice_taxpayer_id": ("纳税人识别号有误：单位发票请填写 18 位统一社会信用代码，例如营业执照上的代码",
                            "Check the taxpayer number: a company invoice needs the 18-character unified social "
                            "credit code on its business licence"),
}
_REQUIRED = ("请填写{label}", "Enter your {label}")
_TOO_LONG = ("{label}太长了", "The {label} is too long")
_OTHER = ("{label}填写有误，请检查", "Check the {label}")


def label(field: str, lang: Lang) -> str:
    pair = _LABELS.get(field, (field, field))
    return pair[0 if lang == "zh" else 1]


def _say(pair: tuple[str, str], lang: Lang, **kwargs: object) -> str:
    return pair[0 if lang == "zh" else 1].format(**kwargs)


def _form_field(path: str) -> str | None:
    """The form field an API error path points at: `fulfilment.delivery.address.phone` -> `phone`,
    `invoice.taxpayer_id` (or an invoice request's own `taxpayer_id`) -> `invoice_taxpayer_id`."""
    parts = path.split(".")
    last = parts[-1]
    if (parts[0] == "invoice" and len(parts) == 2) or path in ("kind", "title", "taxpayer_id"):
        last = f"invoice_{last}"
    return last if last in FORM_FIELDS else None


def _message(field: str, kind: str, lang: Lang) -> str:
    if kind in ("missing", "string_too_short", "empty") and field not in ("location_id", "payment_method"):
        return _say(_REQUIRED, lang, label=label(field, lang))
    if kind == "string_too_long":
        return _say(_TOO_LONG, lang, label=label(field, lang))
    if field in _SPECIFIC:
        return _say(_SPECIFIC[field], lang)
    return _say(_OTHER, lang, label=label(field, lang))


def invoice_checks(values: Mapping[str, str], lang: Lang) -> dict[str, str]:
    """The invoice fields the page refuses before asking the API: no title, a company without its number."""
    errors: dict[str, str] = {}
    if not values.get("invoice_title"):
        errors["invoice_title"] = _message("invoice_title", "missing", lang)
    if values.get("invoice_kind") == "company" and not values.get("invoice_taxpayer_id"):
        errors["invoice_taxpayer_id"] = _message("invoice_taxpayer_id", "pattern", lang)
    return errors


def invoice_request(values: Mapping[str, str]) -> dict[str, str | None]:
    """The API's invoice request from the form's fields."""
    return {"kind": "company" if values.get("invoice_kind") == "company" else "personal",
            "title": values.get("invoice_title") or "", "taxpayer_id": values.get("invoice_taxpayer_id") or None}


def page_checks(values: Mapping[str, str], *, guest: bool, lang: Lang) -> dict[str, str]:
    """What the page refuses before asking the API: empty required fields and the mainland's address shape."""
    errors: dict[str, str] = {}
    if values.get("invoice") == "1":
        errors.update(invoice_checks(values, lang))
    if guest and not values.get("email"):
        errors["email"] = _message("email", "missing", lang)
    if values.get("fulfilment") == "pickup":
        if not values.get("location_id"):
            errors["location_id"] = _message("location_id", "missing", lang)
        return errors
    for field in ADDRESS_FIELDS:
        if not values.get(field):
            errors[field] = _message(field, "missing", lang)
    province = values.get("province")
    if province and province not in PROVINCES:
        errors["province"] = _say(("请从列表中选择省份", "Choose a province from the list"), lang)
    postal = values.get("postal_code")
    if postal and not re.fullmatch(r"[0-9]{6}", postal):
        errors["postal_code"] = _message("postal_code", "pattern", lang)
    return errors


def api_errors(exc: DomainError | ValidationError, lang: Lang, *,
               titles: Mapping[str, str] | None = None) -> tuple[dict[str, str], list[str]]:
    """(messages by form field, messages for the whole form) for what the API refused; never raw English."""
    by_field: dict[str, str] = {}
    general: list[str] = []
    if isinstance(exc, ValidationError):
        items: Sequence[Mapping[str, Any]] = [
            {"field": ".".join(str(p) for p in e["loc"]), "type": e["type"]} for e in exc.errors()]
    else:
        items = [e for e in exc.extra.get("errors", []) if isinstance(e, dict)]
        if not items and exc.extra.get("field"):
            items = [{"field": exc.extra["field"], "type": "used_up"}]
    for item in items:
        field = _form_field(str(item.get("field", "")))
        if field is None:
            continue
        if field == "province" and item.get("type") == "undeliverable":
            by_field[field] = _say(("抱歉，该商家暂不配送到{province}，请更换收货地址。",
                                    "Sorry, this shop does not deliver to {province}: choose another address."),
                                   lang, province=item.get("province") or "")
        elif field == "coupon_code" and item.get("type") == "used_up":
            by_field[field] = _say(("这个优惠码已经用完了", "This coupon has been used up"), lang)
        else:
            by_field.setdefault(field, _message(field, str(item.get("type") or ""), lang))
    if by_field:
        return by_field, general
    skus = exc.extra.get("skus") if isinstance(exc, DomainError) else None
    if isinstance(skus, list) and skus:
        names = "、".join((titles or {}).get(str(s), str(s)) for s in skus)
        general.append(_say(("库存不足：{names}。请减少数量或选择其他规格。",
                             "Not enough stock for {names}. Lower the quantity or choose another option."),
                            lang, names=names))
    elif isinstance(exc, DomainError) and exc.status == 409:
        general.append(_say(("商品库存或价格刚刚发生变化，请重新提交订单。",
                             "Stock or prices just changed: please place the order again."), lang))
    else:
        general.append(_say(("订单未能提交，请检查后重试。", "The order could not be placed: please check and try "
                             "again."), lang))
    return by_field, general
