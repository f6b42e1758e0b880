"""Search: keeping the index current, finding and ranking products, facets, suggestions, zero-result log.

One module, two backends. Text analysis and the query expression are shared (text.py, query.py); only the
matching clause differs: PostgreSQL matches generated tsvector columns with GIN indexes (`title_doc`,
`head_doc`, `document`), SQLite the columns of the FTS5 table `product_fts`. Everything else (filters, ranking
order, facets, paging) is the same SQLAlchemy statements for both.

Ranking: the match tier first (a SKU or barcode; every term in the title; in title, options, category or
pinyin; anywhere, description included), then in stock before sold out, then units sold in 30 days, then the
newest. Nothing in it is a database's own text score, so both databases rank alike, and a tier is read in the
order of an index on the signals: a page of a common word costs a page of matches, not all of them (`_ranked`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from pyroaring import BitMap
from sqlalchemy import (
    ColumnElement,
    SQLColumnExpression,
    String,
    and_,
    case,
    cast,
    column,
    delete,
    exists,
    false,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    table,
    union_all,
)
from sqlalchemy import (
    text as sql,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from app.catalog.models import Category, Product, Variant
from app.catalog.search import memory, query, synonyms, text
from app.catalog.search.models import (
    ProductSearch,
    SearchDictionaryWord,
    SearchMiss,
    SearchSynonym,
    SearchTerm,
)
from app.config import Settings
from app.core import cache
from app.core.clock import utcnow
from app.db import dialect_of, in_batches
from app.merchants.models import Merchant

SORTS = ("relevance", "price_asc", "price_desc", "newest", "sales", "credit")
# The seller's credit score as SQL over a merchant id column (C12's sort by credit). The score is the trust
# module's, which sits above the catalogue: the app factory and the CLI install it (`install_seller_credit`).
SellerCredit = Callable[[SQLColumnExpression[str]], ColumnElement[int]]
_SELLER_CREDIT: dict[str, SellerCredit] = {}


def install_seller_credit(score: SellerCredit) -> None:
    """Sort `sort=credit` results by `score(Product.merchant_id)`, highest first."""
    _SELLER_CREDIT["score"] = score


def seller_credit(merchant_id: SQLColumnExpression[str]) -> ColumnElement[int]:
    score = _SELLER_CREDIT.get("score")
    if score is None:
        raise RuntimeError("no seller credit installed (app.main.install_hooks)")
    return score(merchant_id)
FACETS = ("category", "price", "merchant")
MAX_OFFSET = 10_000
MAX_MERCHANT_VARIANTS = 20  # merchants whose own synonyms one query applies
FACET_VALUES = 20
# Price bands in fen (by a product's lowest variant price); the last has no upper bound.
PRICE_BANDS: tuple[tuple[int, int | None], ...] = (
    (0, 5_000), (5_000, 10_000), (10_000, 20_000), (20_000, 50_000), (50_000, 100_000), (100_000, 200_000),
    (200_000, None))
SIMILARITY = 0.3  # pg_trgm's default threshold
INDEX_BATCH = 500


# ---- indexing --------------------------------------------------------------------------------------------

def _insert(session: AsyncSession) -> Any:
    return postgresql.insert if dialect_of(session) == "postgresql" else sqlite.insert


async def reindex(session: AsyncSession, product_ids: Sequence[str], *, new: bool = False) -> None:
    """Bring the index rows of these products up to date with their texts, options and prices; never commits.

    Called in the transaction of every write that changes them, so a product is found as it reads now as soon as
    that transaction commits. `new`: the products were just created (their title words count for suggestions).
    """
    ids = sorted(set(product_ids))
    for batch in in_batches(ids, INDEX_BATCH):
        await _reindex_batch(session, batch, new=new)


async def _reindex_batch(session: AsyncSession, ids: list[str], *, new: bool) -> None:
    rows = (await session.execute(select(Product.id, Product.merchant_id, Product.title, Product.description,
                                         Product.category, Product.options).where(Product.id.in_(ids)))).all()
    if not rows:
        return
    variants: dict[str, list[Any]] = {}
    for v in (await session.execute(select(Variant.product_id, Variant.price, Variant.attributes)
                                    .where(Variant.product_id.in_(ids)))).all():
        variants.setdefault(v.product_id, []).append(v)
    categories = {c.slug: (c.name_zh, c.name_en) for c in (await session.execute(
        select(Category.slug, Category.name_zh, Category.name_en))).all()}
    merchants = sorted({r.merchant_id for r in rows})
    dictionary: dict[str, list[str]] = {}
    for d in (await session.execute(select(SearchDictionaryWord.merchant_id, SearchDictionaryWord.word)
                                    .where(SearchDictionaryWord.merchant_id.in_(merchants)))).all():
        dictionary.setdefault(d.merchant_id, []).append(d.word)
    index_rows: list[dict[str, Any]] = []
    terms: dict[str, tuple[str, str]] = {}
    for r in rows:
        extra = list(categories.get(r.category, ()))
        for option in r.options or []:
            extra += [str(option.get("name", "")), *map(str, option.get("values", []))]
        for v in variants.get(r.id, []):
            extra += [str(value) for value in (v.attributes or {}).values()]
        doc = text.document(title=r.title, description=r.description, extra=dict.fromkeys(extra),
                            dictionary=dictionary.get(r.merchant_id, ()))
        prices = [v.price for v in variants.get(r.id, [])]
        index_rows.append({"product_id": r.id, "merchant_id": r.merchant_id, "title": doc.title, "extra": doc.extra,
                           "pinyin": doc.pinyin, "body": doc.body, "grams": doc.grams,
                           "min_price": min(prices) if prices else 0})
        for word in text.words(r.title, dictionary.get(r.merchant_id, ())):
            if 2 <= len(word) <= 40 and (text.is_cjk(word) or (word.isalpha() and len(word) >= 3)):
                terms[word] = text.pinyin(word)
    stmt = _insert(session)(ProductSearch)
    await session.execute(stmt.on_conflict_do_update(
        index_elements=[ProductSearch.product_id],
        set_={c: stmt.excluded[c] for c in ("merchant_id", "title", "extra", "pinyin", "body", "grams",
                                            "min_price")}), index_rows)
    if terms:
        term_rows = [{"term": t, "pinyin": p[:160], "initials": i[:40], "products": 1}
                     for t, (p, i) in sorted(terms.items())]
        ins = _insert(session)(SearchTerm)
        if new:
            await session.execute(ins.on_conflict_do_update(
                index_elements=[SearchTerm.term], set_={"products": SearchTerm.products + 1}), term_rows)
        else:
            await session.execute(ins.on_conflict_do_nothing(index_elements=[SearchTerm.term]), term_rows)


async def reindex_merchant(session: AsyncSession, merchant_id: str) -> int:
    """Re-index every product of a merchant (its dictionary changed); never commits. Returns how many."""
    done = 0
    last = ""
    while True:
        ids = list((await session.scalars(select(Product.id).where(Product.merchant_id == merchant_id,
                                                                   Product.id > last)
                                          .order_by(Product.id).limit(INDEX_BATCH))).all())
        if not ids:
            return done
        await reindex(session, ids)
        done += len(ids)
        last = ids[-1]


async def refresh_signals(session: AsyncSession) -> int:
    """Recompute every product's in-stock flag and 30-day sales (the ranking's tie-breakers); commits.

    Returns how many rows changed. Run by the `search_signals` job; a product's signals are at most one
    interval old.
    """
    since = utcnow() - timedelta(days=30)
    distinct = "IS DISTINCT FROM" if dialect_of(session) == "postgresql" else "IS NOT"
    result = await session.execute(sql(f"""
        UPDATE product_search SET in_stock = x.in_stock, sales_30d = x.sales
        FROM (SELECT ps.id,
                     EXISTS (SELECT 1 FROM variant v JOIN stock_level sl ON sl.variant_id = v.id
                             WHERE v.product_id = ps.product_id
                               AND sl.on_hand - sl.reserved - sl.safety_stock > 0) AS in_stock,
                     coalesce(s.units, 0) AS sales
              FROM product_search ps
              LEFT JOIN (SELECT ol.product_id, sum(ol.quantity - ol.returned_quantity) AS units
                         FROM order_line ol JOIN sales_order o ON o.id = ol.order_id
                         WHERE o.created_at >= :since AND o.status <> 'cancelled'
                         GROUP BY ol.product_id) s ON s.product_id = ps.product_id) x
        WHERE x.id = product_search.id
          AND (product_search.in_stock {distinct} x.in_stock OR product_search.sales_30d <> x.sales)
    """), {"since": since})
    changed = int(getattr(result, "rowcount", 0) or 0)
    if changed:
        cache.mark_changed(session)  # the order of search pages changed
    await session.commit()
    return changed


async def signals_job(factory: async_sessionmaker[AsyncSession], settings: Settings) -> int:
    async with factory() as session:
        return await refresh_signals(session)


# ---- merchants' synonyms and dictionary -----------------------------------------------------------------

async def merchant_synonyms(session: AsyncSession, merchant_id: str) -> list[list[str]]:
    rows = (await session.execute(select(SearchSynonym.group_no, SearchSynonym.terms)
                                  .where(SearchSynonym.merchant_id == merchant_id)
                                  .order_by(SearchSynonym.group_no, SearchSynonym.id))).all()
    groups: dict[int, list[str]] = {}
    for r in rows:
        groups.setdefault(r.group_no, list(r.terms))
    return list(groups.values())


async def set_merchant_synonyms(session: AsyncSession, merchant_id: str, groups: list[list[str]]) -> list[list[str]]:
    """Replace a merchant's synonym groups (applied to its own products at query time); commits."""
    await session.execute(delete(SearchSynonym).where(SearchSynonym.merchant_id == merchant_id))
    rows = [{"merchant_id": merchant_id, "group_no": n, "key": text.key(term), "terms": group}
            for n, group in enumerate(groups) for term in group]
    if rows:
        await session.execute(insert(SearchSynonym), rows)
    cache.mark_changed(session)  # searches answer differently from now on
    await session.commit()
    return groups


