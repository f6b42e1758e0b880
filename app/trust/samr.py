"""The half-yearly report to the market regulator (C26: NTM art. 25, ECL art. 28).

Each January and July the platform sends the provincial SAMR the identity data of its sellers (name, credit
code or ID number, address, contact, shop name and address on the web, self-declaration), marking unregistered
individuals whose yearly sales passed ¥100,000, and the platform's statistics for the half-year. The file is
made here; sending it is a manual step.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.config import Settings
from app.core.clock import SHANGHAI, utcnow
from app.core.errors import field_error
from app.merchants import verification
from app.merchants.models import Merchant
from app.orders.models import Order
from app.trust import declarations
from app.trust.audit_log import record_audit
from app.trust.models import SellerProfile

SELLER_COLUMNS = ("经营者名称", "市场主体类型", "登记状态", "证照类型", "统一社会信用代码或身份证号",
                  "法定代表人或经营者", "实际经营地址", "联系电话", "电子邮箱", "网店名称",
                  "网店网址", "自我声明", "证照有效期至",
                  "年交易额超过10万元", "平台状态", "核验时间", "核验人")
_PERIOD = re.compile(r"^(\d{4})H([12])$")


@dataclass(frozen=True, slots=True)
class Period:
    """A half-year on the Shanghai calendar: H1 is January to June, H2 July to December."""

    year: int
    half: int

    @property
    def label(self) -> str:
        return f"{self.year}H{self.half}"

    @property
    def start(self) -> datetime:
        return datetime(self.year, 1 if self.half == 1 else 7, 1, tzinfo=SHANGHAI).astimezone(UTC)

    @property
    def end(self) -> datetime:
        nxt = date(self.year, 7, 1) if self.half == 1 else date(self.year + 1, 1, 1)
        return datetime(nxt.year, nxt.month, 1, tzinfo=SHANGHAI).astimezone(UTC)


def parse_period(text: str) -> Period:
    """`2026H2` → the half-year; 422 naming `period` otherwise."""
    match = _PERIOD.match(text)
    if not match or not 2000 <= int(match.group(1)) <= 2200:
        raise field_error("period", "a half-year such as 2026H2 (H1: January-June, H2: July-December)")
    return Period(int(match.group(1)), int(match.group(2)))


def due_period(now: datetime) -> Period:
    """The half-year a report made `now` covers: the one that ended last (in January, July-December before)."""
    local = now.astimezone(SHANGHAI)
    return Period(local.year - 1, 2) if local.month <= 6 else Period(local.year, 1)


def _yes(flag: bool) -> str:
    return "是" if flag else "否"


async def report_rows(session: AsyncSession, *, period: Period, public_url: str) -> tuple[list[list[Any]],
                                                                                          list[list[Any]]]:
    """The seller rows (every seller that traded or was on the platform in the period) and the statistics."""
    merchants = (await session.execute(
        select(Merchant, SellerProfile.self_declaration, SellerProfile.over_threshold_year)
        .outerjoin(SellerProfile, SellerProfile.merchant_id == Merchant.id)
        .where(Merchant.created_at < period.end).order_by(Merchant.id))).all()
    sellers: list[list[Any]] = []
    for m, declaration, over_year in merchants:
        reg = verification.registration_type(m.kind, m.licence_no)
        statement = declarations.SELF_DECLARATIONS[declaration or declarations.DEFAULT_DECLARATION] \
            if reg == "unregistered" else ""
        sellers.append([m.name, "企业" if m.kind == "enterprise" else "个人",
                        "已登记" if reg == "registered" else "未登记",
                        m.licence_type or verification.default_licence_type(m.kind, m.licence_no), m.licence_no,
                        m.legal_representative or "", m.registered_address or "", m.contact_phone or "",
                        m.contact_email, m.name, f"{public_url.rstrip('/')}/shops/{m.id}", statement,
                        m.licence_expires_on.isoformat() if m.licence_expires_on else "",
                        _yes(reg == "unregistered" and over_year == period.year), m.status,
                        m.verified_at.isoformat() if m.verified_at else "", m.verified_by or ""])
    orders = (await session.execute(
        select(func.count(), func.coalesce(func.sum(Order.total), 0), func.coalesce(func.sum(Order.refunded), 0))
        .where(Order.created_at >= period.start, Order.created_at < period.end, Order.status != "cancelled"))).one()
    by_status: dict[str, int] = {}
    for m, _, _ in merchants:
        by_status[m.status] = by_status.get(m.status, 0) + 1
    registered = sum(1 for r in sellers if r[2] == "已登记")
    stats: list[list[Any]] = [
        ["报告期", f"{period.label}（{period.start.astimezone(SHANGHAI).date()} 至 "
                f"{(period.end.astimezone(SHANGHAI)).date()}，不含末日）"],
        ["商家总数", len(sellers)], ["已登记市场主体", registered], ["未登记个人卖家", len(sellers) - registered],
        ["年交易额超过10万元的未登记个人卖家", sum(1 for r in sellers if r[13] == "是")],
        *[[f"状态：{status}", n] for status, n in sorted(by_status.items())],
        ["报告期内订单数（不含已取消）", int(orders[0])],
        ["报告期内成交金额（分）", int(orders[1])], ["报告期内退款金额（分）", int(orders[2])],
    ]
    return sellers, stats


def to_csv(sellers: list[list[Any]], stats: list[list[Any]]) -> bytes:
    """One file: the seller table, a blank line, then the statistics (UTF-8 with a BOM, so Excel reads it)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(SELLER_COLUMNS)
    writer.writerows(sellers)
    writer.writerow([])
    writer.writerow(["统计项", "数值"])
    writer.writerows(stats)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


async def build_report(*, session: AsyncSession, actor: str, period: Period, public_url: str) -> bytes:
    """The report for `period` as CSV; every report made is in the audit log (it holds ID numbers)."""
    sellers, stats = await report_rows(session, period=period, public_url=public_url)
    await record_audit(session, actor=actor, action="report.samr", target_type="report", target_id=period.label,
                       after={"sellers": len(sellers)})
    await session.commit()
    return to_csv(sellers, stats)


async def scheduled_report(factory: async_sessionmaker[AsyncSession], settings: Settings) -> int:
    """Job: in January and July, write the report of the half-year just ended to SHOP_REPORT_DIR once."""
    now = utcnow()
    if now.astimezone(SHANGHAI).month not in (1, 7):
        return 0
    period = due_period(now)
    path = Path(settings.shop_report_dir) / f"samr_{period.label}.csv"
    if path.exists():
        return 0
    async with factory() as session:
        body = await build_report(session=session, actor="job:samr_report", period=period,
                                  public_url=settings.shop_public_url)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(body)
    tmp.replace(path)  # never a half-written file under the final name
    return 1
