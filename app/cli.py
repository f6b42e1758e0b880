"""The `shop` command: migrate, demo, serve, and the periodic jobs by hand."""

from __future__ import annotations

import asyncio
import os
import secrets
from pathlib import Path
from typing import Annotated, Any

import typer

from app.config import Settings, StartupRefused, check_production, get_settings

cli = typer.Typer(help="Liutong (流通) commerce platform", no_args_is_help=True, add_completion=False)


@cli.command()
def migrate() -> None:
    """Apply Alembic migrations to DATABASE_URL."""
    from app.migrate import upgrade

    url = get_settings().database_url
    upgrade(url)
    typer.echo(f"migrated {_safe(url)}")


@cli.command()
def demo() -> None:
    """Load the demo data set (idempotent: running it twice changes nothing)."""
    from app.demo.loader import CREDENTIALS, load_demo, read_credentials, write_credentials

    creds = read_credentials()
    summary = asyncio.run(load_demo(get_settings(), creds))
    write_credentials(creds)
    typer.echo(f"demo: {summary['merchants']} merchants, {summary['products']} products "
               f"({summary['created_products']} new); API keys in {CREDENTIALS}")


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes")] = 1,
    sandbox_payments: Annotated[bool, typer.Option(help="Start the Alipay and WeChat Pay sandbox (沙箱) and pay "
                                                   "through it: no real credentials, no money moves")] = False,
    http: Annotated[str, typer.Option(help="HTTP/1.1 parser: auto (httptools, the fastest) or h11, which also "
                                      "bounds the request head (SHOP_MAX_HEADER_BYTES): use it without a proxy "
                                      "in front")] = "auto",
) -> None:
    """Serve the API with uvicorn."""
    import uvicorn

    configured = get_settings()
    try:
        check_production(configured)
    except StartupRefused as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    if sandbox_payments and (configured.alipay_app_id or configured.wechatpay_mchid):
        # real credentials (environment or .env) win: `make run` asks for the sandbox only when it sees none
        typer.echo("Alipay or WeChat Pay settings found: the payment sandbox is not started")
        sandbox_payments = False
    if sandbox_payments:
        from app.payments.sandbox.run import start_sandbox

        sandbox = start_sandbox(os.environ.get("SHOP_PUBLIC_URL") or f"http://{host}:{port}")
        os.environ.update(sandbox.env)
        typer.echo(f"payment sandbox (沙箱): Alipay {sandbox.alipay.gateway_url}, WeChat Pay {sandbox.wechat.url}")
        get_settings.cache_clear()
    if http not in ("auto", "h11", "httptools"):
        raise typer.BadParameter("auto, h11 or httptools", param_hint="--http")
    settings = get_settings()
    if not settings.shop_secret_key:
        # Every worker must sign and accept the same customer tokens.
        os.environ["SHOP_SECRET_KEY"] = secrets.token_urlsafe(32)
    if not settings.shop_admin_token and settings.is_sqlite:
        # The embedded set-up (`make run`) gets an operator token of its own, kept beside the database.
        os.environ["SHOP_ADMIN_TOKEN"] = local_admin_token(create=True) or ""
        typer.echo(f"admin token: {LOCAL_ADMIN_TOKEN} (export SHOP_ADMIN_TOKEN=$(cat {LOCAL_ADMIN_TOKEN}))")
    if not settings.is_sqlite:
        # Every worker gets the same pool, sized here once from what the database allows.
        os.environ["SHOP_DB_POOL_SIZE"] = str(size_pools(settings, workers))
    get_settings.cache_clear()  # the app (built in this process with one worker) must see what was set above
    uvicorn.run("app.main:create_app", factory=True, host=host, port=port, workers=workers,
                log_level=settings.shop_log_level, access_log=False, proxy_headers=True,
                timeout_graceful_shutdown=10, http=http, timeout_keep_alive=settings.shop_keep_alive_seconds,
                h11_max_incomplete_event_size=settings.shop_max_header_bytes)