async def merchant_dictionary(session: AsyncSession, merchant_id: str) -> list[str]:
    return list((await session.scalars(select(SearchDictionaryWord.word)
                                       .where(SearchDictionaryWord.merchant_id == merchant_id)
                                       .order_by(SearchDictionaryWord.word))).all())


async def set_merchant_dictionary(session: AsyncSession, merchant_id: str, words: list[str]) -> list[str]:
    """Replace a merchant's dictionary and re-index its products with it, in one transaction; commits."""
    words = list(dict.fromkeys(text.key(w) for w in words))  # as tokens are: no spaces, no punctuation
    await session.execute(delete(SearchDictionaryWord).where(SearchDictionaryWord.merchant_id == merchant_id))
    if words:
        await session.execute(insert(SearchDictionaryWord),
                              [{"merchant_id": merchant_id, "word": w} for w in words])
    await reindex_merchant(session, merchant_id)
    cache.mark_changed(session)
    await session.commit()
    return sorted(words)


# ---- searching -------------------------------------------------------------------------------------------

@dataclass(slots=True)
class Search:
    q: str | None = None
    category: str | None = None
    merchant_id: str | None = None
    viewer_merchant_id: str | None = None
    price_min: int | None = None
    price_max: int | None = None
    options: dict[str, str] = field(default_factory=dict)
    sort: str | None = None
    facets: list[str] = field(default_factory=list)
    offset: int = 0
    limit: int = 50


