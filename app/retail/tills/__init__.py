"""Promotions at the store tills: codes redeemed and voided at a till, counted with online uses."""
