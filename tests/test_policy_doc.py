"""docs/policy.md: all eleven sections, every link leads to a file that exists, every section but 7 names a test."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "policy.md"
LINK = re.compile(r"\]\(([^)\s]+)\)")
HEADING = re.compile(r"^## (\d+)\. ", re.MULTILINE)


def sections() -> dict[int, str]:
    text = DOC.read_text()
    marks = list(HEADING.finditer(text))
    return {int(m.group(1)): text[m.start():(marks[i + 1].start() if i + 1 < len(marks) else len(text))]
            for i, m in enumerate(marks)}


def test_the_eleven_sections_in_order() -> None:
    assert list(sections()) == list(range(1, 12))


def test_every_linked_path_exists() -> None:
    links = [link for link in LINK.findall(DOC.read_text()) if "://" not in link and not link.startswith("#")]
    assert links
    missing = [link for link in links if not (DOC.parent / link.split("#")[0]).resolve().exists()]
    assert missing == []


def test_every_section_but_seven_names_a_test_file() -> None:
    for number, body in sections().items():
        tests = [link for link in LINK.findall(body)
                 if re.fullmatch(r"\.\./tests/(.+/)?test_[a-z0-9_]+\.py", link)]
        if number == 7:
            assert tests == [] and "outside software" in body
        else:
            assert tests, f"section {number} links no test file"
