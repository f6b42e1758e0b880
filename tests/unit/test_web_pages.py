"""The pages' pure helpers: the SVG chart, the message catalogue, signed cookies and form tokens."""

from app.web import charts, i18n, security


def test_chart_draws_one_pair_of_bars_per_day_scaled_to_the_peak() -> None:
    svg = charts.channel_bars([charts.DayBar("11-10", 1000, 500), charts.DayBar("11-11", 0, 0)],
                              title="线上 <vs> 门店", online_label="Online", offline_label="Store")
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert svg.count('class="bar-online"') == 3 and svg.count('class="bar-offline"') == 3  # 2 days + legend
    assert "线上 &lt;vs&gt; 门店" in svg  # escaped
    assert 'height="168.0"' in svg and 'height="84.0"' in svg  # the peak fills the plot; half is half


def test_chart_without_sales_is_still_valid() -> None:
    assert "<title" in charts.channel_bars([], title="t", online_label="a", offline_label="b")


def test_catalogue_has_both_languages_and_falls_back_to_the_key() -> None:
    assert i18n.translate("zh", "cart") == "购物车" and i18n.translate("en", "cart") == "Cart"
    assert i18n.translate("en", "left_at", n=3, place="徐汇店") == "3 left at 徐汇店"
    assert i18n.translate("zh", "completed") == "已完成"
    assert i18n.translate("en", "no-such-key") == "no-such-key"
    assert i18n.pick("en") == "en" and i18n.pick("fr") == "zh" and i18n.pick(None) == "zh"
    assert all(zh and en for zh, en in i18n.MESSAGES.values())


def test_signed_cookies_reject_tampering_and_reuse_for_another_purpose() -> None:
    signed = security.sign("k", "cart", "cart_123")
    assert security.unsign("k", "cart", signed) == "cart_123"
    assert security.unsign("k", "orders", signed) is None
    assert security.unsign("other", "cart", signed) is None
    assert security.unsign("k", "cart", signed.replace("cart_123", "cart_124")) is None
    assert security.unsign("k", "cart", "garbage") is None


def test_form_tokens_belong_to_one_browser() -> None:
    token = security.csrf_token("k", "sid-a")
    assert security.csrf_ok("k", "sid-a", token)
    assert not security.csrf_ok("k", "sid-b", token)
    assert not security.csrf_ok("k", None, token) and not security.csrf_ok("k", "sid-a", None)
