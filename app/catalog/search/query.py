"""A query as an expression over tokens, written out for PostgreSQL (`tsquery`) and for SQLite (FTS5 MATCH).

Every term of the query must match (AND); a term matches through any of its alternatives (OR): the term as a
word prefix (`羽绒` finds 羽绒服, `jack` finds jacket, `yurong` finds yurongfu; a single character only as a
whole word), its stem, the words it is cut
into, its character pairs (`绒服` still finds 羽绒服, at the lowest weight) and its synonyms. A query of several
Latin words also matches them written together (`yu rong fu` is `yurongfu`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from app.catalog.search import text


@dataclass(frozen=True, slots=True)
class Tok:
    value: str
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class All:
    parts: tuple[Expr, ...]


@dataclass(frozen=True, slots=True)
class Any_:
    parts: tuple[Expr, ...]


Expr = Tok | All | Any_


def _all(parts: Sequence[Expr]) -> Expr:
    unique = tuple(dict.fromkeys(parts))
    return unique[0] if len(unique) == 1 else All(unique)


def _any(parts: Sequence[Expr]) -> Expr:
    unique = tuple(dict.fromkeys(parts))
    return unique[0] if len(unique) == 1 else Any_(unique)


def _token(word: str) -> Tok:
    """A word matched as a prefix, unless it is one character: every word starting with 款 or l would match."""
    return Tok(word, prefix=len(word) > 1)


def _phrase(words: Sequence[str]) -> Expr:
    return _all([_token(w if text.is_cjk(w) else text.stem(w)) for w in words])


def _word(word: str, synonyms: Mapping[str, Sequence[str]], dictionary: Sequence[str], depth: int) -> Expr:
    alts: list[Expr] = [_token(word)]
    if text.is_latin_word(word) and text.stem(word) != word:
        alts.append(_token(text.stem(word)))
    if text.is_cjk(word):
        pairs = text.grams(word, singles=False)
        alts.append(_all([Tok(g) for g in pairs]) if pairs else Tok(word))
    if depth == 0:
        parts = text.query_words(word, dictionary)
        if len(parts) > 1:
            alts.append(_all([_word(p, synonyms, dictionary, depth + 1) for p in parts]))
    for other in synonyms.get(text.key(word), ()):
        words = text.query_words(other, dictionary)
        if words:
            alts.append(_phrase(words))
    return _any(alts)


def build(terms: Sequence[str], *, synonyms: Mapping[str, Sequence[str]] = {},
          dictionary: Sequence[str] = ()) -> Expr | None:
    """The expression for the query's terms (see `text.query_terms`); None when there is nothing to match."""
    if not terms:
        return None
    expr = _all([_word(t, synonyms, dictionary, 0) for t in terms])
    if len(terms) > 1:  # the terms together may be a synonym (`down jacket`) or pinyin (`yu rong fu`)
        alts = [expr, *(_phrase(w) for other in synonyms.get(text.key("".join(terms)), ())
                        if (w := text.query_words(other, dictionary)))]
        if all(text.is_latin_word(t) for t in terms):
            alts.append(_token("".join(terms)))
        expr = _any(alts)
    return expr


def keys(terms: Sequence[str], dictionary: Sequence[str] = ()) -> list[str]:
    """Every key a synonym may be listed under for these terms (the terms and the words they are cut into)."""
    out = [*terms, "".join(terms)]
    for t in terms:
        out += text.query_words(t, dictionary)
    return sorted({text.key(k) for k in out if k})


# ---- writing it out ----------------------------------------------------------------------------------

def exact(expr: Expr) -> Expr:
    """The expression with every token matched as a whole word only (`xiaomi` no longer finds xiaomian)."""
    if isinstance(expr, Tok):
        return Tok(expr.value)
    parts = tuple(dict.fromkeys(exact(p) for p in expr.parts))
    if len(parts) == 1:
        return parts[0]
    return All(parts) if isinstance(expr, All) else Any_(parts)


def tsquery(expr: Expr) -> str:
    """PostgreSQL tsquery text."""
    if isinstance(expr, Tok):
        lexeme = "'" + expr.value.replace("'", "''") + "'"
        return f"{lexeme}:*" if expr.prefix else lexeme
    sep = " & " if isinstance(expr, All) else " | "
    return "(" + sep.join(tsquery(p) for p in expr.parts) + ")"


def fts5(expr: Expr, columns: Sequence[str] = ()) -> str:
    """SQLite FTS5 MATCH text; with `columns`, only those columns match."""
    body = _fts5(expr)
    return "{" + " ".join(columns) + "} : (" + body + ")" if columns else body


def _fts5(expr: Expr) -> str:
    if isinstance(expr, Tok):
        return '"' + expr.value.replace('"', '""') + '"' + ("*" if expr.prefix else "")
    sep = " AND " if isinstance(expr, All) else " OR "
    return "(" + sep.join(_fts5(p) for p in expr.parts) + ")"
