"""Text analysis: the tokens a product is indexed under and a query is matched with, the same on both databases.

Chinese is segmented into words by jieba (search mode, so 羽绒服 also gives 羽绒), with a merchant's own
dictionary words (brands the general dictionary splits) found in its texts as whole tokens. Latin words are
lower-cased and stemmed (Snowball English). Titles also get their pinyin, per word and per run of Chinese, in
full (`yurongfu`) and as initials (`yrf`); pypinyin reads each word as a phrase, so polyphonic characters take
the reading of the word they are in (重庆 chongqing, 银行 yinhang). CJK character pairs (and a title's single
characters) are indexed too, so that any part of a word still finds it: a title's at the title's weight, a
description's at the lowest.

Every token is made of CJK characters, ASCII letters and digits only: both the PostgreSQL `simple` parser and
SQLite FTS5's `unicode61` tokenizer keep such a run as one token, so a token string is indexed as it is.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import snowballstemmer

if TYPE_CHECKING:
    import jieba

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(f"[{_CJK}a-z0-9]+")
_CJK_RUN = re.compile(f"[{_CJK}]+")
_IS_CJK = re.compile(f"[{_CJK}]")
_LATIN_WORD = re.compile(r"[a-z]+")

MAX_QUERY_TERMS = 8
MAX_TERM_LEN = 40
MAX_DESCRIPTION = 2_000  # characters of a description that are indexed

_jieba_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None
_stemmer = snowballstemmer.stemmer("english")


def _segmenter() -> jieba.Tokenizer:
    """jieba's tokenizer, loaded when first needed: jieba and pypinyin (below) are imported then too, as they
    are a large part of every process's start and many processes never analyse text."""
    global _tokenizer
    if _tokenizer is None:
        with _jieba_lock:
            if _tokenizer is None:
                import jieba

                jieba.setLogLevel(60)  # its dictionary-loading notices are not ours to log
                tk = jieba.Tokenizer()
                tk.initialize()
                _tokenizer = tk
    return _tokenizer


def warm_up() -> None:
    """Load the segmenter's dictionary (about a second) before the first request needs it."""
    _segmenter()
    pinyin("预热")


_HALF_WIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}


def normalise(text: str) -> str:
    """Full-width ASCII folded to half-width, lower case."""
    return text.translate(_HALF_WIDTH).lower()


def is_cjk(token: str) -> bool:
    return _IS_CJK.search(token) is not None


@lru_cache(maxsize=50_000)
def stem(word: str) -> str:
    """A Latin word's stem; words with digits and very short words stay as they are. Cached: a catalogue repeats
    its words, and the stemmer is pure Python."""
    if len(word) <= 3 or not word.isalpha():
        return word
    return str(_stemmer.stemWord(word))


@lru_cache(maxsize=20_000)
def _cut(run: str) -> tuple[str, ...]:
    return tuple(_segmenter().cut_for_search(run))


def words(text: str, dictionary: Iterable[str] = ()) -> list[str]:
    """The words of `text` in order (repeats kept): jieba's search-mode words, Latin stems and any `dictionary`
    word the text contains."""
    text = normalise(text)
    out: list[str] = []
    for piece in _cut(text) if len(text) < 500 else (w for chunk in text.split() for w in _cut(chunk)):
        for token in _TOKEN.findall(piece.lower()):
            out.append(token if is_cjk(token) else stem(token))
    out += [w for w in dictionary if w in text]
    return out


def query_words(text: str, dictionary: Iterable[str] = ()) -> list[str]:
    """The words a query term is cut into: the dictionary's own words first, then jieba's precise mode."""
    text = normalise(text)
    for w in sorted(dictionary, key=len, reverse=True):
        if w and w in text:
            before, _, after = text.partition(w)
            return [*query_words(before, dictionary), w, *query_words(after, dictionary)]
    out: list[str] = []
    for piece in _segmenter().cut(text):
        out += _TOKEN.findall(piece)
    return out


