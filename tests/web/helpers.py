"""Reading rendered pages in tests: the CSRF token, labelled inputs, text."""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser

import httpx

PAGE_LIMIT = 200 * 1024


def csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, "the page has no form token"
    return found.group(1)


class _Controls(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict[str, str | None]] = []
        self.labels: set[str] = set()
        self.depth_in_label = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "label":
            self.depth_in_label += 1
            if a.get("for"):
                self.labels.add(str(a["for"]))
        elif tag in ("input", "select", "textarea") and a.get("type") not in ("hidden", "submit"):
            self.controls.append({**a, "_wrapped": "1" if self.depth_in_label else None})

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.depth_in_label -= 1


def unlabelled_controls(html: str) -> list[str]:
    """Form controls a screen reader would announce without a name."""
    parser = _Controls()
    parser.feed(html)
    return [str(c.get("name")) for c in parser.controls
            if not c["_wrapped"] and c.get("id") not in parser.labels and not c.get("aria-label")]


def assert_good_page(r: httpx.Response) -> str:
    assert r.status_code == 200, r.text[:2000]
    assert r.headers["content-type"].startswith("text/html")
    assert len(r.content) < PAGE_LIMIT
    assert unlabelled_controls(r.text) == []
    assert '<html lang="' in r.text
    return unescape(r.text)
