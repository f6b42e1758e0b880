"""The local issuer: the invoice is the project's own document, numbered per merchant, its PDF rendered here."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool

from app.orders.invoices import pdf
from app.orders.invoices.issuers.base import Issued
from app.orders.invoices.pdf import InvoiceDoc


class LocalIssuer:
    name = "local"

    async def issue(self, doc: InvoiceDoc) -> Issued:
        content = await run_in_threadpool(pdf.render, doc)  # CPU work: off the event loop
        return Issued(ref=f"local:{doc.number}", pdf=content)


ISSUER = LocalIssuer()