def grams(text: str, *, singles: bool) -> list[str]:
    """CJK character pairs of `text` (and single characters with `singles`)."""
    out: list[str] = []
    for run in _CJK_RUN.findall(text):
        if singles:
            out += list(run)
        out += [run[i:i + 2] for i in range(len(run) - 1)]
    return out


@lru_cache(maxsize=20_000)
def pinyin(word: str) -> tuple[str, str]:
    """(full pinyin, initials) of a Chinese word, read as a phrase; empty strings for other words."""
    if not is_cjk(word):
        return "", ""
    from pypinyin import Style, lazy_pinyin

    full = "".join(p for p in lazy_pinyin(word, errors="ignore") if p.isascii())
    initials = "".join(p[0] for p in lazy_pinyin(word, style=Style.FIRST_LETTER, errors="ignore")
                       if p and p.isascii())
    return re.sub(r"[^a-z0-9]", "", full.lower()), re.sub(r"[^a-z0-9]", "", initials.lower())


def pinyin_tokens(text: str, dictionary: Iterable[str] = ()) -> list[str]:
    """Full pinyin and initials of every word and of every whole run of Chinese characters in `text`."""
    text = normalise(text)
    out: list[str] = []
    for unit in [*query_words(text, dictionary), *_CJK_RUN.findall(text)]:
        full, initials = pinyin(unit)
        if full:
            out.append(full)
            if len(initials) > 1:
                out.append(initials)
    return out


@dataclass(frozen=True, slots=True)
class Document:
    """A product's tokens by weight: title with its character grams (A), category/options (B), pinyin (P,
    weighted as B), description (C), the description's character pairs (D). Each a space-separated string."""

    title: str
    extra: str
    pinyin: str
    body: str
    grams: str


def _join(tokens: Iterable[str]) -> str:
    return " ".join(t for t in tokens if t)


def document(*, title: str, description: str, extra: Iterable[str], dictionary: Iterable[str] = ()) -> Document:
    """The tokens of one product. `extra`: category names, option names and values, brand."""
    words_of_dictionary = [normalise(w) for w in dictionary]
    extra_text = " ".join(extra)
    description = description[:MAX_DESCRIPTION]
    # A title's characters and character pairs weigh as the title: any part of a title word is a title match.
    return Document(
        title=_join([*words(title, words_of_dictionary), *grams(normalise(title), singles=True)]),
        extra=_join(words(extra_text, words_of_dictionary)),
        pinyin=_join(pinyin_tokens(title, words_of_dictionary)),
        body=_join(words(description, words_of_dictionary)),
        grams=_join(grams(normalise(description), singles=False)),
    )


def query_terms(q: str) -> list[str]:
    """The whitespace-separated terms of a query: normalised, at most 8 of at most 40 characters, with
    punctuation inside a term dropped (`T-shirt` is `tshirt`); terms left empty are dropped."""
    terms = ["".join(_TOKEN.findall(t))[:MAX_TERM_LEN] for t in normalise(q).split()]
    return [t for t in terms if t][:MAX_QUERY_TERMS]


def key(text: str) -> str:
    """How a synonym or dictionary entry is compared with a query term."""
    return "".join(_TOKEN.findall(normalise(text)))


def is_latin_word(term: str) -> bool:
    return _LATIN_WORD.fullmatch(term) is not None


# ---- trigram similarity (pg_trgm's definition, so both databases suggest the same word) ------------------

def trigrams(text: str) -> set[str]:
    """pg_trgm's trigrams: each alphanumeric word padded with two spaces before and one after."""
    out: set[str] = set()
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        padded = f"  {word} "
        out.update(padded[i:i + 3] for i in range(len(padded) - 2))
    return out


def similarity(a: str, b: str) -> float:
    ta, tb = trigrams(a), trigrams(b)
    if not ta or not tb:
        return 0.0
    shared = len(ta & tb)
    return shared / (len(ta) + len(tb) - shared)