@dataclass(slots=True)
class Found:
    ids: list[str]
    more: bool
    facets: dict[str, list[dict[str, Any]]] | None = None
    corrected: str | None = None  # the query actually searched, when a typo was corrected


@dataclass(slots=True)
class _Plan:
    """The query's expressions: the platform's synonyms for every product, and per merchant with synonyms of
    its own one more, for that merchant's products only."""

    base: query.Expr
    merchants: list[tuple[str, query.Expr]]
    raw: str


def _substrings(terms: list[str], longest: int = 12, most: int = 1_000) -> list[str]:
    out: dict[str, None] = {}
    for term in terms:
        for size in range(2, min(len(term), longest) + 1):
            for start in range(len(term) - size + 1):
                out[term[start:start + size]] = None
                if len(out) >= most:
                    return list(out)
    return list(out)


async def _dictionary_in(session: AsyncSession, terms: list[str]) -> list[str]:
    """Merchants' dictionary words that occur in the query's terms (they keep a term from being cut inside
    them): every part of a term is looked up by the index on `word`, whatever the dictionary's size."""
    parts = _substrings(terms)
    if not parts:
        return []
    return sorted((await session.scalars(select(SearchDictionaryWord.word).distinct()
                                         .where(SearchDictionaryWord.word.in_(parts)))).all())


