"""The order terms a buyer agrees to at checkout (C15, C16), versioned: an order keeps the version it was placed
under (`Order.terms_version`) and the text of every version stays here, so the terms of any order can be
downloaded as they were. A changed text is a new version; an old one is never edited."""

from __future__ import annotations

from dataclasses import dataclass

from app.orders import contract


@dataclass(frozen=True, slots=True)
class Terms:
    version: str
    published: str  # the date it took effect (Asia/Shanghai)
    text: str


def _cancel_codes() -> str:
    return "\n".join(f"   - `{code}`：{zh}" for code, (zh, _en) in contract.SELLER_CANCEL_CODES.items())


_V1 = f"""# 流通平台订单条款（版本 2026-12-v1）

生效日期：2026-12-03。本条款随订单保存，可随时在订单页下载。

1. **合同成立**：你提交订单并成功下单时，你与商家之间的买卖合同即成立（《电子商务法》第四十九条）。
   提交前你可以在结算页修改收货地址、数量和付款方式。
2. **付款后商家不得单方取消**：订单付款后，商家不能自行取消订单。只有出现下列公示的原因之一，
   并且经你同意，或商家立即全额退款并计入其信用评价，订单才可以取消：
{_cancel_codes()}
3. **七日无理由退货**：自签收次日起七日内，你可以无理由退货（法定不适用的商品除外，下单时已标明）。
   **质量问题的退货运费由商家承担**。退款按原付款方式退回。
4. **你的权利不受限制**：本条款不排除、不限制你依法享有的退货、更换、修理、赔偿和投诉的权利。
   本平台和商家均不享有所谓"最终解释权"。
5. **个人信息**：你的收货人姓名、电话和地址仅用于履行本订单，提供给本订单的商家和承运快递公司。
6. **争议解决**：你可以通过订单页的投诉入口向平台投诉，平台将协助调解；也可以向市场监管部门投诉或依法起诉。
"""

TERMS: dict[str, Terms] = {t.version: t for t in (
    Terms("2026-12-v1", "2026-12-03", _V1),
)}
CURRENT = "2026-12-v1"


def terms_of(version: str | None) -> Terms:
    """The terms of an order (orders placed before terms were versioned are under the first version)."""
    return TERMS.get(version or "", TERMS["2026-12-v1"])
