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
        unpictured = db.execute("SELECT count(*) FROM product WHERE id NOT IN (SELECT product_id FROM product_media)"
                                ).fetchone()[0]
        pictures = db.execute("SELECT count(*), count(DISTINCT asset_id) FROM product_media").fetchone()
        coloured = db.execute("SELECT count(DISTINCT v.variant_id) FROM variant_media v JOIN variant ON "
                              "variant.id = v.variant_id WHERE json_extract(variant.attributes, '$.colour') "
                              "IS NOT NULL").fetchone()[0]
        urls = [r[0] for r in db.execute("SELECT large_url FROM media_asset")]
        # 60 days of past sales: online orders and store takings for every shop with stores
        past = db.execute("SELECT count(*), count(DISTINCT date(created_at)), count(DISTINCT channel), "
                          "count(DISTINCT merchant_id) FROM sales_order WHERE checkout_id = 'demo-history'").fetchone()
        online, store = db.execute(
            "SELECT (SELECT sum(total) FROM sales_order WHERE status != 'cancelled' AND checkout_id = 'demo-history'), "
            "(SELECT sum(amount) FROM pos_sales_day)").fetchone()
    assert past[0] > 1000 and past[1] >= 59 and past[2] == 3 and past[3] >= 2
    assert 0.05 < online / (online + store) < 0.6  # the online share reads like a shop that mostly sells in stores
    assert unpictured == 0 and pictures[0] >= counts[1] and pictures[1] >= 50  # every product has pictures
    assert coloured > 100  # a colour's variants show that colour's picture
    stored = sorted(p for p in (Path("var") / "media").rglob("*.webp"))
    assert {f"/media/{p.relative_to(Path('var') / 'media')}" for p in stored} >= set(urls) and urls
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
        pictures_again = db.execute("SELECT count(*), count(DISTINCT asset_id) FROM product_media").fetchone()
        past_again = db.execute("SELECT count(*) FROM sales_order").fetchone()[0]
    assert again == counts and past_again == past[0] and pictures_again == pictures
    assert sorted(p for p in (Path("var") / "media").rglob("*.webp")) == stored
    assert (Path("var") / "demo-credentials.json").exists()
    expired = runner.invoke(cli, ["expire-holds"])
    assert expired.exit_code == 0 and "expired 0 orders" in expired.output


def test_samr_report_and_closing_shops_from_the_command_line(shop_env: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["migrate"]).exit_code == 0
    with sqlite3.connect(shop_env) as db:
        db.execute("INSERT INTO merchant (id, name, kind, licence_no, contact_email, status, listed, self_operated, "
                   "created_at, updated_at) VALUES ('mer_cli', '命令行商户', 'individual', '110101199003070011', "
                   "'c@example.com', 'active', 1, 0, '2020-01-01 00:00:00', '2020-01-01 00:00:00')")
    out = shop_env.parent / "report.csv"
    done = runner.invoke(cli, ["samr-report", "--period", "2026H1", "--out", str(out)])
    assert done.exit_code == 0, done.output
    text = out.read_text(encoding="utf-8-sig")
    assert text.startswith("经营者名称,") and "命令行商户" in text and "110101199003070011" in text
    bad = runner.invoke(cli, ["samr-report", "--period", "2026H3"])
    assert bad.exit_code == 2 and "2026H2" in bad.output  # a usage error naming the expected form
    closed = runner.invoke(cli, ["close-due-shops"])
    assert closed.exit_code == 0 and "closed 0 shops" in closed.output
