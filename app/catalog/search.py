"""Search tokens: how Chinese and Latin substrings are found through an index.

A product's text is lower-cased and cut into runs of CJK characters and runs of Latin letters/digits.
The index holds, for CJK runs, every character and every pair of adjacent characters; for Latin runs
every trigram (and words shorter than three letters whole). A query term is a substring of the text
only if all of its own tokens are among the text's tokens, so the index narrows the candidates and a
`LIKE '%term%'` on the lower-cased text confirms them. A term with no tokens of its own (one or two
Latin letters) is matched by the `LIKE` alone.
"""

from __future__ import annotations

import re

_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[a-z0-9]+")
MAX_TERMS = 8
MAX_TERM_LEN = 64


def _is_cjk(run: str) -> bool:
    return not run[0].isascii()


def normalise(text: str) -> str:
    """The form that is stored and searched: NFKC-ish lower case (full-width ASCII folded)."""
    folded = text.translate({c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)})
    return folded.lower()


def index_tokens(text: str) -> list[str]:
    """Every token of `text`, sorted and unique."""
    tokens: set[str] = set()
    for run in _RUN.findall(normalise(text)):
        if _is_cjk(run):
            tokens.update(run)
            tokens.update(run[i:i + 2] for i in range(len(run) - 1))
        elif len(run) < 3:
            tokens.add(run)
        else:
            tokens.update(run[i:i + 3] for i in range(len(run) - 2))
    return sorted(tokens)


def query_terms(q: str) -> list[str]:
    """Whitespace-separated terms of a query, normalised, at most 8 of at most 64 characters."""
    return [t[:MAX_TERM_LEN] for t in normalise(q).split()][:MAX_TERMS]


def query_tokens(terms: list[str]) -> list[str]:
    """Tokens every matching text must contain (a subset of that text's `index_tokens`)."""
    tokens: set[str] = set()
    for term in terms:
        for run in _RUN.findall(term):
            if _is_cjk(run):
                tokens.update(run if len(run) == 1 else (run[i:i + 2] for i in range(len(run) - 1)))
            elif len(run) >= 3:
                tokens.update(run[i:i + 3] for i in range(len(run) - 2))
    return sorted(tokens)