def size_pools(settings: Settings, workers: int) -> int:
    """Each worker's connection pool, from SHOP_DB_POOL_SIZE or the database's limits; says what it chose, and
    warns when the workers' pools cannot fit."""
    from app.db import connection_limit, plan_pool, usable_connections

    allowed = settings.shop_db_connections
    if allowed is None:
        try:
            allowed = usable_connections(asyncio.run(connection_limit(settings.database_url)))
        except Exception as exc:  # the server still starts; the database may come up later
            typer.echo(f"warning: could not read the database's connection limit ({exc}); pools sized blind", err=True)
    plan = plan_pool(workers=workers, requested=settings.shop_db_pool_size, allowed=allowed)
    typer.echo(f"database pool: {workers} worker(s) x {plan.pool_size} connections"
               + (f" (this server may hold {plan.allowed})" if plan.allowed is not None else ""))
    if plan.warning:
        typer.echo(f"warning: {plan.warning}", err=True)
    return plan.pool_size


@cli.command("sandbox-payments")
def sandbox_payments(
    public_url: Annotated[str, typer.Option(help="Where the platform is reached (notifications go there)")]
    = "http://127.0.0.1:8000",
    env_file: Annotated[str, typer.Option(help="Write the settings that point a server at the sandbox here")]
    = "var/sandbox-payments.env",
) -> None:
    """Run the Alipay and WeChat Pay sandbox on its own (until Ctrl-C); start `shop serve` with the settings it
    writes (`set -a; . var/sandbox-payments.env; set +a`). `shop serve --sandbox-payments` does both at once."""
    import shlex
    import signal

    from app.payments.sandbox.run import start_sandbox

    sandbox = start_sandbox(public_url)
    target = Path(env_file)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.touch(mode=0o600)
    target.write_text("".join(f"{k}={shlex.quote(v)}\n" for k, v in sandbox.env.items()))
    typer.echo(f"payment sandbox (沙箱): Alipay {sandbox.alipay.gateway_url}, WeChat Pay {sandbox.wechat.url}; "
               f"settings in {target}")
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()


@cli.command("expire-holds")
def expire_holds() -> None:
    """Cancel unpaid orders whose hold has run out and release their stock (also runs inside `serve`)."""
    from app.orders.cancellation import expire_holds as run

    typer.echo(f"expired {_run_job(run)} orders")


@cli.command("retry-refunds")
def retry_refunds() -> None:
    """Retry refunds a payment provider failed to carry out."""
    from app.orders.payments import retry_refunds as run

    typer.echo(f"retried {_run_job(run)} refunds")


@cli.command("settle-payments")
def settle_payments() -> None:
    """Ask Alipay and WeChat Pay about pending payments whose notification never came (also runs in `serve`)."""
    from app.orders.payments import settle_lost_payments as run

    typer.echo(f"settled {_run_job(run)} payments")


@cli.command()
def reconcile(
    provider: Annotated[str, typer.Option(help="alipay or wechatpay")],
    day: Annotated[str, typer.Option("--date", help="The statement's day, YYYY-MM-DD (Asia/Shanghai)")],
) -> None:
    """Compare a provider's daily statement with our payments: missing on either side, amounts that differ.
    The run is kept (the console shows the last one); exit status 1 when anything differs."""
    from datetime import date

    from app.orders.reconciliation import NotReconcilable
    from app.orders.reconciliation import reconcile as run_reconcile

    try:
        when = date.fromisoformat(day)
    except ValueError:
        raise typer.BadParameter("YYYY-MM-DD", param_hint="--date") from None
    if provider not in ("alipay", "wechatpay"):
        raise typer.BadParameter("alipay or wechatpay", param_hint="--provider")

    async def job(factory: Any, settings: Any) -> Any:
        return await run_reconcile(factory, settings, provider=provider, day=when)

    try:
        run = _run_job_value(job)
    except NotReconcilable as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    typer.echo(f"{provider} {when}: {run.statement_lines} statement lines, {run.matched} payments match, "
               f"{len(run.findings)} differences (run {run.id})")
    words = {"missing_here": "paid at the provider, not paid here", "missing_there": "paid here, not on the "
             "statement", "amount_mismatch": "amounts differ"}
    for finding in run.findings:
        typer.echo(f"  {finding['kind']:16} {finding['out_trade_no']}  ours={finding['ours']} "
                   f"theirs={finding['theirs']}  ({words[finding['kind']]})")
    raise typer.Exit(1 if run.findings else 0)


