"""Where an order's stock comes from: a pure rule, tested without a database.

Delivery orders:
  1. If one location can serve every line in full, use it. Among several, prefer a warehouse over a
     store (shops keep their shelves for walk-in customers), then the most total available stock, then
     the smaller location id (deterministic).
  2. Otherwise split line by line: take from the location with the most available stock first, then
     the next, until the line is covered. This is "ship from store when the warehouse is short".
Pick-up orders reserve only at the chosen store.
A line that cannot be covered is reported short; the caller reserves nothing then.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import partial


@dataclass(frozen=True, slots=True)
class Need:
    variant_id: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Take:
    variant_id: str
    location_id: str
    quantity: int


@dataclass(frozen=True, slots=True)
class Plan:
    takes: tuple[Take, ...]
    short: tuple[str, ...]  # variant ids that cannot be covered


LOCATION_PREFERENCE = {"warehouse": 0, "store": 1}


def _rank(available: Mapping[tuple[str, str], int], variant_id: str, location_id: str) -> tuple[int, str]:
    return (-available.get((location_id, variant_id), 0), location_id)


def plan_delivery(needs: Sequence[Need], available: Mapping[tuple[str, str], int],
                  location_kinds: Mapping[str, str]) -> Plan:
    """`available[(location_id, variant_id)]` is what can be promised; `location_kinds` the candidates."""
    candidates = [loc for loc in location_kinds if location_kinds[loc] in LOCATION_PREFERENCE]
    whole = [loc for loc in candidates
             if all(available.get((loc, n.variant_id), 0) >= n.quantity for n in needs)]
    if whole:
        best = min(whole, key=lambda loc: (LOCATION_PREFERENCE[location_kinds[loc]],
                                           -sum(max(available.get((loc, n.variant_id), 0), 0) for n in needs),
                                           loc))
        return Plan(tuple(Take(n.variant_id, best, n.quantity) for n in needs), ())
    takes: list[Take] = []
    short: list[str] = []
    for n in needs:
        ranked = sorted(candidates, key=partial(_rank, available, n.variant_id))
        left = n.quantity
        line: list[Take] = []
        for loc in ranked:
            can = min(left, available.get((loc, n.variant_id), 0))
            if can <= 0:
                break
            line.append(Take(n.variant_id, loc, can))
            left -= can
        if left > 0:
            short.append(n.variant_id)
        else:
            takes.extend(line)
    return Plan(tuple(takes), tuple(short))


def plan_pickup(needs: Sequence[Need], available: Mapping[tuple[str, str], int], location_id: str) -> Plan:
    short = tuple(n.variant_id for n in needs if available.get((location_id, n.variant_id), 0) < n.quantity)
    if short:
        return Plan((), short)
    return Plan(tuple(Take(n.variant_id, location_id, n.quantity) for n in needs), ())
