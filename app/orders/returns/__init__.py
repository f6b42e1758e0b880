"""Returns: requests, the seller's answers, refunds due after receipt (app/orders/returns/service.py)."""
