"""Pictures an import names by URL, fetched from the merchant's server: public addresses only (unless the
operator allows private networks), no redirects, at most the picture size limit, a short timeout."""

from __future__ import annotations

import httpx

from app.webhooks import destinations

TIMEOUT_S = 10.0


class FetchFailed(Exception):
    pass


async def fetch(client: httpx.AsyncClient, url: str, *, max_bytes: int, allow_private: bool) -> bytes:
    """The bytes at `url`; FetchFailed says why not."""
    if not url.startswith(("http://", "https://")):
        raise FetchFailed("neither a file sent with the import nor an http(s) URL")
    refused = await destinations.refusal(url, allow_private=allow_private, unresolved_ok=False)
    if refused:
        raise FetchFailed(refused)
    try:
        async with client.stream("GET", url, timeout=TIMEOUT_S, follow_redirects=False) as response:
            if response.status_code != 200:
                raise FetchFailed(f"{url} answered {response.status_code}")
            data = bytearray()
            async for chunk in response.aiter_bytes():
                data += chunk
                if len(data) > max_bytes:
                    raise FetchFailed(f"larger than {max_bytes // (1024 * 1024)} MB")
            return bytes(data)
    except httpx.HTTPError as exc:
        raise FetchFailed(f"{url} could not be fetched ({type(exc).__name__})") from None
