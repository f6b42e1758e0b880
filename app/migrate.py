"""Apply Alembic migrations programmatically (`shop migrate`, tests, benchmarks)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config


def _root() -> Path:
    """The folder holding `migrations/` and `alembic.ini`: the source tree, or the working directory."""
    for candidate in (Path(__file__).resolve().parent.parent, Path.cwd()):
        if (candidate / "migrations" / "env.py").exists():
            return candidate
    raise RuntimeError("cannot find the migrations folder (run from the project directory)")


def alembic_config(url: str) -> Config:
    root = _root()
    cfg = Config(str(root / "alembic.ini"))
    cfg.set_main_option("script_location", str(root / "migrations"))
    cfg.attributes["url"] = url
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the schema at `url` to `revision`. Blocking: runs its own event loop."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)
