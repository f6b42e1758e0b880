"""Placing orders, the same way for every channel: `pipeline.place` (the protocol), `drafts` (what is placed),
`statement` (the stock taken and the rows written, all or nothing)."""
