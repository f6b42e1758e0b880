"""Who issues invoices, by name. An issuer is a module of its own with one entry in `ISSUERS`; the tax bureau's
platform (or a licensed e-invoice service) would be another entry. Only `local` exists: the project numbers the
invoice and renders its PDF itself."""

from __future__ import annotations

from app.orders.invoices.issuers import local
from app.orders.invoices.issuers.base import Issued, Issuer

__all__ = ["DEFAULT", "ISSUERS", "Issued", "Issuer", "issuer"]

ISSUERS: dict[str, Issuer] = {i.name: i for i in (local.ISSUER,)}
DEFAULT = "local"


def issuer(name: str = DEFAULT) -> Issuer:
    """A registered issuer (KeyError for another name)."""
    return ISSUERS[name]
