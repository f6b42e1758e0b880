"""The carriers a merchant ships with, and what each one's tracking numbers look like.

The patterns follow the numbers the carriers print on their waybills today; a carrier that widens its format only
needs its line here changed. Each entry also names the carrier's code at Kuaidi100 (the aggregator's `com`), so a
push names the carrier the way the merchant chose it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Carrier:
    code: str
    name: str  # in Chinese, as shoppers know it
    name_en: str
    pattern: str  # the whole tracking number, upper case
    example: str
    kuaidi100: str

    def accepts(self, tracking_no: str) -> bool:
        return re.fullmatch(self.pattern, tracking_no) is not None


CARRIERS: tuple[Carrier, ...] = (
    Carrier("SF", "顺丰速运", "SF Express", r"SF[0-9]{13}", "SF1234567890123", "shunfeng"),
    Carrier("ZTO", "中通快递", "ZTO Express", r"(?:7[0-9]|5[0-9]|3[0-9])[0-9]{10}", "731234567890", "zhongtong"),
    Carrier("YTO", "圆通速递", "YTO Express", r"YT[0-9]{13}", "YT1234567890123", "yuantong"),
    Carrier("STO", "申通快递", "STO Express", r"77[0-9]{11}", "7712345678901", "shentong"),
    Carrier("YUNDA", "韵达快递", "Yunda Express", r"(?:43|46|31)[0-9]{11}", "4312345678901", "yunda"),
    Carrier("JD", "京东物流", "JD Logistics", r"JD[0-9A-Z]{13}", "JDVA12345678901", "jd"),
    Carrier("EMS", "中国邮政 EMS", "China Post EMS", r"(?:E[A-Z][0-9]{9}CN|1[0-9]{12})", "EA123456789CN", "ems"),
    Carrier("JT", "极兔速递", "J&T Express", r"JT[0-9]{13}", "JT1234567890123", "jtexpress"),
    Carrier("DEPPON", "德邦快递", "Deppon", r"DPK[0-9]{12}", "DPK123456789012", "debangkuaidi"),
)
BY_CODE = {c.code: c for c in CARRIERS}
BY_KUAIDI100 = {c.kuaidi100: c for c in CARRIERS}


_SHORT = {"顺丰": "SF", "中通": "ZTO", "圆通": "YTO", "申通": "STO", "韵达": "YUNDA", "京东": "JD", "邮政": "EMS",
          "极兔": "JT", "德邦": "DEPPON"}


def lookup(text: str) -> Carrier | None:
    """A carrier as people write it in a waybill export: its code, its Chinese name, or the name's first words."""
    text = text.strip()
    found = BY_CODE.get(text.upper())
    if found is not None:
        return found
    for carrier in CARRIERS:
        if text in (carrier.name, carrier.name_en):
            return carrier
    return next((BY_CODE[code] for short, code in _SHORT.items() if text.startswith(short)), None)


def normalise(tracking_no: str) -> str:
    """Tracking numbers as carriers print them: no spaces, upper case."""
    return re.sub(r"\s+", "", tracking_no).upper()


def tracking_refusal(carrier: str, tracking_no: str) -> tuple[str, str] | None:
    """(field, message) when the pair cannot be right, None when it can."""
    found = BY_CODE.get(carrier)
    if found is None:
        return "carrier", f"not a carrier code: one of {', '.join(BY_CODE)}"
    if not found.accepts(normalise(tracking_no)):
        return "tracking_no", f"not a {found.name_en} tracking number (e.g. {found.example})"
    return None
