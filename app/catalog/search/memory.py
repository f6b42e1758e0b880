"""Search answered from memory: one process's copy of the search index, as compressed bitmaps of products.

The database's text index (service.py) is the truth and answers every search the copy cannot. The copy holds, per
product (its `product_search.id`, a small integer: its *slot*), what ranking and filtering read, and per word the
bitmap (roaring, pyroaring) of the products whose title, head (options, category, pinyin) or rest (description,
its character pairs) hold it. A query's expression (query.py) becomes unions and intersections of those bitmaps,
each tier of service.py's ranking one bitmap, so the answers are the database's: the same tiers, the same order
within them (in stock, 30-day sales, newest), the same filters and facet counts. The tests compare the two.

A tier's page is taken in rank order without sorting all of its matches: the products are cut into chunks of
neighbouring ranks (`_CHUNK`), and a tier's bitmap is intersected with one chunk after another, best first, until
the page is full; only the page's few products are sorted.

Nothing here reads the database or awaits: live.py loads and refreshes the copy.
"""

from __future__ import annotations

import bisect
import heapq
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from pyroaring import BitMap

from app.catalog.search import query

TITLE_COLUMN, HEAD_COLUMN, REST_COLUMN = 0, 1, 2  # title; options, category and pinyin; description
TITLE_ONLY = (TITLE_COLUMN,)
HEAD = (TITLE_COLUMN, HEAD_COLUMN)
EVERYWHERE = (TITLE_COLUMN, HEAD_COLUMN, REST_COLUMN)
_CHUNK = 2_048  # products per chunk of the rank order
_SORT_ALL = 64  # a tier with at most this many matches is sorted whole instead of read by chunks
_PREFIX_MEMO = 20_000
_PLAN_MEMO = 20_000
EMPTY = BitMap()  # shared: never to be changed in place

# In stock, then 30-day sales, then product id (newer is greater), as one integer: higher is better. One integer
# compares in C, where a tuple of the three cost most of a page's ranking.
RankKey = int
_ID_BYTES = 40  # product ids are at most this long (their column's size)
_SALES_OFFSET = 1 << 62  # 30-day sales net of returns, shifted to be non-negative


def rank_key(in_stock: bool, sales_30d: int, product_id: str) -> RankKey:
    """The ranking signals' order (service._rank_order) as an integer: ids compare as their UTF-8 bytes do."""
    sales = min(max(sales_30d + _SALES_OFFSET, 0), (1 << 63) - 1)
    code = int.from_bytes(product_id.encode()[:_ID_BYTES].ljust(_ID_BYTES, b"\0"), "big")
    return (int(in_stock) << (63 + 8 * _ID_BYTES)) | (sales << (8 * _ID_BYTES)) | code


@dataclass(slots=True)
class Product:
    """What filters and facets read of one product (its rank and id are in `Index.rank_of` and `Index.id_of`)."""

    merchant_id: str
    category: str
    min_price: int
    active: bool  # status `active`
    words: int  # a hash of its words: whether an update changed them


@dataclass(frozen=True, slots=True)
class Row:
    """One product as live.py reads it: `product_search` joined with `product`."""

    slot: int
    product_id: str
    merchant_id: str
    category: str
    status: str
    min_price: int
    in_stock: bool
    sales_30d: int
    title: str
    extra: str
    pinyin: str
    body: str
    grams: str

    def columns(self) -> tuple[str, str, str]:
        return self.title, self.extra + " " + self.pinyin, self.body + " " + self.grams


