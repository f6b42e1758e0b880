"""An invoice as a one-page A4 PDF (ReportLab), laid out like a Chinese e-invoice: the buyer and seller, the
lines with their tax rate and tax, the total in words and figures. Red invoices name the blue one they reverse."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from app.core.cjkfont import cjk_font, wrap
from app.core.clock import SHANGHAI, as_utc

_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_UNITS = ("", "拾", "佰", "仟")
_GROUPS = ("", "万", "亿", "万亿")


@dataclass(frozen=True, slots=True)
class InvoiceDoc:
    """What the PDF prints."""

    number: str
    color: str  # blue | red
    issued_at: datetime
    buyer: str
    buyer_taxpayer_id: str | None
    seller: str
    seller_taxpayer_id: str | None
    lines: Sequence[dict[str, Any]]
    total: int
    tax_total: int
    order_number: str
    original_number: str | None = None


def yuan(amount: int) -> str:
    """Fen as yuan with two decimals and a sign: -12345 -> '-123.45'."""
    sign = "-" if amount < 0 else ""
    return f"{sign}{abs(amount) // 100:,}.{abs(amount) % 100:02d}"


def amount_in_words(amount: int) -> str:
    """The total in capital Chinese numerals, as invoices print it (价税合计大写): 12345 -> 壹佰贰拾叁圆肆角伍分."""
    prefix = "（负数）" if amount < 0 else ""
    fen = abs(amount)
    whole, jiao, cents = fen // 100, fen // 10 % 10, fen % 10
    words = ""
    if whole:
        groups: list[int] = []
        while whole:
            groups.append(whole % 10_000)
            whole //= 10_000
        zero = False
        for gi in range(len(groups) - 1, -1, -1):
            group = groups[gi]
            if group == 0:
                zero = bool(words)
                continue
            part = ""
            for ui in range(3, -1, -1):
                digit = group // 10**ui % 10
                if digit == 0:
                    zero = bool(words or part)
                    continue
                if zero:
                    part += "零"
                    zero = False
                part += _DIGITS[digit] + _UNITS[ui]
            words += part + _GROUPS[gi]
        words += "圆"
    if not jiao and not cents:
        return prefix + (words or "零圆") + "整"
    if jiao:
        words += _DIGITS[jiao] + "角"
    elif words:
        words += "零"
    if cents:
        words += _DIGITS[cents] + "分"
    return prefix + words


def render(doc: InvoiceDoc) -> bytes:
    """The invoice's PDF."""
    font = cjk_font()
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4, pageCompression=1)
    red = doc.color == "red"
    title = "电子发票（普通发票）" + ("（红字）" if red else "")
    pdf.setTitle(f"{title} {doc.number}")
    width, height = A4
    left, right = 15 * mm, width - 15 * mm
    y = height - 20 * mm
    pdf.setFont(font, 18)
    if red:
        pdf.setFillColorRGB(0.75, 0.1, 0.1)
    pdf.drawCentredString(width / 2, y, title)
    pdf.setFillColorRGB(0, 0, 0)
    pdf.setFont(font, 10)
    y -= 10 * mm
    pdf.drawRightString(right, y + 4 * mm, f"发票号码：{doc.number}")
    pdf.drawRightString(right, y - 1 * mm, f"开票日期：{as_utc(doc.issued_at).astimezone(SHANGHAI):%Y年%m月%d日}")
    y -= 10 * mm
    box = 30 * mm
    half = (left + right) / 2
    pdf.rect(left, y - box, right - left, box)
    pdf.line(half, y, half, y - box)
    for x, who, name, tax_id in ((left, "购买方", doc.buyer, doc.buyer_taxpayer_id),
                                 (half, "销售方", doc.seller, doc.seller_taxpayer_id)):
        pdf.setFont(font, 10)
        pdf.drawString(x + 3 * mm, y - 6 * mm, f"{who}信息")
        yy = y - 12 * mm
        for part in wrap(f"名称：{name}", half - left - 6 * mm, 10)[:2]:
            pdf.drawString(x + 3 * mm, yy, part)
            yy -= 5 * mm
        pdf.drawString(x + 3 * mm, yy, "统一社会信用代码/纳税人识别号：")
        pdf.drawString(x + 3 * mm, yy - 5 * mm, tax_id or "—")
    y -= box + 8 * mm
    columns = ((left + 2 * mm, "项目名称", "l"), (left + 95 * mm, "数量", "r"), (left + 125 * mm, "金额（含税）", "r"),
               (left + 145 * mm, "税率", "r"), (right - 2 * mm, "税额", "r"))
    pdf.line(left, y + 5 * mm, right, y + 5 * mm)
    for x, label, align in columns:
        (pdf.drawString if align == "l" else pdf.drawRightString)(x, y, label)
    y -= 3 * mm
    pdf.line(left, y, right, y)
    y -= 6 * mm
    for ln in doc.lines:
        if y < 50 * mm:
            pdf.showPage()
            pdf.setFont(font, 10)
            y = height - 20 * mm
        name = f"{ln['title']}（{ln['sku']}）"
        parts = wrap(name, 80 * mm, 10) or [""]
        pdf.drawRightString(columns[1][0], y, str(ln["quantity"]))
        pdf.drawRightString(columns[2][0], y, yuan(int(ln["amount"])))
        pdf.drawRightString(columns[3][0], y, f"{ln['tax_rate']}%")
        pdf.drawRightString(columns[4][0], y, yuan(int(ln["tax"])))
        for part in parts:
            pdf.drawString(columns[0][0], y, part)
            y -= 5.5 * mm
        y -= 1 * mm
    pdf.line(left, y + 3 * mm, right, y + 3 * mm)
    y -= 3 * mm
    pdf.drawString(left + 2 * mm, y, "合计")
    pdf.drawRightString(columns[2][0], y, f"¥{yuan(doc.total)}")
    pdf.drawRightString(columns[4][0], y, f"¥{yuan(doc.tax_total)}")
    y -= 8 * mm
    pdf.drawString(left + 2 * mm, y, f"价税合计（大写）：{amount_in_words(doc.total)}")
    pdf.drawRightString(right - 2 * mm, y, f"（小写）¥{yuan(doc.total)}")
    y -= 4 * mm
    pdf.line(left, y, right, y)
    y -= 7 * mm
    note = f"备注：订单号 {doc.order_number}"
    if doc.original_number:
        note += f"；对应蓝字发票号码 {doc.original_number}"
    for part in wrap(note, right - left - 4 * mm, 10):
        pdf.drawString(left + 2 * mm, y, part)
        y -= 5.5 * mm
    pdf.setFont(font, 8)
    pdf.drawString(left, 12 * mm, "金额含增值税；税额 = 金额 × 税率 ÷ (1 + 税率)，按分四舍五入。")
    pdf.showPage()
    pdf.save()
    return out.getvalue()
