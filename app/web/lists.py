"""The console's one list helper: search, filters, sort, cursor pages (next and previous) and CSV export.

A list is a `ListSpec` (its columns, sorts and filters) and a statement that selects its rows already searched,
filtered and scoped to the merchant (and to a clerk's store), with an `id` column. The helper pages that
statement by keyset on (sort column, id) so every page is one indexed range read however deep it is, and the
cursor is the API's opaque form (`app.core.pagination.encode_cursor`). Export streams the same rows, all pages,
as CSV in UTF-8 with a BOM so Excel opens the Chinese text.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode

import orjson
from sqlalchemy import Select, literal, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from app.core.clock import SHANGHAI
from app.core.errors import field_error
from app.core.pagination import encode_cursor
from app.web import i18n

Rows = Select[*tuple[Any, ...]]  # a list's statement: any columns, one of them `id`

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
EXPORT_CHUNK = 1000
EXPORT_MAX_ROWS = 200_000


@dataclass(frozen=True, slots=True)
class Col:
    key: str  # the row's column
    label: str  # message key
    kind: str = "text"  # text | int | money | time | status | channel | link
    sortable: bool = False
    href: str | None = None  # "/console/orders/{id}" for kind "link"
    sort_key: str | None = None  # what its header sorts by, when not its own column ("id": time-ordered ids)

    @property
    def sorts_by(self) -> str:
        return self.sort_key or self.key


@dataclass(frozen=True, slots=True)
class Filter:
    name: str  # the query parameter
    label: str  # message key
    kind: str = "select"  # select | date | text
    choices: tuple[tuple[str, str], ...] = ()  # (value, label key or text)


@dataclass(frozen=True, slots=True)
class ListSpec:
    name: str  # the page path under /console/ and the CSV's file name
    title: str  # message key
    columns: tuple[Col, ...]
    default_sort: str
    default_desc: bool = True
    filters: tuple[Filter, ...] = ()
    search_hint: str = "search_hint"

    def sorts(self) -> set[str]:
        return {c.sorts_by for c in self.columns if c.sortable}


@dataclass(slots=True)
class ListQuery:
    q: str
    sort: str
    desc: bool
    after: tuple[Any, str] | None
    before: tuple[Any, str] | None
    limit: int
    filters: dict[str, str] = field(default_factory=dict)

    def params(self, **over: Any) -> str:
        """The query string of this list with some parameters changed (cursors dropped unless given)."""
        values: dict[str, Any] = {"q": self.q, "sort": self.sort, "dir": "desc" if self.desc else "asc",
                                  **self.filters}
        values.update(over)
        return urlencode({k: v for k, v in values.items() if v not in (None, "")})


@dataclass(slots=True)
class ListPage:
    spec: ListSpec
    query: ListQuery
    rows: list[dict[str, Any]]
    next_cursor: str | None
    prev_cursor: str | None

    def table(self, lang: i18n.Lang) -> list[list[tuple[str, str, str, str | None]]]:
        """Each row's cells as (kind, column label, text, link), formatted once here rather than cell by cell
        in the template (a page of 200 rows is 2,000 cells)."""
        labels = [i18n.translate(lang, c.label) for c in self.spec.columns]
        return [[(c.kind, label, cell_text(c, r.get(c.key), lang), _href(c.href, r) if c.href else None)
                 for c, label in zip(self.spec.columns, labels, strict=True)] for r in self.rows]


def _href(template: str, row: Mapping[str, Any]) -> str:
    """A link of a row: its values quoted into the template (an e-mail in a query string stays one value)."""
    return template.format(**{k: quote(str(v), safe="") for k, v in row.items()})


def _pack(value: Any, ident: str) -> str:
    if isinstance(value, Decimal):
        value = int(value)
    if isinstance(value, datetime):
        value = {"t": value.isoformat()}
    elif isinstance(value, date):
        value = {"d": value.isoformat()}
    return encode_cursor(orjson.dumps([value, ident]).decode())


def _unpack(name: str, cursor: str | None) -> tuple[Any, str] | None:
    """A cursor of ours; a 422 naming the parameter otherwise."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value, ident = orjson.loads(raw)
    except (binascii.Error, ValueError, TypeError, orjson.JSONDecodeError):
        raise field_error(name, "not a valid cursor") from None
    if not isinstance(ident, str):
        raise field_error(name, "not a valid cursor")
    if isinstance(value, dict) and "t" in value:
        value = datetime.fromisoformat(str(value["t"]))
    elif isinstance(value, dict) and "d" in value:
        value = date.fromisoformat(str(value["d"]))
    return value, ident


