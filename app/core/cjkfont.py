"""A Chinese font for the PDFs the project renders with ReportLab (packing slips, invoices).

The font is Debian's fonts-wqy-microhei (or Noto CJK when installed); nothing is downloaded. It is embedded as a
subset with its character map, so the PDF's text is real text (`pdftotext` reads the Chinese). Without one,
`cjk_font` raises `NoCjkFont`, which says which package to install.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from app.core.errors import DomainError

FONT_FILES = ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
              "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
FONT = "CJK"


class NoCjkFont(DomainError):
    status = 503
    type_slug = "no-cjk-font"
    title = "No Chinese font is installed"


@cache
def cjk_font() -> str:
    """The registered font's name (registered once per process)."""
    for path in FONT_FILES:
        if Path(path).exists():
            pdfmetrics.registerFont(TTFont(FONT, path, subfontIndex=0))
            return FONT
    raise NoCjkFont("install the fonts-wqy-microhei package to print Chinese PDFs")


def wrap(text: str, width: float, size: float) -> list[str]:
    """Lines of `text` no wider than `width` points (Chinese has no spaces: break anywhere)."""
    lines, current = [], ""
    for ch in text:
        if pdfmetrics.stringWidth(current + ch, FONT, size) > width:
            lines.append(current)
            current = ch
        else:
            current += ch
    return [*lines, current] if current else lines
