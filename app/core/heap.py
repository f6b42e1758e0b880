"""The collector set for a long-running process: servers, the relay, consumers."""

from __future__ import annotations

import gc

# Young objects are collected after this many allocations (700 by default): a big order, a relay batch or a page
# of results allocates tens of thousands at a time and would otherwise start many collections each.
THRESHOLDS = (50_000, 20, 20)


def settle() -> None:
    """Call once loaded: what exists now (modules, the app, pools) lives as long as the process, so it is moved
    out of the collector's way; full collections then look at what requests and batches made, not at it."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