def read_query(request: Request, spec: ListSpec) -> ListQuery:
    """The list's query from the URL: unknown sorts fall back to the default; bad cursors and limits are 422."""
    p = request.query_params
    sort = p.get("sort") or spec.default_sort
    if sort not in spec.sorts() and sort != spec.default_sort:
        raise field_error("sort", f"one of {', '.join(sorted(spec.sorts()))}")
    direction = p.get("dir") or ("desc" if spec.default_desc else "asc")
    if direction not in ("asc", "desc"):
        raise field_error("dir", "asc or desc")
    try:
        limit = int(p.get("limit") or PAGE_SIZE)
    except ValueError:
        raise field_error("limit", "a whole number") from None
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise field_error("limit", f"1 to {MAX_PAGE_SIZE}")
    filters = {}
    for f in spec.filters:
        value = (p.get(f.name) or "").strip()[:100]
        if not value:
            continue
        if f.kind == "select" and f.choices and value not in {c for c, _ in f.choices}:
            raise field_error(f.name, "not one of the choices")
        if f.kind == "date":
            try:
                date.fromisoformat(value)
            except ValueError:
                raise field_error(f.name, "a date, YYYY-MM-DD") from None
        filters[f.name] = value
    return ListQuery(q=(p.get("q") or "").strip()[:100], sort=sort, desc=direction == "desc",
                     after=_unpack("after", p.get("after")), before=_unpack("before", p.get("before")),
                     limit=limit, filters=filters)


def day_start(value: str) -> datetime:
    """The first instant of a Shanghai calendar day, in UTC (for a date-range filter)."""
    return datetime.combine(date.fromisoformat(value), datetime.min.time(), SHANGHAI).astimezone(UTC)


def _typed(value: Any) -> Any:
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)  # SQLite hands back naive UTC
    return value


async def page(session: AsyncSession, spec: ListSpec, stmt: Rows, query: ListQuery) -> ListPage:
    """One page of `stmt`'s rows in the list's order, past `after` or before `before`."""
    sq = stmt.subquery("listed")
    key, ident = sq.c[query.sort], sq.c["id"]
    backwards = query.before is not None and query.after is None
    cursor = query.before if backwards else query.after
    descending = query.desc != backwards
    out = sq.select()
    if query.sort == "id":  # ids sort by creation time: one indexed range, (merchant_id, id), page after page
        if cursor is not None:
            out = out.where(ident < cursor[1] if descending else ident > cursor[1])
        out = out.order_by(ident.desc() if descending else ident)
    else:
        if cursor is not None:
            bound = tuple_(literal(cursor[0], key.type), literal(cursor[1], ident.type))
            out = out.where(tuple_(key, ident) < bound if descending else tuple_(key, ident) > bound)
        out = out.order_by(key.desc() if descending else key, ident.desc() if descending else ident)
    rows = [dict(r) for r in (await session.execute(out.limit(query.limit + 1))).mappings().all()]
    more = len(rows) > query.limit
    rows = rows[:query.limit]
    if backwards:
        rows.reverse()
    first = _pack(_typed(rows[0][query.sort]), rows[0]["id"]) if rows else None
    last = _pack(_typed(rows[-1][query.sort]), rows[-1]["id"]) if rows else None
    if backwards:
        next_cursor, prev_cursor = last, (first if more else None)
    else:
        next_cursor, prev_cursor = (last if more else None), (first if cursor is not None else None)
    return ListPage(spec=spec, query=query, rows=rows, next_cursor=next_cursor, prev_cursor=prev_cursor)


def cell_text(col: Col, value: Any, lang: i18n.Lang) -> str:
    """A value as the page shows it (and the CSV writes it): money with separators, Shanghai times."""
    if value is None:
        return ""
    if col.kind == "money":
        return i18n.money(int(value))
    if col.kind == "time":
        return i18n.local_time(_typed(value))
    if col.kind in ("status", "channel"):
        return i18n.translate(lang, f"{'ch_' if col.kind == 'channel' else ''}{value}")
    if isinstance(value, bool):
        return "✓" if value else ""
    return str(value)


async def _csv_chunks(session: AsyncSession, spec: ListSpec, stmt: Rows, query: ListQuery,
                      lang: i18n.Lang) -> AsyncIterator[bytes]:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow([i18n.translate(lang, c.label) for c in spec.columns])
    yield ("\ufeff" + buf.getvalue()).encode()
    q = ListQuery(q=query.q, sort=query.sort, desc=query.desc, after=None, before=None, limit=EXPORT_CHUNK,
                  filters=query.filters)
    written = 0
    while written < EXPORT_MAX_ROWS:
        got = await page(session, spec, stmt, q)
        buf.seek(0)
        buf.truncate()
        for r in got.rows:
            writer.writerow([cell_text(c, r.get(c.key), lang) for c in spec.columns])
        written += len(got.rows)
        yield buf.getvalue().encode()
        if got.next_cursor is None:
            break
        q.after = _unpack("after", got.next_cursor)


async def export(session: AsyncSession, spec: ListSpec, stmt: Rows, query: ListQuery,
                 lang: i18n.Lang) -> Response:
    """Every row the list shows (its search, filters and sort; all pages) as a CSV download. Built before the
    answer starts, while the request's database session is still open."""
    body = b"".join([chunk async for chunk in _csv_chunks(session, spec, stmt, query, lang)])
    name = f"{spec.name}-{datetime.now(SHANGHAI):%Y%m%d-%H%M}.csv"
    return Response(body, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})
