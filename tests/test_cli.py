"""The `shop` command on a real SQLite file: migrate, demo (idempotent), expire-holds."""

import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.config import get_settings


@pytest.fixture
def shop_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "shop.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{db}")
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield db
    get_settings.cache_clear()


def test_migrate_demo_twice_and_jobs(shop_env: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["migrate"]).exit_code == 0
    first = runner.invoke(cli, ["demo"])
    assert first.exit_code == 0, first.output
    with sqlite3.connect(shop_env) as db:
        counts = [db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                  for t in ("merchant", "product", "stock_movement", "location", "campaign", "campaign_product",
                            "promotion", "seller_profile")]
        models = {r[0] for r in db.execute("SELECT trading_model FROM seller_profile")}
        declarations = {r[0] for r in db.execute("SELECT self_declaration FROM seller_profile WHERE "
                                                 "self_declaration IS NOT NULL")}
        live = db.execute("SELECT count(*) FROM campaign WHERE merchant_id IS NULL AND starts_at <= "
                          "strftime('%Y-%m-%d %H:%M:%f', 'now') AND ends_at > strftime('%Y-%m-%d %H:%M:%f', 'now')"
                          ).fetchone()[0]
        categories = {r[0] for r in db.execute("SELECT DISTINCT category FROM product")}
        titles = [r[0] for r in db.execute("SELECT title FROM product WHERE title LIKE '%羽绒%'")]
    assert counts[0] >= 3 and counts[1] >= 500 and counts[2] > 500
    assert {"apparel", "appliances", "home", "books-media", "agri", "daily-goods", "production-materials",
            "fresh", "services"} <= categories
    assert titles
    assert models == {"b2c_mall", "b2c_single_store", "b2b_marketplace", "b2b_own", "c2c"}
    assert len(declarations) >= 2 and live == 1 and counts[5] >= 12  # C2C self-declarations; a festival in progress
    second = runner.invoke(cli, ["demo"])
    assert second.exit_code == 0 and "(0 new)" in second.output
    with sqlite3.connect(shop_env) as db:
        again = [db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                 for t in ("merchant", "product", "stock_movement", "location", "campaign", "campaign_product",
                           "promotion", "seller_profile")]
    assert again == counts
    assert (Path("var") / "demo-credentials.json").exists()
    expired = runner.invoke(cli, ["expire-holds"])
    assert expired.exit_code == 0 and "expired 0 orders" in expired.output
