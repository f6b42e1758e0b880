"""Options and the variant matrix: pure rules, no database.

A product's options (颜色, 尺码, 规格 ...) each have an ordered list of values; its variants are combinations,
one value per option, held in a variant's `attributes` (option name -> value). Products made before options
existed, or sent without them, get options derived from their variants' attributes when every variant names
the same attributes.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

MAX_OPTIONS = 3
MAX_VALUES = 100
MAX_VARIANTS = 100

Option = dict[str, Any]  # {"name": str, "values": [str, ...]}


def derive(attributes: Iterable[Mapping[str, str]]) -> list[Option]:
    """Options read off variants' attributes (names and values in order of first appearance); none when the
    variants do not all name the same attributes, or name more than `MAX_OPTIONS`."""
    rows = list(attributes)
    if not rows or not rows[0]:
        return []
    names = list(rows[0])
    if len(names) > MAX_OPTIONS or any(set(r) != set(names) for r in rows):
        return []
    values: dict[str, list[str]] = {n: [] for n in names}
    for r in rows:
        for n in names:
            if r[n] not in values[n]:
                values[n].append(r[n])
    return [{"name": n, "values": values[n]} for n in names]


def key(attributes: Mapping[str, str], options: Sequence[Option]) -> tuple[str, ...]:
    """A variant's combination, in option order."""
    return tuple(str(attributes.get(o["name"], "")) for o in options)


def combinations(options: Sequence[Option]) -> list[dict[str, str]]:
    """Every combination of the options' values, first option slowest."""
    if not options:
        return []
    return [dict(zip((o["name"] for o in options), combo, strict=True))
            for combo in itertools.product(*(o["values"] for o in options))]


def mismatches(options: Sequence[Option], attributes: Sequence[Mapping[str, str]]) -> list[tuple[int, str, str]]:
    """(variant index, field, message) for variants whose attributes are not one value of each option, or
    that repeat another variant's combination."""
    errors: list[tuple[int, str, str]] = []
    seen: dict[tuple[str, ...], int] = {}
    names = {o["name"] for o in options}
    for i, attrs in enumerate(attributes):
        extra = sorted(set(attrs) - names)
        if extra:
            errors.append((i, "attributes", f"{', '.join(extra)} is not an option of the product"))
            continue
        bad = [o["name"] for o in options if attrs.get(o["name"]) not in o["values"]]
        if bad:
            errors.append((i, "attributes", f"needs one of the values of {', '.join(bad)}"))
            continue
        combo = key(attrs, options)
        if combo in seen:
            errors.append((i, "attributes", f"the same options as variant {seen[combo]}"))
        seen.setdefault(combo, i)
    return errors


def pick(variants: Sequence[Mapping[str, Any]], chosen: Mapping[str, str]) -> Mapping[str, Any] | None:
    """The variant whose attributes have every chosen option value (the storefront's choice), or None."""
    for v in variants:
        attrs = v.get("attributes") or {}
        if all(attrs.get(name) == value for name, value in chosen.items()):
            return v
    return None


_SKU_PART = re.compile(r"[^A-Za-z0-9]+")


def sku_for(prefix: str, combination: Mapping[str, str], options: Sequence[Option]) -> str:
    """A SKU for a new combination: the prefix, then each value's letters and digits or, for a value with
    none (颜色 红色), its place in its option (V1, V2 ...)."""
    parts = [prefix]
    for o in options:
        value = combination[o["name"]]
        code = _SKU_PART.sub("", value).upper()[:12]
        parts.append(code or f"V{o['values'].index(value) + 1}")
    return "-".join(parts)[:64]
