"""Listing moderation (C9, C16) as plain functions: prohibited words hold a listing for review, forbidden
clauses in seller texts are refused outright. The word list is built in and extended by settings."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from app.config import Settings
from app.core.errors import InvalidInput

# Goods that may not be sold online (or only with permits the platform cannot check): held for review.
PROHIBITED_WORDS: tuple[str, ...] = (
    "枪支", "仿真枪", "弹药", "子弹", "毒品", "冰毒", "大麻", "海洛因", "迷药", "窃听器", "假币", "假证",
    "代开发票", "办证", "象牙", "犀牛角", "穿山甲", "管制刀具",
    "firearm", "handgun", "ammunition", "cocaine", "heroin", "methamphetamine", "counterfeit currency",
    "fake id", "ivory", "rhino horn",
)
# Clauses that take away a consumer's statutory rights (NTM art. 21, CPL art. 26): refused with a 422.
FORBIDDEN_CLAUSES: tuple[str, ...] = (
    "最终解释权", "概不退换", "不退不换", "恕不退换", "售出不退", "一经售出", "拒绝退货",
    "final interpretation", "final right of interpretation", "all sales final", "all sales are final",
    "no refunds or exchanges",
)
_SPACE = re.compile(r"[\s\u3000]+")


def normalise(text: str) -> str:
    """Full-width to half-width, case-folded, runs of spaces made one."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text).casefold())


def _found(term: str, text: str, squeezed: str) -> bool:
    term = normalise(term).strip()
    if term.isascii():  # whole words, so `ivory` does not hold `ivorycoast.example`
        return re.search(rf"(?<![a-z0-9]){re.escape(term)}(?![a-z0-9])", text) is not None
    return term.replace(" ", "") in squeezed  # 最 终 解 释 权 is still the clause


def matches(text: str, terms: tuple[str, ...]) -> list[str]:
    """The terms of `terms` that occur in `text` (in list order)."""
    norm = normalise(text)
    squeezed = norm.replace(" ", "")
    return [t for t in terms if t.strip() and _found(t, norm, squeezed)]


@dataclass(frozen=True, slots=True)
class ListingPolicy:
    """What the catalog checks on create and update; built from the settings by `policy_from`."""

    prohibited: tuple[str, ...] = PROHIBITED_WORDS
    forbidden_clauses: tuple[str, ...] = FORBIDDEN_CLAUSES
    reverify_months: int = 6
    reverify_grace_days: int = 15


def policy_from(settings: Settings) -> ListingPolicy:
    extra = tuple(w.strip() for w in re.split(r"[,，\n]", settings.shop_prohibited_words) if w.strip())
    return ListingPolicy(prohibited=PROHIBITED_WORDS + extra, reverify_months=settings.shop_reverify_months,
                         reverify_grace_days=settings.shop_reverify_grace_days)


def clause_errors(texts: dict[str, str], policy: ListingPolicy) -> list[dict[str, str]]:
    """One error per field whose text carries a forbidden clause."""
    errors = []
    for name, text in texts.items():
        found = matches(text, policy.forbidden_clauses)
        if found:
            errors.append({"field": name, "message": f"contains a clause that takes away consumer rights: "
                                                      f"{', '.join(found)}"})
    return errors


def check_clauses(texts: dict[str, str | None], policy: ListingPolicy | None = None) -> None:
    """Refuse (422 naming each field) seller texts shown to shoppers that carry a forbidden clause: campaign
    titles, promotion texts, shop descriptions get the listing check. The clause list does not depend on the
    settings, so callers without them use the built-in policy."""
    errors = clause_errors({k: v for k, v in texts.items() if v}, policy or ListingPolicy())
    if errors:
        raise InvalidInput("texts shown to shoppers may not take away consumer rights", errors=errors)


def held_for(texts: dict[str, str], policy: ListingPolicy) -> list[str]:
    """The prohibited words found in the listing's texts (the listing is then held for review)."""
    return matches("\n".join(texts.values()), policy.prohibited)
