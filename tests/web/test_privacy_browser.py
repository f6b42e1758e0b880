"""A shopper signs up and manages consents in Chromium, on a phone (390×844) and a laptop (1280×800): the privacy box
must be ticked, optional ones start unticked, the account page withdraws and gives them. Screens are saved in
tests/web/artifacts/ and checked for text wider than its box."""

from __future__ import annotations

import functools

from playwright.async_api import ViewportSize

from tests.web.browser import BOTH_SIZES, chromium, screen
from tests.web.test_browser import ARTIFACTS, BROWSER_TEST
from tests.web.test_shopper_browser import shop_server  # noqa: F401  (the served shop)

pytestmark = BROWSER_TEST


_screen = functools.partial(screen, prefix="privacy")


@BOTH_SIZES
async def test_a_shopper_signs_up_with_nothing_optional_ticked_and_changes_consents(
        shop_server: str, size: str, viewport: ViewportSize) -> None:  # noqa: F811

    ARTIFACTS.mkdir(exist_ok=True)
    async with chromium() as browser:
        context = await browser.new_context(base_url=shop_server, viewport=viewport, locale="zh-CN")
        page = await context.new_page()
        await page.goto("/account/login")
        for purpose in ("marketing", "share_merchant", "share_carrier"):
            assert not await page.get_by_test_id(f"consent-{purpose}").is_checked()
        await page.locator("#reg-name").fill("赵六")
        await page.locator("#reg-email").fill(f"zhao-{size}@example.com")
        await page.locator("#reg-password").fill("s3cret-pass")
        await _screen(page, "1-signup", size)
        await page.get_by_test_id("consent-required").check()
        await page.get_by_role("button", name="注册").click()
        await page.wait_for_url("**/")
        await page.goto("/account")
        await page.get_by_test_id("account-consents").wait_for()
        assert await page.get_by_test_id("consent-account").is_checked()
        assert await page.get_by_test_id("consent-account").is_disabled()
        assert not await page.get_by_test_id("consent-marketing").is_checked()
        await _screen(page, "2-account", size)
        await page.get_by_test_id("consent-marketing").check()
        await page.get_by_role("button", name="保存授权设置").click()
        await page.get_by_text("撤回立即生效").wait_for()
        assert await page.get_by_test_id("consent-marketing").is_checked()
        await _screen(page, "3-saved", size)
