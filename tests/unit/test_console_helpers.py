"""The console's pure helpers: money and times as people read them, the carrier CSV, logins, the chart's labels."""

from datetime import UTC, datetime

import pytest

from app.core.csvfile import MalformedCsv
from app.merchants.staff import PERMISSIONS, ROLES, may, normal_login
from app.web import charts, i18n
from app.web.console_messages import CONSOLE
from app.web.shipping import parse


def test_money_has_thousands_separators_and_times_are_shanghai_without_microseconds() -> None:
    assert i18n.money(789_000_000) == "¥7,890,000.00"
    assert i18n.money(5) == "¥0.05" and i18n.money(-123_456) == "-¥1,234.56" and i18n.money(None) == "¥0.00"
    assert i18n.local_time(datetime(2026, 12, 3, 7, 45, 11, 123456, tzinfo=UTC)) == "2026-12-03 15:45"
    assert i18n.local_time("2026-12-31T16:30:00.5+00:00") == "2027-01-01 00:30"
    assert i18n.local_time(datetime(2026, 12, 3, 7, 45)) == "2026-12-03 15:45"  # SQLite's naive UTC
    assert i18n.local_time(None) == "—"


def test_carrier_csv_with_chinese_header_english_header_or_none() -> None:
    assert parse("订单号,快递公司,运单号\r\nA-1,顺丰速运,SF1\r\n\r\n") == [(2, "A-1", "顺丰速运", "SF1")]
    assert parse("tracking_no,number,carrier\nT9,B-2,中通\n") == [(2, "B-2", "中通", "T9")]
    assert parse("C-3,韵达,YD3\nC-4,韵达\n") == [(1, "C-3", "韵达", "YD3"), (2, "C-4", "韵达", "")]
    with pytest.raises(MalformedCsv):
        parse("订单号,运费\nA,1\n")


def test_logins_are_an_email_or_a_phone() -> None:
    assert normal_login(" Wang@Example.COM ") == "wang@example.com"
    assert normal_login("138-0000-1111") == normal_login("13800001111") == "13800001111"
    assert normal_login("+86 138 0000 1111") == "+8613800001111"
    assert normal_login("not a login") is None and normal_login("12") is None


def test_the_permission_table_names_known_roles_and_owners_may_do_everything() -> None:
    assert all(set(roles) <= set(ROLES) for roles in PERMISSIONS.values())
    assert all(may("owner", action) for action in PERMISSIONS)
    assert not may("clerk", "orders.ship") and not may("warehouse", "orders.refund") and not may("owner", "nope")


def test_every_console_message_has_both_languages() -> None:
    assert all(zh and en for zh, en in CONSOLE.values())
    assert i18n.translate("zh", "bulk_result", ok=50, bad=0) == "发货成功 50 单，失败 0 单。"


def test_a_long_chart_labels_at_most_a_dozen_days() -> None:
    days = [charts.DayBar(f"11-{i:02d}", 100, 50) for i in range(1, 31)]
    svg = charts.channel_bars(days, title="t", online_label="线上", offline_label="门店")
    assert svg.count('text-anchor="middle"') <= 12 and "¥1.00" in svg
