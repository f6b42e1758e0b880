"""Column types the models share beyond `app.db`'s."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer

# Money (fen) and quantities of goods: 64-bit. PostgreSQL needs BIGINT for that; SQLite's INTEGER is 64-bit
# already, so the embedded database keeps the type its tables were made with.
Int64 = BigInteger().with_variant(Integer(), "sqlite")
