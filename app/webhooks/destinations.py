"""Where webhooks may go: addresses on the public internet, unless the operator allows private networks.

A merchant chooses the URL and the platform makes the request, so without a check a merchant could
make the platform POST to its own loopback or to hosts on its internal network (server-side request
forgery). The destination is checked when the endpoint is registered (a literal address, or a name that
resolves, must be public) and again before every attempt (the name may resolve differently by then).
What remains is the moment between that lookup and the connection (DNS rebinding within it).

`SHOP_WEBHOOK_ALLOW_PRIVATE=true` lifts the check, for an ERP on the operator's own network (and tests).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def is_public(address: Address) -> bool:
    """Routable on the internet: not loopback, private, link-local, multicast, reserved or unspecified."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


async def refusal(url: str, *, allow_private: bool, unresolved_ok: bool) -> str | None:
    """Why `url` may not receive webhooks, or None. A name that does not resolve is refused unless
    `unresolved_ok` (at registration the merchant's DNS may not be set up yet)."""
    if allow_private:
        return None
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        return None if is_public(literal) else f"{host} is not a public internet address"
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, parts.port or 443, type=socket.SOCK_STREAM)
    except OSError:
        return None if unresolved_ok else f"{host} does not resolve"
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not is_public(address):
            return f"{host} resolves to {address}, which is not a public internet address"
    return None
