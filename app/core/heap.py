"""The collector set for a long-running process: servers, the relay, consumers."""

from __future__ import annotations

import gc

# Objects of a request or a batch mostly die by reference counting; the collector only needs to find cycles. At
# the default first threshold (700 allocations) a big upload, a large order or a relay batch starts many young
# collections, each promoting the objects of everything in flight, then full collections over all of them.
# Collecting young objects far less often lets most of them die first (bench/soak.py shows the effect).
THRESHOLDS = (50_000, 20, 20)


def settle() -> None:
    """Call once loaded: what exists now (modules, the app, pools) lives as long as the process, so it is moved
    out of the collector's way; full collections then look at what requests and batches made, not at it."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)


def keep_loaded() -> None:
    """Call after loading a large structure that lives until replaced (a process's copy of the search index): it
    is moved out of the collector's way as `settle` does; dropping it later still frees it."""
    gc.freeze()