class Index:
    """The copy. `put` adds or replaces products; `merchants`, `dictionary` and `synonyms` are replaced whole."""

    def __init__(self) -> None:
        self.products: dict[int, Product] = {}
        self.slot_of: dict[str, int] = {}
        # By slot (slots are `product_search` ids: products are never deleted, so they are dense): lists, which
        # ranking a page reads far faster than dictionaries.
        self.rank_of: list[RankKey] = []  # `rank_key`
        self.id_of: list[str] = []
        self.postings: tuple[dict[str, BitMap], dict[str, BitMap], dict[str, BitMap]] = ({}, {}, {})
        self.by_merchant: dict[str, BitMap] = {}
        self.by_category: dict[str, BitMap] = {}
        self.active = BitMap()
        self.public_merchants: frozenset[str] = frozenset()
        self.dictionary: frozenset[str] = frozenset()
        # synonym key -> (merchant id, row id, the group's terms), as service._plan reads them
        self.synonyms: dict[str, list[tuple[str, int, list[str]]]] = {}
        # A query's plan (service._plan) by its text: it depends on nothing but the words above. Parsing a query
        # (jieba, synonyms) costs about as much as answering it from the bitmaps.
        self.plans: dict[str, Any] = {}
        self._chunks: list[BitMap] = []
        self._bounds: list[RankKey] = []  # each chunk's best key, descending
        self._ascending: list[RankKey] = []  # the same, ascending (bisect)
        self._vocabulary: list[list[str] | None] = [None, None, None]
        self._prefixes: dict[tuple[int, str], BitMap] = {}
        self._visible: BitMap | None = None
        self._by_price: tuple[list[int], array[int]] | None = None
        self._bands: tuple[tuple[tuple[int, int | None], ...], list[BitMap]] | None = None

    def __len__(self) -> int:
        return len(self.products)

    # ---- filling it -------------------------------------------------------------------------------------

    def put(self, rows: Iterable[Row]) -> None:
        """Adds these products or brings them up to date (their words only where they changed)."""
        rows = list(rows)
        words = [hash(r.columns()) for r in rows]
        changed_words = BitMap(r.slot for r, h in zip(rows, words, strict=True)
                               if (old := self.products.get(r.slot)) is not None and old.words != h)
        if changed_words:  # every posting is looked at once for the lot: a product's old words are not kept
            for postings in self.postings:
                emptied = []
                for word, slots in postings.items():
                    if slots.intersect(changed_words):
                        slots.difference_update(changed_words)
                        if not slots:
                            emptied.append(word)
                for word in emptied:
                    del postings[word]
        for r, h in zip(rows, words, strict=True):
            old = self.products.get(r.slot)
            new = Product(r.merchant_id, r.category, int(r.min_price), r.status == "active", h)
            if old is not None:
                self._forget(r.slot, old)
            if old is None or r.slot in changed_words:
                for postings, text in zip(self.postings, r.columns(), strict=True):
                    for word in set(text.split()):
                        having = postings.get(word)
                        if having is None:
                            postings[word] = BitMap((r.slot,))
                        else:
                            having.add(r.slot)
            self.products[r.slot] = new
            self.slot_of[r.product_id] = r.slot
            if r.slot >= len(self.rank_of):
                grow = r.slot + 1 - len(self.rank_of)
                self.rank_of += [0] * grow
                self.id_of += [""] * grow
            self.rank_of[r.slot] = rank_key(bool(r.in_stock), int(r.sales_30d), r.product_id)
            self.id_of[r.slot] = r.product_id
            self._remember(r.slot, new)
        self._changed()

    def _remember(self, slot: int, p: Product) -> None:
        self.by_merchant.setdefault(p.merchant_id, BitMap()).add(slot)
        self.by_category.setdefault(p.category, BitMap()).add(slot)
        if p.active:
            self.active.add(slot)
        if self._chunks:
            self._chunks[self._chunk_of(self.rank_of[slot])].add(slot)

    def _forget(self, slot: int, p: Product) -> None:
        self.by_merchant[p.merchant_id].discard(slot)
        self.by_category[p.category].discard(slot)
        self.active.discard(slot)
        if self._chunks:
            self._chunks[self._chunk_of(self.rank_of[slot])].discard(slot)

    def _chunk_of(self, key: RankKey) -> int:
        # the chunk j with bounds[j + 1] < key <= bounds[j] (the first chunk takes anything better)
        better_or_equal = len(self._ascending) - bisect.bisect_left(self._ascending, key)
        return max(better_or_equal - 1, 0)

    def rechunk(self) -> None:
        """Cuts the rank order into chunks afresh (after a load: updates keep chunks correct but uneven)."""
        order = sorted(self.products, key=self.rank_of.__getitem__, reverse=True)
        self._chunks = [BitMap(order[i:i + _CHUNK]) for i in range(0, len(order), _CHUNK)]
        self._bounds = [self.rank_of[order[i]] for i in range(0, len(order), _CHUNK)]
        self._ascending = self._bounds[::-1]
        for chunk in self._chunks:
            chunk.run_optimize()
        for postings in self.postings:
            for slots in postings.values():
                slots.run_optimize()
                slots.shrink_to_fit()

    def set_merchants(self, public: Iterable[str]) -> None:
        """The merchants whose products are public (active and listed)."""
        self.public_merchants = frozenset(public)
        self._changed()

    def set_words(self, dictionary: Iterable[str], synonyms: Iterable[tuple[str, int, str, list[str]]]) -> None:
        """Merchants' dictionary words, and synonym rows as (merchant id, row id, key, the group's terms)."""
        by_key: dict[str, list[tuple[str, int, list[str]]]] = {}
        for merchant_id, row_id, key, terms in synonyms:
            by_key.setdefault(key, []).append((merchant_id, row_id, terms))
        dictionary = frozenset(dictionary)
        if dictionary != self.dictionary or by_key != self.synonyms:
            self.dictionary, self.synonyms = dictionary, by_key
            self.plans.clear()

    def _changed(self) -> None:
        self._vocabulary = [None, None, None]
        self._prefixes.clear()
        self._visible = None
        self._by_price = None
        self._bands = None

    # ---- what service._plan asks ---------------------------------------------------------------------------

    def remember_plan(self, q: str, plan: Any) -> None:
        if len(self.plans) >= _PLAN_MEMO:
            self.plans.clear()
        self.plans[q] = plan

    def dictionary_in(self, parts: Sequence[str]) -> list[str]:
        return sorted({p for p in parts if p in self.dictionary})

    def synonym_rows(self, keys: Sequence[str]) -> list[tuple[str, list[str]]]:
        rows = sorted((row for k in set(keys) for row in self.synonyms.get(k, ())), key=lambda r: (r[0], r[1]))
        return [(merchant_id, terms) for merchant_id, _, terms in rows]

    # ---- matching ------------------------------------------------------------------------------------------

    def _word(self, column: int, word: str, prefix: bool) -> BitMap:
        postings = self.postings[column]
        if not prefix:
            return postings.get(word, EMPTY)
        found = self._prefixes.get((column, word))
        if found is None:
            vocabulary = self._vocabulary[column]
            if vocabulary is None:
                vocabulary = self._vocabulary[column] = sorted(postings)
            lo = bisect.bisect_left(vocabulary, word)
            hi = bisect.bisect_left(vocabulary, word + "\U0010ffff", lo)
            found = BitMap.union(EMPTY, *(postings[w] for w in vocabulary[lo:hi]))
            if len(self._prefixes) >= _PREFIX_MEMO:
                self._prefixes.clear()
            self._prefixes[(column, word)] = found
        return found

    def matching(self, expr: query.Expr, columns: tuple[int, ...], whole_words: bool,
                 memo: dict[Any, BitMap]) -> BitMap:
        """The products whose `columns` match the expression (never to be changed in place: it may be shared)."""
        key = (expr, columns, whole_words)
        found = memo.get(key)
        if found is not None:
            return found
        if isinstance(expr, query.Tok):
            prefix = expr.prefix and not whole_words
            found = BitMap.union(EMPTY, *(self._word(c, expr.value, prefix) for c in columns))
        elif isinstance(expr, query.All):
            found = self.matching(expr.parts[0], columns, whole_words, memo)
            for part in expr.parts[1:]:
                if not found:
                    break
                found = found & self.matching(part, columns, whole_words, memo)
        else:
            found = BitMap.union(EMPTY, *(self.matching(p, columns, whole_words, memo) for p in expr.parts))
        memo[key] = found
        return found

    # ---- filters, order, facets ----------------------------------------------------------------------------

    def visible(self, viewer_merchant_id: str | None) -> BitMap:
        """Active products of active, listed merchants; and every product of the merchant looking."""
        if self._visible is None:
            self._visible = self.active & BitMap.union(
                EMPTY, *(self.by_merchant[m] for m in self.public_merchants if m in self.by_merchant))
        if viewer_merchant_id is None:
            return self._visible
        return self._visible | self.by_merchant.get(viewer_merchant_id, EMPTY)

    def priced(self, low: int | None, high: int | None) -> BitMap:
        """Products whose lowest price is within [low, high] (either end open when None)."""
        if self._by_price is None:
            order = sorted(self.products, key=lambda s: self.products[s].min_price)
            self._by_price = ([self.products[s].min_price for s in order], array("I", order))
        prices, slots = self._by_price
        lo = 0 if low is None else bisect.bisect_left(prices, low)
        hi = len(prices) if high is None else bisect.bisect_right(prices, high)
        return BitMap(slots[lo:hi])

    def best(self, matches: BitMap, n: int) -> list[int]:
        """The best `n` of these products in rank order: from the first chunks of the rank order that hold `n`
        of them (chunks are disjoint and in order), or from all of them when they are few."""
        if n <= 0 or not matches:
            return []
        rank = self.rank_of.__getitem__
        if len(matches) <= max(_SORT_ALL, 2 * n) or not self._chunks:
            return heapq.nlargest(n, matches, key=rank)
        found: list[BitMap] = []
        count = 0
        for chunk in self._chunks:
            hits = chunk & matches
            if hits:
                found.append(hits)
                count += len(hits)
                if count >= n:
                    break
        return heapq.nlargest(n, BitMap.union(EMPTY, *found), key=rank)

    def ids(self, slots: Iterable[int]) -> list[str]:
        id_of = self.id_of
        return [id_of[s] for s in slots]

    def counts(self, matches: BitMap, facet: str, limit: int) -> list[tuple[str, int]]:
        """(value, count) of the most frequent values of `category` or `merchant` among these products, most
        first, then by value."""
        groups = self.by_category if facet == "category" else self.by_merchant
        if len(groups) > len(matches):
            products = self.products
            counted = Counter(products[s].category if facet == "category" else products[s].merchant_id
                              for s in matches)
        else:
            counted = Counter({value: n for value, slots in groups.items()
                               if (n := matches.intersection_cardinality(slots))})
        return sorted(counted.items(), key=lambda c: (-c[1], c[0]))[:limit]

    def band_counts(self, matches: BitMap, bands: Sequence[tuple[int, int | None]]) -> list[tuple[int, int]]:
        """(band number, count) of the bands holding any of these products (band: [low, high) of min_price)."""
        if self._bands is None or self._bands[0] != bands:
            self._bands = (tuple(bands), [self.priced(low, None if high is None else high - 1) for low, high in bands])
        out = []
        for i, slots in enumerate(self._bands[1]):
            n = matches.intersection_cardinality(slots)
            if n:
                out.append((i, n))
        return out
