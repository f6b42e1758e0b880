"""Invoice rules without a database: tax inside tax-inclusive amounts, blue and red lines, the request's checks
and the total in capital numerals."""

from __future__ import annotations

from app.catalog.tax import default_tax_rate, tax_rate_of
from app.core.uscc import uscc_check_char
from app.orders.invoices import rules
from app.orders.invoices.pdf import amount_in_words

FIRST17 = "91310115MA1H3YQ2X"
CODE = FIRST17 + uscc_check_char(FIRST17)


def test_tax_is_inside_the_price_and_rounded_to_the_fen() -> None:
    assert rules.tax_in(11_300, 13) == 1_300  # ¥113.00 at 13 %: ¥13.00 of it is VAT
    assert rules.tax_in(10_900, 9) == 900
    assert rules.tax_in(2_700, 13) == 311  # 310.62 -> 311
    assert rules.tax_in(100, 6) == 6  # 5.66 -> 6
    assert rules.tax_in(10_000, 0) == 0
    assert rules.tax_in(-2_700, 13) == -311  # a red line's tax mirrors the blue one's


def test_lines_add_up_and_delivery_takes_the_goods_rate() -> None:
    goods = [rules.Goods("A", "大衣", 1, 2_700, 13), rules.Goods("B", "书", 2, 4_500, 9),
             rules.Goods("C", "退完了", 0, 0, 13)]
    lines = rules.blue_lines(goods, shipping=1_000)
    assert [ln["sku"] for ln in lines] == ["A", "B", rules.SHIPPING_SKU]  # fully returned lines are left out
    assert lines[-1]["tax_rate"] == 13 and lines[-1]["tax"] == rules.tax_in(1_000, 13)
    total, tax = rules.totals(lines)
    assert total == 8_200 and tax == sum(ln["tax"] for ln in lines)
    assert rules.blue_lines(goods[1:2], shipping=0) == [rules.invoice_line(goods[1])]
    red = rules.red_lines([rules.Goods("B", "书", 1, 2_250, 9)])
    assert red == [{"sku": "B", "title": "书", "quantity": -1, "amount": -2_250, "tax_rate": 9,
                    "tax": -rules.tax_in(2_250, 9)}]


def test_a_company_needs_a_valid_unified_social_credit_code() -> None:
    assert rules.request_errors("company", "上海流通科技有限公司", CODE) == []
    assert rules.request_errors("personal", "李四", None) == []
    assert [e["field"] for e in rules.request_errors("company", "某公司", None)] == ["taxpayer_id"]
    wrong = CODE[:17] + ("0" if CODE[17] != "0" else "1")
    assert [e["field"] for e in rules.request_errors("company", "某公司", wrong)] == ["taxpayer_id"]
    assert [e["field"] for e in rules.request_errors("company", " ", CODE)] == ["title"]


def test_tax_rates_by_category_unless_the_product_says() -> None:
    assert [default_tax_rate(c) for c in ("agri", "fresh", "books-media", "services", "apparel")] == [9, 9, 9, 6, 13]
    assert tax_rate_of("apparel", 3) == 3 and tax_rate_of("apparel", 0) == 0 and tax_rate_of("agri", None) == 9


def test_the_total_in_capital_numerals() -> None:
    assert amount_in_words(8_200) == "捌拾贰圆整"
    assert amount_in_words(12_345) == "壹佰贰拾叁圆肆角伍分"
    assert amount_in_words(100_005) == "壹仟圆零伍分"
    assert amount_in_words(100_050) == "壹仟圆伍角"
    assert amount_in_words(1_000_000_00) == "壹佰万圆整"
    assert amount_in_words(10_010_00) == "壹万零壹拾圆整"
    assert amount_in_words(5) == "伍分"
    assert amount_in_words(-12_800) == "（负数）壹佰贰拾捌圆整"
