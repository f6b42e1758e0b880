"""Trading models (SB/T 10518-2009) and the rules tying sellers to them, as plain functions."""

from __future__ import annotations

from typing import Literal

TradingModel = Literal["b2c_mall", "b2c_single_store", "b2b_marketplace", "b2b_own", "c2c"]
TRADING_MODELS: dict[str, tuple[str, str]] = {
    "b2c_mall": ("B2C(Ⅰ) 网上商城", "B2C mall: many merchants on one platform"),
    "b2c_single_store": ("B2C(Ⅱ) 网上商店", "B2C single store: one merchant's own shop"),
    "b2b_marketplace": ("B2B(Ⅰ) 网上交易市场", "B2B marketplace: many sellers and business buyers"),
    "b2b_own": ("B2B(Ⅱ) 网上交易", "B2B own ordering: a producer's or wholesaler's own ordering site"),
    "c2c": ("C2C 网上个人交易市场", "C2C: individuals selling to consumers"),
}
INDIVIDUAL_YEARLY_LIMIT = 10_000_000  # fen: ¥100,000 a year across all of one person's shops (NTM art. 8)


def enabled_models(setting: str) -> list[str]:
    """The models a deployment runs, from a comma-separated setting (unknown names are ignored)."""
    wanted = [m.strip() for m in setting.split(",") if m.strip()]
    return [m for m in TRADING_MODELS if m in wanted]


def model_refusal(*, model: str, enabled: list[str], kind: str, registration: str) -> str | None:
    """Why a seller may not trade under `model`, or None. Unregistered individuals trade only C2C, and C2C is
    for individuals only."""
    if model not in enabled:
        return f"this platform does not run the {model} model (it runs: {', '.join(enabled)})"
    if model == "c2c" and kind != "individual":
        return "C2C is for individuals; enterprises choose a B2C or B2B model"
    if registration == "unregistered" and model != "c2c":
        return "an unregistered individual trades under the C2C model only"
    return None


def over_limit(yearly_sales: int) -> bool:
    """Whether a person's completed sales in a calendar year pass the ¥100,000 limit for unregistered trading."""
    return yearly_sales > INDIVIDUAL_YEARLY_LIMIT
