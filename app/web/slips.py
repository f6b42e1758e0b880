"""Packing slips: one A4 page per order, all in one PDF (ReportLab), Chinese text in a CJK font from the system.

The font comes from app/core/cjkfont.py (Debian's fonts-wqy-microhei or Noto CJK; nothing is downloaded).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from reportlab.graphics.barcode import code128
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from app.core.cjkfont import cjk_font
from app.core.cjkfont import wrap as _wrap
from app.web import i18n
from app.web.order_page import place


def mask_phone(phone: str) -> str:
    """A phone number as a waybill shows it: 138****5678 (the first 3 and last 4 of 11 digits); shorter
    numbers keep only their last 4 digits."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    if len(digits) >= 11:
        return f"{digits[-11:-8]}****{digits[-4:]}"
    return f"****{digits[-4:]}" if len(digits) > 4 else "****"


def recipient(address: dict[str, Any]) -> dict[str, str]:
    """Only what delivery needs on a slip (C41, EXP arts. 22 and 34): the name, a masked phone and the address.
    Nothing else from the order (no ID number, no e-mail) is ever drawn."""
    return {"name": str(address.get("name") or ""), "phone": mask_phone(str(address.get("phone") or "")),
            "place": place(address), "postal_code": str(address.get("postal_code") or "")}


def packing_slips(shop_name: str, orders: Sequence[dict[str, Any]]) -> bytes:
    """A PDF of one packing slip per order (`order`: a view with `address` and `note`)."""
    font = cjk_font()
    out = io.BytesIO()
    pdf = canvas.Canvas(out, pagesize=A4, pageCompression=1)
    pdf.setTitle(f"{shop_name} 发货单")
    width, height = A4
    left, right = 18 * mm, width - 18 * mm
    for o in orders:
        y = height - 20 * mm
        pdf.setFont(font, 18)
        pdf.drawString(left, y, f"{shop_name} · 发货单")
        barcode = code128.Code128(o["number"], barHeight=12 * mm, barWidth=0.35 * mm)
        barcode.drawOn(pdf, right - barcode.width, y - 6 * mm)
        y -= 10 * mm
        pdf.setFont(font, 11)
        pdf.drawString(left, y, f"订单号：{o['number']}    下单时间：{i18n.local_time(o['created_at'])}")
        y -= 10 * mm
        to = recipient(o.get("address") or {})
        pdf.setFont(font, 12)
        pdf.drawString(left, y, f"收货人：{to['name']}    电话：{to['phone']}")
        y -= 7 * mm
        for line in _wrap(f"地址：{to['place']}（{to['postal_code']}）", right - left, 12):
            pdf.drawString(left, y, line)
            y -= 6 * mm
        if o.get("note"):
            for line in _wrap(f"买家留言：{o['note']}", right - left, 11):
                pdf.drawString(left, y, line)
                y -= 6 * mm
        y -= 4 * mm
        pdf.setFont(font, 11)
        pdf.line(left, y + 4 * mm, right, y + 4 * mm)
        pdf.drawString(left, y, "SKU")
        pdf.drawString(left + 45 * mm, y, "商品")
        pdf.drawRightString(right, y, "数量")
        y -= 3 * mm
        pdf.line(left, y, right, y)
        y -= 6 * mm
        for ln in o["lines"]:
            if y < 30 * mm:
                pdf.showPage()
                pdf.setFont(font, 11)
                y = height - 20 * mm
            pdf.drawString(left, y, str(ln["sku"])[:28])
            title = _wrap(str(ln["title"]), right - left - 70 * mm, 11)
            pdf.drawRightString(right, y, str(ln["quantity"]))
            for part in title or [""]:
                pdf.drawString(left + 45 * mm, y, part)
                y -= 6 * mm
        units = sum(int(ln["quantity"]) for ln in o["lines"])
        pdf.line(left, y + 3 * mm, right, y + 3 * mm)
        pdf.drawRightString(right, y - 3 * mm, f"共 {len(o['lines'])} 种商品，{units} 件")
        pdf.setFont(font, 9)
        pdf.drawString(left, 15 * mm, "请核对商品后签收。7 天无理由退货请保留本单。")
        pdf.showPage()
    pdf.save()
    return out.getvalue()
