"""docs/compliance.md: every rule C1–C41 once, each proved by tests that exist, not applicable with a reason, or
pending with a reason; and the totals line adds up."""

from __future__ import annotations

import ast
import re
from collections import Counter
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "compliance.md"
ROW = re.compile(r"^\| (C\d+) \|[^|]*\| (.+) \|$", re.MULTILINE)
TEST_REF = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")
STATUS = re.compile(r"^(proved by `|not applicable: \S|pending: \S)")
TOTALS = re.compile(r"^Totals: (\d+) proved, (\d+) not applicable, (\d+) pending\.$", re.MULTILINE)


def rows() -> list[tuple[str, str]]:
    return ROW.findall(DOC.read_text())


@cache
def _tests_in(path: str) -> set[str]:
    """The test functions a pytest module defines at its top level."""
    file = ROOT / path
    if not file.is_file():
        return set()
    tree = ast.parse(file.read_text())
    return {node.name for node in tree.body
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_")}


def kind(status: str) -> str:
    return status.split(" ", 1)[0].removesuffix(":") if not status.startswith("not applicable") else "not applicable"


def test_every_rule_is_listed_once_in_order() -> None:
    assert [rule for rule, _ in rows()] == [f"C{n}" for n in range(1, 42)]


def test_every_row_is_proved_not_applicable_or_pending_with_a_reason() -> None:
    bad = [rule for rule, status in rows() if not STATUS.match(status)]
    assert bad == []
    for rule, status in rows():
        if status.startswith("proved by"):
            assert TEST_REF.match(status, len("proved by ")), f"{rule} names no test right after 'proved by'"


def test_every_test_named_exists() -> None:
    refs = TEST_REF.findall(DOC.read_text())
    assert len(refs) > 30
    missing = [f"{path}::{name}" for path, name in refs if name not in _tests_in(path)]
    assert missing == []


def test_the_totals_line_counts_the_rows() -> None:
    found = TOTALS.search(DOC.read_text())
    assert found, "the doc ends with `Totals: N proved, N not applicable, N pending.`"
    counts = Counter(kind(status) for _, status in rows())
    assert (int(found.group(1)), int(found.group(2)), int(found.group(3))) == (
        counts["proved"], counts["not applicable"], counts["pending"])


def test_a_missing_test_would_be_caught() -> None:
    assert "test_that_was_never_written" not in _tests_in("tests/trust/test_ip_takedown.py")
    assert _tests_in("tests/no_such_file.py") == set()