@cli.command("refund-due-returns")
def refund_due_returns() -> None:
    """Pay returns whose goods came back 7 days ago and were not refused (also runs inside `serve`)."""
    from app.orders.returns.service import refund_due_returns as run

    typer.echo(f"refunded {_run_job(run)} returns")


@cli.command("close-group-buys")
def close_group_buys() -> None:
    """Close group-buys whose cut-off has passed: confirm or cancel and refund their orders (also inside `serve`)."""
    from app.community.service import close_due_group_buys as run

    typer.echo(f"closed {_run_job(run)} group-buys")


@cli.command("close-due-shops")
def close_due_shops() -> None:
    """Close the shops whose announced closing day has come (also runs inside `serve`)."""
    from app.trust.closure import close_due_shops as run

    typer.echo(f"closed {_run_job(run)} shops")


@cli.command("samr-report")
def samr_report(
    period: Annotated[str, typer.Option(help="The half-year, e.g. 2026H2; default the one that ended last")] = "",
    out: Annotated[Path | None, typer.Option(help="File to write; default SHOP_REPORT_DIR/samr_<period>.csv")] = None,
) -> None:
    """Write the half-yearly report to the market regulator (sellers' identity data and platform statistics)."""
    from app.core.clock import utcnow
    from app.core.errors import DomainError
    from app.trust import samr

    try:
        when = samr.parse_period(period) if period else samr.due_period(utcnow())
    except DomainError as exc:
        raise typer.BadParameter(exc.detail, param_hint="--period") from None

    async def job(factory: Any, settings: Any) -> Any:
        async with factory() as session:
            return await samr.build_report(session=session, actor="cli:samr-report", period=when,
                                           public_url=settings.shop_public_url)

    body = _run_job_value(job)
    target = out or Path(get_settings().shop_report_dir) / f"samr_{when.label}.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(body)
    typer.echo(f"wrote {target}")


@cli.command("deliver-webhooks")
def deliver_webhooks() -> None:
    """Fan new events out to merchants' webhook endpoints and send the due deliveries (also inside `serve`)."""
    from app.webhooks.service import deliver_webhooks as run

    typer.echo(f"made {_run_job(run)} webhook delivery attempts")


@cli.command("seal-records")
def seal_records() -> None:
    """Extend the hash chain over orders and payments with what was placed or paid since (also inside `serve`)."""
    from app.trust.records import seal_job

    typer.echo(f"sealed {_run_job(seal_job)} records")


@cli.command("verify-records")
def verify_records() -> None:
    """Check the hash chain over orders and payments against the records; exit 1 at the first broken link."""
    from app.trust.records import verify

    async def run(factory: Any, settings: Any) -> Any:
        async with factory() as session:
            return await verify(session=session)

    result = _run_job_value(run)
    if result["ok"]:
        typer.echo(f"chain intact: {result['checked']} records, head {result['head']}")
        return
    b = result["first_break"]
    typer.echo(f"chain broken at link {b['seq']}: {b['record_type']} {b['record_id']} ({b['reason']}); "
               f"{result['checked']} records before it are intact", err=True)
    raise typer.Exit(1)


def _broker_settings() -> Settings:
    """The settings of a process working from the broker, its logging set up from them as the server's is."""
    from app.core.logging import configure as configure_logging

    settings = get_settings()
    if not settings.nats_url:
        raise typer.BadParameter("set NATS_URL (nats://host:4222)")
    configure_logging(settings.shop_log_level, json=settings.shop_log_json)
    return settings


@cli.command()
def relay() -> None:
    """Publish the outbox to NATS JetStream (NATS_URL) until stopped; run one or several."""
    from app.broker import relay as broker_relay

    total = asyncio.run(broker_relay.main(_broker_settings()))
    typer.echo(f"relayed {total} events")


