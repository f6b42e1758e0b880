"""Invoices (C40): the buyer's request, blue invoices issued by the merchant and red ones for refunds."""
