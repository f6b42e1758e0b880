"""Store tills (POS devices): event uploads folded into the stock pool, the changes feed, oversell conflicts."""