CONSUMERS = ("webhooks", "low-stock", "search")


@cli.command()
def consume(
    names: Annotated[list[str] | None, typer.Argument(help="webhooks, low-stock, search (default: all three)")] = None,
) -> None:
    """Work through the outbox on NATS JetStream as durable consumers, acknowledging after each commit."""
    from app.broker import consumers

    settings = _broker_settings()
    chosen = list(dict.fromkeys(names or CONSUMERS))
    unknown = [n for n in chosen if n not in CONSUMERS]
    if unknown:
        raise typer.BadParameter(f"unknown {', '.join(unknown)}: use {', '.join(CONSUMERS)}", param_hint="NAMES")
    seen = asyncio.run(consumers.main(settings, chosen))
    typer.echo(f"consumed {seen} events")


@cli.command()
def tour(
    base_url: Annotated[str, typer.Option(help="The running server")] = "http://127.0.0.1:8000",
    admin_token: Annotated[str | None, typer.Option(envvar="SHOP_ADMIN_TOKEN", show_envvar=True,
                                                    help="The server's SHOP_ADMIN_TOKEN")] = None,
    credentials: Annotated[str, typer.Option(help="API keys written by `shop demo`")] = "var/demo-credentials.json",
) -> None:
    """Walk through the policy's eleven sections against a running server with real API calls."""
    from pathlib import Path

    from app.tour import run_tour

    token = admin_token or local_admin_token(create=False)
    raise typer.Exit(run_tour(base_url=base_url, admin_token=token, credentials=Path(credentials)))


@cli.command("import")
def import_csv(
    path: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The CSV (UTF-8 or GBK)")],
    api_key: Annotated[str, typer.Option(envvar="SHOP_API_KEY", show_envvar=True, help="The merchant's API key")],
    kind: Annotated[str, typer.Option(help="products or stock")] = "products",
    apply_good_rows: Annotated[bool, typer.Option(help="Apply the good rows even if some are bad")] = False,
    image: Annotated[list[Path] | None, typer.Option(exists=True, dir_okay=False,
                                                     help="A picture the CSV names by file name (repeat it)")] = None,
    base_url: Annotated[str, typer.Option(help="The running server")] = "http://127.0.0.1:8000",
) -> None:
    """Import products or stock levels from a CSV into a running server, showing progress and every bad row."""
    import httpx
    from rich.console import Console

    from app.imports.cli import read_files, run_import

    if kind not in ("products", "stock"):
        raise typer.BadParameter("products or stock", param_hint="--kind")
    csv_file, pictures = read_files(path, image or [])

    async def go() -> int:
        async with httpx.AsyncClient(base_url=base_url, timeout=120,
                                     headers={"Authorization": f"Bearer {api_key}"}) as client:
            return await run_import(client, csv_file=csv_file, kind=kind, apply_good_rows=apply_good_rows,
                                    images=pictures, console=Console())

    raise typer.Exit(asyncio.run(go()))


def _run_job(job: Any) -> int:
    return int(_run_job_value(job))


def _run_job_value(job: Any) -> Any:
    from app.db import make_engine, make_sessionmaker
    from app.main import install_hooks

    settings = get_settings()
    install_hooks()

    async def go() -> Any:
        engine = make_engine(settings.database_url, pool_size=2)
        try:
            return await job(make_sessionmaker(engine), settings)
        finally:
            await engine.dispose()

    return asyncio.run(go())


LOCAL_ADMIN_TOKEN = Path("var/admin-token")


def local_admin_token(*, create: bool) -> str | None:
    """The embedded server's operator token (var/admin-token, owner-only), made on first use."""
    if LOCAL_ADMIN_TOKEN.exists():
        return LOCAL_ADMIN_TOKEN.read_text().strip() or None
    if not create:
        return None
    LOCAL_ADMIN_TOKEN.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(32)
    LOCAL_ADMIN_TOKEN.touch(mode=0o600)
    LOCAL_ADMIN_TOKEN.write_text(token)
    return token


def _safe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
