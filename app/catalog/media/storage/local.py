"""Pictures in a folder on this machine (`SHOP_MEDIA_ROOT`, default var/media), served at /media/{key}."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from app.config import Settings


class LocalStorage:
    name = "local"

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / key

    def put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        if path.exists():
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        # Written aside and renamed: a reader never sees half a file, and two writers of one key both succeed.
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)

    def url(self, key: str) -> str:
        return f"/media/{key}"

    def local_path(self, key: str) -> Path | None:
        return self._path(key)


def configured(settings: Settings) -> LocalStorage:
    return LocalStorage(Path(settings.shop_media_root))