async def _plan(session: AsyncSession, q: str, terms: list[str], copy: memory.Index | None = None) -> _Plan | None:
    """The plan of a query; merchants' words come from the process's copy of the index when given."""
    dictionary = copy.dictionary_in(_substrings(terms)) if copy is not None else await _dictionary_in(session, terms)
    keys = query.keys(terms, dictionary)
    base = query.build(terms, synonyms=synonyms.PLATFORM_INDEX, dictionary=dictionary)
    if base is None:
        return None
    if copy is not None:
        rows = copy.synonym_rows(keys)
    else:
        rows = [(r.merchant_id, r.terms) for r in (await session.execute(
            select(SearchSynonym.merchant_id, SearchSynonym.terms).where(SearchSynonym.key.in_(keys))
            .order_by(SearchSynonym.merchant_id, SearchSynonym.id))).all()]
    own: dict[str, list[list[str]]] = {}
    for merchant_id, terms_of_group in rows:
        groups = own.setdefault(merchant_id, [])
        if len(own) <= MAX_MERCHANT_VARIANTS and terms_of_group not in groups:
            groups.append(terms_of_group)
    merchants: list[tuple[str, query.Expr]] = []
    for merchant_id, groups in own.items():
        expr = query.build(terms, synonyms=synonyms.merged(synonyms.PLATFORM_INDEX, synonyms.index(groups)),
                           dictionary=dictionary)
        if expr is not None and expr != base:
            merchants.append((merchant_id, expr))
    return _Plan(base, merchants[:MAX_MERCHANT_VARIANTS], q.strip()[:64])


_FTS = table("product_fts", column("rowid"))
HEAD = ("title", "extra", "pinyin")
# PostgreSQL's tsvector column for the title, the head (title, options, category, pinyin) and everything. Each has
# a GIN index of its own and unweighted statistics, so the planner knows how common a word is in it.
_PG_DOCUMENTS: dict[tuple[str, ...], str] = {("title",): "title_doc", HEAD: "head_doc", (): "document"}
# Match tiers, best first; each tier's products include the better tiers' (`_tier_match`).
TITLE, HEAD_WORD, HEAD_ANY, ANYWHERE = 1, 2, 3, 4
TIERS = (TITLE, HEAD_WORD, HEAD_ANY, ANYWHERE)
# A search first looks through this many products per wanted row at the top of the ranking order (at most
# PROBE_MAX): enough that a word in one product of PROBE_FACTOR fills the page there.
PROBE_FACTOR = 40
PROBE_MAX = 10_000
# A tier read from its text index takes this many more than a page of its best matches before filtering them
# (a quarter more, and TAKE_EXTRA), then TAKE_GROWTH times as many once, then filters them all.
TAKE_EXTRA = 8
TAKE_GROWTH = 4

# `ProductSearch` or an alias of it over a subquery (the probe's top of the ranking order).
SearchRows = Any


def _rank_order(ps: SearchRows) -> tuple[Any, ...]:
    """The ranking signals' order within a tier (the btree ix_product_search_rank)."""
    return ps.in_stock.desc(), ps.sales_30d.desc(), ps.product_id.desc()


def _matches(session: AsyncSession, plan: _Plan, columns: tuple[str, ...] = (), ps: SearchRows = ProductSearch,
             source: str = "product_search", whole_words: bool = False) -> ColumnElement[bool]:
    """Whether a row of `ps` (named `source` in SQL) matches the plan in `columns` (the title, the head, or every
    column when empty); with `whole_words`, no token matches as a prefix."""
    pg = dialect_of(session) == "postgresql"

    def one(expr: query.Expr) -> ColumnElement[bool]:
        if whole_words:
            expr = query.exact(expr)
        if pg:
            document: ColumnElement[Any] = literal_column(f"{source}.{_PG_DOCUMENTS[columns]}")
            return document.op("@@")(cast(literal(query.tsquery(expr)), postgresql.TSQUERY))
        fts: ColumnElement[bool] = ps.id.in_(select(_FTS.c.rowid).where(
            literal_column("product_fts").op("MATCH")(literal(query.fts5(expr, columns)))))
        return fts

    return or_(one(plan.base), *(and_(ps.merchant_id == m, one(e)) for m, e in plan.merchants))


def _tier_match(session: AsyncSession, plan: _Plan, tier: int, ps: SearchRows = ProductSearch,
                source: str = "product_search") -> ColumnElement[bool]:
    """Products of this tier or a better one: every term in the title; or every term a whole word of the head
    (`xiaomi` is 小米's pinyin, only the start of 小面's); or in the head; or anywhere."""
    if tier == TITLE:
        return _matches(session, plan, ("title",), ps, source)
    if tier == HEAD_WORD:
        return or_(_matches(session, plan, ("title",), ps, source),
                   _matches(session, plan, HEAD, ps, source, whole_words=True))
    return _matches(session, plan, HEAD if tier == HEAD_ANY else (), ps, source)


async def _by_code(session: AsyncSession, raw: str) -> list[str]:
    """Products with a variant whose SKU or barcode is the query (looked up first and on its own: an OR of it
    with the text match inside one statement would keep PostgreSQL from using the text index)."""
    if not raw or " " in raw or len(raw) > 64 or text.is_cjk(raw) or not any(c.isdigit() for c in raw):
        return []  # SKUs and barcodes carry digits; a word is not looked up as one
    return list((await session.scalars(select(Variant.product_id).where(
        or_(Variant.sku == raw, Variant.barcode == raw)).limit(50))).all())


