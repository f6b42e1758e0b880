"""What the browser tests share: the worker's Chromium, both screen sizes, and saving a screen with a check of its
layout."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest

from tests.web.test_browser import ARGS, ARTIFACTS, CHROMIUM

# Every screen is tried on a phone and on a laptop.
BOTH_SIZES = pytest.mark.parametrize(("size", "viewport"), [("phone", {"width": 390, "height": 844}),
                                                            ("laptop", {"width": 1280, "height": 800})])

# Reports every text box whose content is wider than the box, every amount drawn on more than one line, and a
# page that scrolls sideways.
LAYOUT_PROBLEMS = r"""() => {
  const problems = [];
  const vw = document.documentElement.clientWidth;
  const wide = document.documentElement.scrollWidth;
  if (wide > vw + 1) problems.push('page scrolls sideways: ' + wide + ' > ' + vw);
  const scrolls = el => {
    for (let a = el.parentElement; a; a = a.parentElement) {
      const o = getComputedStyle(a).overflowX;
      if (o === 'auto' || o === 'scroll' || o === 'hidden') return true;
    }
    return false;
  };
  const text = el => el.textContent.trim().slice(0, 40);
  for (const el of document.body.querySelectorAll('*')) {
    const cs = getComputedStyle(el);
    if (cs.display === 'none' || cs.visibility === 'hidden' || el.closest('.sr, .skip, script, style')) continue;
    const own = Array.from(el.childNodes).some(n => n.nodeType === 3 && n.textContent.trim());
    if (own && cs.display !== 'inline' && cs.overflowX === 'visible' && el.scrollWidth > el.clientWidth + 1)
      problems.push('text wider than its box: <' + el.tagName.toLowerCase() + ' class="' + el.className + '"> '
                    + text(el));
    const box = el.getBoundingClientRect();
    if (own && box.width && box.right > vw + 1 && !scrolls(el)) problems.push('off the screen: ' + text(el));
  }
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const money = /[¥$€]-?[\d,]+\.\d\d|\d[\d,]*\.\d\d|\d{3,4}[-\u2011]\d{4,8}/g;
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!n.parentElement || n.parentElement.closest('script, style, .sr')) continue;
    for (const m of n.textContent.matchAll(money)) {
      const r = document.createRange();
      r.setStart(n, m.index); r.setEnd(n, m.index + m[0].length);
      const lines = new Set(Array.from(r.getClientRects()).filter(x => x.width > 0).map(x => Math.round(x.top)));
      if (lines.size > 1) problems.push('amount broken across lines: ' + m[0]);
    }
  }
  return problems;
}"""


async def screen(page: Any, name: str, size: str, *, prefix: str) -> None:
    """Save the screen as tests/web/artifacts/<prefix>-<size>-<name>.png and check its layout."""
    await page.screenshot(path=ARTIFACTS / f"{prefix}-{size}-{name}.png", full_page=True)
    problems = await page.evaluate(LAYOUT_PROBLEMS)
    assert problems == [], f"{name} at {size}: {problems}"


async def fill_address(page: Any, *, phone: str = "13912345678") -> None:
    """The checkout's delivery address, a Shanghai one, filled in field by field as a shopper would."""
    await page.get_by_label("收货人").fill("王小明")
    await page.get_by_label("电话").fill(phone)
    await page.get_by_label("省份").select_option("上海市")
    await page.get_by_label("城市").fill("上海市")
    await page.get_by_label("区/县").fill("浦东新区")
    await page.get_by_label("详细地址").fill("世纪大道 100 号 25 楼")
    await page.get_by_label("邮编").fill("200120")


async def guest_checkout(page: Any, titles: Sequence[str]) -> None:
    """Each product, found by its title, into the cart; then the checkout as a guest with a delivery address
    (`fill_address`), up to the choice of how to pay."""
    for title in titles:
        await page.goto("/search?q=" + title)
        await page.get_by_role("link", name=title).first.click()
        await page.get_by_role("button", name="加入购物车").click()
        await page.get_by_role("status").wait_for()
    await page.goto("/cart")
    await page.get_by_role("link", name="去结算").click()
    await page.get_by_label("电子邮箱").fill("guest@example.com")
    await page.get_by_label("快递配送").check()
    await fill_address(page)


# The test process's Playwright and Chromium, started by the first browser test and stopped when the run ends
# (tests/web/conftest.py). Every async test of a run shares one event loop (pyproject.toml), so they can share
# them too: a launch costs more CPU than most of the pages a test opens.
_RUNNING: dict[str, Any] = {}


async def _browser() -> Any:
    browser = _RUNNING.get("browser")
    if browser is None or not browser.is_connected():  # first use, or Chromium went away: a new one
        from playwright.async_api import async_playwright

        if "playwright" not in _RUNNING:
            _RUNNING["playwright"] = await async_playwright().start()
        browser = await _RUNNING["playwright"].chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True,
                                                                timeout=30_000)
        _RUNNING["browser"] = browser
    return browser


async def stop_browser() -> None:
    """Closes the shared Chromium and Playwright, if a test started them."""
    browser, playwright = _RUNNING.pop("browser", None), _RUNNING.pop("playwright", None)
    if browser is not None:
        await browser.close()
    if playwright is not None:
        await playwright.stop()


@contextlib.asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    """Debian's Chromium for one test. The browser is shared, its contexts are not: every context the test opens
    (its own cookies, storage and pages) is closed when the block ends."""
    ARTIFACTS.mkdir(exist_ok=True)
    browser = await _browser()
    before = set(browser.contexts)
    try:
        yield browser
    finally:
        for context in browser.contexts:
            if context not in before:
                await context.close()


@contextlib.asynccontextmanager
async def chinese_page(base_url: str, viewport: Any) -> AsyncIterator[Any]:
    """A page of Debian's Chromium in Chinese at `viewport` on `base_url`, in a context of its own."""
    async with chromium() as browser:
        context = await browser.new_context(base_url=base_url, viewport=viewport, locale="zh-CN")
        yield await context.new_page()
