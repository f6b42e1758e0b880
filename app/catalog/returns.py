"""A listing's return class under the 7-day no-reason return rules (no database).

R7 art. 6 (CPL 25(1)) excludes four kinds of goods by law; R7 art. 7 lets three more kinds be excluded only
when the buyer confirms it for that purchase. Sellers pick from these closed lists and nothing else (R7
art. 30: they may not widen them). Whole categories (`fresh`, `services`) are excluded by the category.
"""

from __future__ import annotations

from typing import Literal

ReturnClass = Literal["standard", "statutory_excluded", "confirm_required"]
StatutoryReason = Literal["custom_made", "fresh", "digital", "periodical"]
ConfirmReason = Literal["unsafe_once_unsealed", "value_lost_once_activated", "near_expiry_or_defective_disclosed"]
ReturnReason = Literal["custom_made", "fresh", "digital", "periodical", "unsafe_once_unsealed",
                       "value_lost_once_activated", "near_expiry_or_defective_disclosed"]

STATUTORY_REASONS: tuple[str, ...] = ("custom_made", "fresh", "digital", "periodical")
CONFIRM_REASONS: tuple[str, ...] = ("unsafe_once_unsealed", "value_lost_once_activated",
                                    "near_expiry_or_defective_disclosed")
REASONS_BY_CLASS: dict[str, tuple[str, ...]] = {
    "standard": (), "statutory_excluded": STATUTORY_REASONS, "confirm_required": CONFIRM_REASONS}

# (zh, en): what the product page says, in plain words.
LABELS: dict[tuple[str, str | None], tuple[str, str]] = {
    ("standard", None): ("支持7天无理由退货", "7-day no-reason returns"),
    ("statutory_excluded", "custom_made"): ("定制商品，不支持7天无理由退货",
                                            "Made to order: no 7-day no-reason returns"),
    ("statutory_excluded", "fresh"): ("鲜活易腐商品，不支持7天无理由退货",
                                      "Fresh or perishable: no 7-day no-reason returns"),
    ("statutory_excluded", "digital"): ("在线下载或已拆封的音像制品、计算机软件等数字商品，不支持7天无理由退货",
                                        "Downloaded or unsealed audio, video or software: no 7-day no-reason "
                                        "returns"),
    ("statutory_excluded", "periodical"): ("已交付的报纸、期刊，不支持7天无理由退货",
                                           "Newspapers and periodicals once delivered: no 7-day no-reason returns"),
    ("confirm_required", "unsafe_once_unsealed"): (
        "拆封后易影响人身安全、生命健康或商品品质：经您购买时确认后不支持7天无理由退货",
        "Unsafe or changed once unsealed: no 7-day no-reason returns only if you confirm this when you buy"),
    ("confirm_required", "value_lost_once_activated"): (
        "一经激活或试用后价值贬损较大：经您购买时确认后不支持7天无理由退货",
        "Loses much value once activated or tried: no 7-day no-reason returns only if you confirm this when "
        "you buy"),
    ("confirm_required", "near_expiry_or_defective_disclosed"): (
        "临近保质期或有瑕疵（销售时已告知）：经您购买时确认后不支持7天无理由退货",
        "Near its expiry date or with a defect shown at sale: no 7-day no-reason returns only if you confirm "
        "this when you buy"),
}
CATEGORY_LABELS: dict[str, tuple[str, str]] = {
    "fresh": ("生鲜商品，不支持7天无理由退货", "Fresh food: no 7-day no-reason returns"),
    "services": ("本地服务，不适用7天无理由退货", "Local services: no 7-day no-reason returns"),
}


def class_error(return_class: str, return_reason: str | None) -> str | None:
    """Why a class and reason do not go together, or None (the reason must come from the class's own list)."""
    allowed = REASONS_BY_CLASS.get(return_class)
    if allowed is None:
        return f"unknown return class {return_class!r}"
    if not allowed:
        return None if return_reason is None else "a standard listing takes no return_reason"
    if return_reason not in allowed:
        return f"{return_class} needs return_reason, one of: {', '.join(allowed)}"
    return None


def label(category: str, return_class: str, return_reason: str | None) -> dict[str, str]:
    """The plain-words return terms of a listing, in Chinese and English."""
    zh, en = CATEGORY_LABELS.get(category) or LABELS.get((return_class, return_reason)) or LABELS[("standard", None)]
    return {"zh": zh, "en": en}


# Goods that came back and are sold again without being restored to new are labelled (CPL art. 44, R7 art. 23):
# resold as returned, or with a defect. A returned SKU sells again only with one of these.
ConditionLabel = Literal["二次销售", "瑕疵"]
CONDITION_LABELS: tuple[str, ...] = ("二次销售", "瑕疵")


def on_sale_again(*, returned: bool, condition_label: str | None) -> bool:
    """Whether a SKU may be sold: one whose returned units are back on hand needs a condition label first."""
    return not returned or condition_label in CONDITION_LABELS