def _attribute(session: AsyncSession, name: str) -> ColumnElement[Any]:
    """A variant's value of option `name` as text. On SQLite the JSON is stored with non-ASCII escaped
    (`{"\\u989c\\u8272": ...}`) and json_extract compares a key as written (up to 3.44) or decoded (later):
    both spellings of the path are tried."""
    if dialect_of(session) == "postgresql":
        value: ColumnElement[Any] = Variant.attributes[name].as_string()
        return value
    plain = name.replace('"', "")
    escaped = json.dumps(plain)[1:-1]
    return func.coalesce(func.json_extract(Variant.attributes, literal(f'$."{plain}"')),
                         func.json_extract(Variant.attributes, literal(f'$."{escaped}"')))


def _filters(session: AsyncSession, p: Search, ps: SearchRows = ProductSearch) -> list[ColumnElement[bool]]:
    # Public: active products of active merchants that are listed (an unlisted merchant sells by link only);
    # the owner also sees its own.
    public = and_(Product.status == "active", Merchant.status == "active", Merchant.listed)
    out: list[ColumnElement[bool]] = [public if p.viewer_merchant_id is None
                                      else or_(public, Product.merchant_id == p.viewer_merchant_id)]
    if p.category:
        out.append(Product.category == p.category)
    if p.merchant_id:
        out.append(ps.merchant_id == p.merchant_id)
    if p.price_min is not None:
        out.append(ps.min_price >= p.price_min)
    if p.price_max is not None:
        out.append(ps.min_price <= p.price_max)
    for name, value in sorted(p.options.items()):
        out.append(exists().where(Variant.product_id == ps.product_id,
                                  _attribute(session, name) == value))
    return out


def _base(*cols: Any, ps: SearchRows = ProductSearch) -> Any:
    return (select(*cols).select_from(ps)
            .join(Product, Product.id == ps.product_id)
            .join(Merchant, Merchant.id == Product.merchant_id))


@dataclass(slots=True)
class Match:
    """A query as clauses over `Product`, for lists that filter and sort on their own (the storefront)."""

    condition: ColumnElement[bool]
    rank: ColumnElement[Any]  # higher is better: the best tier (TIERS) counts len(TIERS), the last 1


async def matching(session: AsyncSession, q: str) -> Match:
    """Products the query finds (as search does, without typo correction) and their match tier."""
    terms = text.query_terms(q)
    plan = await _plan(session, q, terms) if terms else None
    if plan is None:
        return Match(false(), literal(0))

    def ids(tier: int) -> ColumnElement[bool]:
        return Product.id.in_(select(ProductSearch.product_id).where(_tier_match(session, plan, tier)))

    return Match(ids(ANYWHERE), case(*((ids(t), len(TIERS) - i) for i, t in enumerate(TIERS[:-1])), else_=1))


async def search(session: AsyncSession, p: Search) -> Found:
    """One page of product ids in rank order (see the module's docstring), with facets when asked for."""
    terms = text.query_terms(p.q) if p.q else []
    if p.q and not terms:
        return Found([], False, {f: [] for f in p.facets} if p.facets else None)
    plan = await _plan(session, p.q or "", terms) if terms else None
    found = await _run(session, p, plan)
    if plan is not None and not found.ids and p.offset == 0:
        corrected = await _correct(session, terms)
        if corrected is not None:
            retry = await _plan(session, " ".join(corrected), corrected)
            found = await _run(session, p, retry)
            found.corrected = " ".join(corrected) if found.ids else None
        if not found.ids and p.q:
            await _log_miss(session, " ".join(terms))
    return found


async def _run(session: AsyncSession, p: Search, plan: _Plan | None) -> Found:
    where = _filters(session, p)
    coded = await _by_code(session, plan.raw) if plan is not None else []
    sort = p.sort or ("relevance" if plan is not None else "newest")
    if sort == "relevance" and plan is not None:
        ids = (await _ranked(session, plan, p, where, coded, p.offset + p.limit + 1))[p.offset:]
    if plan is not None:  # what every other sort, and the facets, count: the matches and the SKU's products
        matched = _matches(session, plan)
        where.append(or_(matched, ProductSearch.product_id.in_(coded)) if coded else matched)
    if sort != "relevance" or plan is None:
        order: list[Any]
        if sort == "price_asc":
            order = [ProductSearch.min_price, Product.id.desc()]
        elif sort == "price_desc":
            order = [ProductSearch.min_price.desc(), Product.id.desc()]
        elif sort == "sales":
            order = [ProductSearch.sales_30d.desc(), Product.id.desc()]
        elif sort == "credit":
            order = [seller_credit(Product.merchant_id).desc(), Product.id.desc()]
        else:
            order = [Product.id.desc()]
        ids = list((await session.scalars(_base(Product.id).where(*where).order_by(*order)
                                          .offset(p.offset).limit(p.limit + 1))).all())
    found = Found(ids[:p.limit], len(ids) > p.limit)
    if p.facets:
        found.facets = await _facets(session, p.facets, where)
    return found


