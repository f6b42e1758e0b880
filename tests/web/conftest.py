"""The browser tests' Chromium (tests/web/browser.py) is shared by the tests of a run and closed when it ends."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.web.browser import stop_browser


@pytest.fixture(scope="session", autouse=True)
async def _shared_chromium_stopped() -> AsyncIterator[None]:
    yield
    await stop_browser()
