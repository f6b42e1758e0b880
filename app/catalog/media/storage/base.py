"""What every picture store is: the protocol, the headers its objects carry, its one error."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from app.core.errors import DomainError

# Objects are named by their content: a browser or CDN may keep them for ever.
CACHE_CONTROL = "public, max-age=31536000, immutable"
CONTENT_TYPE = "image/webp"


class MediaStoreUnavailable(DomainError):
    status = 503
    type_slug = "media-store-unavailable"
    title = "The picture store is unavailable"


class MediaStorage(Protocol):
    name: str

    def put(self, key: str, data: bytes) -> None:
        """Keep `data` under `key` (skipped when the key is there already: keys name their content)."""

    def url(self, key: str) -> str:
        """Where a browser fetches the object."""

    def local_path(self, key: str) -> Path | None:
        """The file this process serves at /media/{key}, or None when the store serves its objects itself."""