async def _ranked(session: AsyncSession, plan: _Plan, p: Search, where: list[ColumnElement[bool]],
                  coded: list[str], want: int) -> list[str]:
    """The first `want` products in rank order: the SKU or barcode matches, then each tier (TIERS) in the order of
    the ranking signals. `where`: the search's filters.

    A tier is read only while the better ones have not filled the page, and only as far as the page needs: from
    the probe of the top of the ranking order when that holds a page of it, else from the text index. Each tier's
    products include the better tiers', all of which are known by then: `want` of them hold as many new ones as
    the page lacks.
    """
    out: dict[str, None] = {}
    if coded:
        out.update(dict.fromkeys((await session.scalars(
            _base(Product.id).where(*where, ProductSearch.product_id.in_(coded))
            .order_by(*_rank_order(ProductSearch)))).all()))
    probes: dict[int, list[Any]] = {}  # by the last tier probed: the head tiers' one probe serves all three
    for tier in TIERS:
        if len(out) >= want:
            break
        last = ANYWHERE if tier == ANYWHERE else HEAD_ANY
        if last not in probes:
            probes[last] = await _probe(session, plan, p, last, want)
        probed = probes[last]
        if len(probed) == want and probed[-1].tier <= tier:
            out.update(dict.fromkeys(r.id for r in probed))
            continue
        out.update(dict.fromkeys(await _tier(session, plan, where, tier, want)))
    return list(out)[:want]


async def _probe(session: AsyncSession, plan: _Plan, p: Search, last: int, want: int) -> list[Any]:
    """The best `want` (id, tier) of the tiers up to `last` among the products at the top of the ranking order,
    best tier first.

    A common word fills a page there for the cost of reading that many rows in index order. (Left to itself, the
    planner takes that path or the text index's by its estimate of how common the words are, and a wrong
    estimate reads most of the table in index order.)
    """
    pg = dialect_of(session) == "postgresql"
    documents: list[Any] = ([literal_column(f"product_search.{d}").label(d) for d in _PG_DOCUMENTS.values()]
                            if pg else [])
    ps = ProductSearch
    columns = (ps.id, ps.product_id, ps.merchant_id, ps.min_price, ps.in_stock, ps.sales_30d)  # what filters read
    ranked = aliased(ProductSearch, select(*columns, *documents).order_by(*_rank_order(ProductSearch))
                     .limit(min(want * PROBE_FACTOR, PROBE_MAX)).subquery("ranked"))
    whens = [(_tier_match(session, plan, tier, ranked, "ranked"), tier) for tier in TIERS if tier < last]
    tier_of = case(*whens, else_=last)
    stmt = (_base(Product.id, tier_of.label("tier"), ps=ranked)
            .where(*_filters(session, p, ranked), _tier_match(session, plan, last, ranked, "ranked"))
            .order_by(tier_of, *_rank_order(ranked)).limit(want))
    return list((await session.execute(stmt)).all())


async def _tier(session: AsyncSession, plan: _Plan, where: list[ColumnElement[bool]], tier: int, want: int
                ) -> list[str]:
    """The first `want` products of a tier in rank order, from all of its matches (the probe showed they are rare
    enough to be read from the text index). The best of them are taken before they are joined with their
    products and merchants to filter them; should the filters leave too few (a narrow category, say), more are
    taken once, and then every match is filtered."""
    matched = (select(ProductSearch.product_id, ProductSearch.in_stock, ProductSearch.sales_30d)
               .where(_tier_match(session, plan, tier)).cte("matched").prefix_with("MATERIALIZED"))
    take = want + want // 4 + TAKE_EXTRA
    for _ in range(2):
        best = list((await session.scalars(select(matched.c.product_id).order_by(*_rank_order(matched.c))
                                           .limit(take))).all())
        if not best:
            return []
        rows = list((await session.scalars(_base(Product.id).where(*where, ProductSearch.product_id.in_(best))
                                           .order_by(*_rank_order(ProductSearch)).limit(want))).all())
        if len(rows) >= want or len(best) < take:
            return rows
        take *= TAKE_GROWTH
    return list((await session.scalars(_base(Product.id).where(*where, ProductSearch.product_id.in_(
        select(matched.c.product_id))).order_by(*_rank_order(ProductSearch)).limit(want))).all())


