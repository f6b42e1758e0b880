"""What an invoice issuer does: take a numbered invoice and hand back its file and its reference there."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from app.orders.invoices.pdf import InvoiceDoc


@dataclass(frozen=True, slots=True)
class Issued:
    ref: str  # the issuer's id of the invoice
    pdf: bytes


class Issuer(Protocol):
    name: str

    async def issue(self, doc: InvoiceDoc) -> Issued:
        """Issue the invoice (blue or red) and return its PDF."""
        ...
