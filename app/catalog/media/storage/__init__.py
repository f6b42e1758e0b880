"""Where pictures are kept: a plug-in point. A backend is a module here plus one line in `BACKENDS`.

Every backend stores immutable objects under content-addressed keys (`images.Rendition.key`), so a put of a
key that exists already may be skipped, and a URL, once handed out, never shows anything else. Backends are
synchronous (boto3 is); the service calls them in a worker thread.
"""

from __future__ import annotations

from collections.abc import Callable

from app.catalog.media.storage import local, s3
from app.catalog.media.storage.base import MediaStorage
from app.config import Settings

# The first backend configured in the settings serves; the local folder always is.
BACKENDS: tuple[Callable[[Settings], MediaStorage | None], ...] = (
    s3.configured,
    local.configured,
)


def from_settings(settings: Settings) -> MediaStorage:
    for configured in BACKENDS:
        storage = configured(settings)
        if storage is not None:
            return storage
    raise RuntimeError("no media storage configured")