async def _facets(session: AsyncSession, names: list[str], where: list[ColumnElement[bool]]
                  ) -> dict[str, list[dict[str, Any]]]:
    """Counts per value of each facet over every match, all from one pass over the matches (one statement)."""
    matched = (_base(Product.id.label("product_id"), Product.category.label("category"),
                     ProductSearch.merchant_id.label("merchant"), ProductSearch.min_price.label("min_price"))
               .where(*where).cte("faceted").prefix_with("MATERIALIZED"))
    branches = []
    for name in dict.fromkeys(names):
        n = func.count().label("n")
        if name in ("category", "merchant"):
            value: ColumnElement[Any] = matched.c[name]
            stmt = select(value.label("value"), n).group_by(value).order_by(n.desc(), value).limit(FACET_VALUES)
        elif name == "price":
            value = cast(case(*((matched.c.min_price < hi, i) for i, (_, hi) in enumerate(PRICE_BANDS) if hi),
                              else_=len(PRICE_BANDS) - 1), String)
            stmt = select(value.label("value"), n).group_by(value)
        else:  # option.<name>
            value = _attribute(session, name[len("option."):])
            n = func.count(matched.c.product_id.distinct()).label("n")
            stmt = (select(value.label("value"), n).select_from(matched)
                    .join(Variant, Variant.product_id == matched.c.product_id).where(value.is_not(None))
                    .group_by(value).order_by(n.desc(), value).limit(FACET_VALUES))
        one = stmt.add_columns(literal(name).label("facet")).subquery()
        branches.append(select(one.c.facet, one.c.value, one.c.n))
    out: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    if not branches:
        return out
    for r in (await session.execute(union_all(*branches))).all():
        out[r.facet].append({"value": r.value, "count": r.n})
    for name, values in out.items():
        if name == "price":
            bands = sorted((int(b["value"]), b["count"]) for b in values)
            out[name] = _bands(bands)
        else:  # the same order on both databases, whatever their collation
            values.sort(key=lambda b: (-b["count"], b["value"]))
    return out


# ---- searching the process's copy of the index (memory.py, live.py) -----------------------------------------

def answers_from_copy(p: Search) -> bool:
    """Whether the copy can answer this search: words, best first, filtered and counted by category, merchant and
    price. Other sorts, and options as filters or facets, are the database's."""
    return bool(p.q) and p.sort in (None, "relevance") and not p.options and all(f in FACETS for f in p.facets)


async def search_copy(session: AsyncSession, copy: memory.Index, p: Search) -> Found | None:
    """As `search`, from the process's copy of the index; None when the database is to answer: a search that
    `answers_from_copy` does not take, or one that found nothing (the database corrects typos and logs misses)."""
    if not answers_from_copy(p):
        return None
    q = p.q or ""
    if q in copy.plans:
        plan = copy.plans[q]
    else:
        terms = text.query_terms(q)
        plan = await _plan(session, q, terms, copy) if terms else None
        copy.remember_plan(q, plan)
    if plan is None:
        return None
    coded = await _by_code(session, plan.raw)  # the last await: the copy is read in one go from here on
    allowed = copy.visible(p.viewer_merchant_id)
    if p.category:
        allowed = allowed & copy.by_category.get(p.category, memory.EMPTY)
    if p.merchant_id:
        allowed = allowed & copy.by_merchant.get(p.merchant_id, memory.EMPTY)
    if p.price_min is not None or p.price_max is not None:
        allowed = allowed & copy.priced(p.price_min, p.price_max)
    memo: dict[Any, BitMap] = {}

    def matching(columns: tuple[int, ...], whole_words: bool = False) -> BitMap:
        found = copy.matching(plan.base, columns, whole_words, memo)
        for merchant_id, expr in plan.merchants:
            found = found | (copy.by_merchant.get(merchant_id, memory.EMPTY)
                             & copy.matching(expr, columns, whole_words, memo))
        return found

    def tier_of(tier: int) -> BitMap:  # as _tier_match
        if tier == TITLE:
            return matching(memory.TITLE_ONLY)
        if tier == HEAD_WORD:
            return matching(memory.TITLE_ONLY) | matching(memory.HEAD, whole_words=True)
        return matching(memory.HEAD if tier == HEAD_ANY else memory.EVERYWHERE)

    by_code = BitMap(s for i in coded if (s := copy.slot_of.get(i)) is not None) & allowed
    want = p.offset + p.limit + 1
    out = copy.best(by_code, want)
    seen = by_code
    for tier in TIERS:  # as _ranked: each tier's new products, best first, until the page is full
        if len(out) >= want:
            break
        matches = tier_of(tier) & allowed
        out += copy.best(matches - seen, want - len(out))
        seen = seen | matches
    ids = copy.ids(out[p.offset:])
    if not ids and p.offset == 0:
        return None
    found = Found(ids[:p.limit], len(ids) > p.limit)
    if p.facets:
        everything = (tier_of(ANYWHERE) | by_code) & allowed
        facets: dict[str, list[dict[str, Any]]] = {}
        for name in p.facets:
            if name == "price":
                facets[name] = _bands(copy.band_counts(everything, PRICE_BANDS))
            else:
                facets[name] = [{"value": v, "count": n} for v, n in copy.counts(everything, name, FACET_VALUES)]
        found.facets = facets
    return found


