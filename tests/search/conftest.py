"""Search tests run with the process's copy of the search index on, as servers do (the rest of the suite leaves
searches to the database: tests/conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.catalog.search.live import LiveIndex


@pytest.fixture(autouse=True)
async def search_copy(app: Any) -> AsyncIterator[LiveIndex]:
    live = app.state.search_live = LiveIndex.from_settings(app.state.sessionmaker, app.state.settings)
    try:
        yield live
    finally:
        await live.close()
