"""The process's copy of the search index as a structure (app/catalog/search/memory.py): updates after a load."""

from __future__ import annotations

from typing import Any

import pytest
from pyroaring import BitMap

from app.catalog.search import memory, query


@pytest.mark.parametrize("chunk", [3, 2_048])
def test_updates_keep_the_rank_order_and_the_words_of_the_copy(chunk: int, monkeypatch: Any):
    """Products added, re-ranked and re-worded after the copy was cut into chunks: its best products are still in
    rank order, and a product is found by its new words only."""
    monkeypatch.setattr(memory, "_CHUNK", chunk)
    monkeypatch.setattr(memory, "_SORT_ALL", 0)  # always read by chunks

    def row(slot: int, sales: int, in_stock: bool, title: str) -> memory.Row:
        return memory.Row(slot, f"prd_{slot:04d}", "mer_a", "home", "active", 100 * slot, in_stock, sales,
                          title, "", "", "", "")

    copy = memory.Index()
    copy.put(row(s, s % 7, s % 3 != 0, "碗" if s % 2 else "盘") for s in range(1, 41))
    copy.set_merchants(["mer_a"])
    copy.rechunk()
    copy.put(row(s, 50 + s, True, "碗 新") for s in range(41, 46))  # new, and better than all
    copy.put(row(s, 0, False, "盘") for s in range(1, 11, 2))  # worse, and no longer 碗
    memo: dict[Any, Any] = {}
    bowls = copy.matching(query.Tok("碗"), memory.TITLE_ONLY, False, memo) & copy.visible(None)
    truth = sorted(bowls, key=copy.rank_of.__getitem__, reverse=True)
    assert set(bowls) == {*range(11, 41, 2), *range(41, 46)}
    assert copy.best(bowls, 8) == truth[:8]
    assert copy.best(bowls, 100) == truth
    plates = copy.matching(query.Tok("盘"), memory.TITLE_ONLY, False, {})
    assert set(plates) == {*range(2, 41, 2), *range(1, 11, 2)}
    assert copy.counts(plates, "category", 5) == [("home", len(plates))]
    assert copy.priced(300, 900) == BitMap(range(3, 10))