def _bands(counts: Sequence[tuple[int, int]]) -> list[dict[str, Any]]:
    """The price facet's values from (band number, count) pairs, in band order."""
    return [{"min": PRICE_BANDS[i][0], "max": PRICE_BANDS[i][1], "count": n} for i, n in counts]


# ---- typos, "did you mean", zero results --------------------------------------------------------------------

async def _candidates(session: AsyncSession, word: str) -> list[tuple[str, str, int]]:
    """(term, pinyin, products) rows whose term or pinyin might be within trigram reach of `word`."""
    cols = (SearchTerm.term, SearchTerm.pinyin, SearchTerm.products)
    if dialect_of(session) == "postgresql":
        near = or_(SearchTerm.term.op("%")(word), SearchTerm.pinyin.op("%")(word))
        rows = (await session.execute(select(*cols).where(near).limit(200))).all()
    else:  # the embedded database's vocabulary is small: compare with all of it
        rows = (await session.execute(select(*cols).limit(50_000))).all()
    return [(r.term, r.pinyin, r.products) for r in rows]


async def closest(session: AsyncSession, word: str) -> str | None:
    """The indexed title word most like `word` by trigram similarity (its own spelling or its pinyin), or None.
    A Chinese word is compared by its pinyin, so a homophone typo (羽容服) finds 羽绒服."""
    probe = text.pinyin(word)[0] if text.is_cjk(word) else word
    if not probe:
        return None
    best: tuple[float, int, str] | None = None
    for term, pinyin, products in await _candidates(session, probe):
        if term in (word, text.stem(word)):
            return None  # the word is known: nothing to correct
        s = max(text.similarity(term, probe) if not text.is_cjk(term) else 0.0,
                text.similarity(pinyin, probe) if pinyin else 0.0)
        if s >= SIMILARITY and (best is None or (s, products, _neg(term)) > (best[0], best[1], _neg(best[2]))):
            best = (s, products, term)
    return best[2] if best else None


def _neg(term: str) -> tuple[int, ...]:
    return tuple(-ord(c) for c in term)


async def _correct(session: AsyncSession, terms: list[str]) -> list[str] | None:
    """The terms with each unknown word replaced by its closest indexed word, or None when nothing changes."""
    out = [await closest(session, t) or t for t in terms]
    return out if out != terms else None


async def _log_miss(session: AsyncSession, q: str) -> None:
    now = utcnow()
    stmt = _insert(session)(SearchMiss).values(query=q[:200], count=1, first_at=now, last_at=now)
    await session.execute(stmt.on_conflict_do_update(
        index_elements=[SearchMiss.query], set_={"count": SearchMiss.count + 1, "last_at": now}))
    await session.commit()


async def misses(session: AsyncSession, *, offset: int, limit: int) -> tuple[list[dict[str, Any]], bool]:
    """Queries that found nothing, most frequent first, each with a "did you mean" when one is near."""
    rows = (await session.execute(select(SearchMiss).order_by(SearchMiss.count.desc(), SearchMiss.last_at.desc(),
                                                              SearchMiss.query)
                                  .offset(offset).limit(limit + 1))).scalars().all()
    out = []
    for m in rows[:limit]:
        terms = m.query.split()
        fixed = [await closest(session, t) or t for t in terms]
        out.append({"query": m.query, "count": m.count, "first_at": m.first_at, "last_at": m.last_at,
                    "did_you_mean": " ".join(fixed) if fixed != terms else None})
    return out, len(rows) > limit
