"""Settings: every environment variable the service reads, in one place."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.core.icp import icp_is_valid

# Shaped like a real filing number so the demo footer looks right, but no site holds it.
DEMO_ICP_NO = "沪ICP备00000000号-1"


class Settings(BaseSettings):
    """Configuration read from the environment (and an optional `.env` file)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite+aiosqlite:///./var/shop.db",
        description="SQLAlchemy URL: sqlite+aiosqlite:///path or postgresql+asyncpg://user@host/db",
    )
    shop_admin_token: str | None = Field(default=None, description="Bearer token of the platform admin")
    shop_secret_key: str | None = Field(
        default=None,
        description="Key that signs customer access tokens; a random per-process key when unset "
        "(tokens then do not survive a restart or work across workers)",
    )
    shop_access_token_minutes: int = Field(default=60 * 24, ge=1)
    # argon2id's cost (RFC 9106's second recommended profile by default). A hash keeps the parameters it was made
    # with, so changing these leaves every stored password working.
    shop_password_hash_time_cost: int = Field(default=3, ge=1, le=20, description="argon2 passes over the memory")
    shop_password_hash_memory_kib: int = Field(default=65_536, ge=1_024, le=4_194_304,
                                               description="argon2 memory per hash, KiB")
    shop_password_hash_parallelism: int = Field(default=4, ge=1, le=16, description="argon2 lanes")
    stripe_api_key: str | None = None
    stripe_webhook_secret: str | None = None
    stripe_publishable_key: str | None = Field(default=None, description="pk_... for Stripe.js on the order page")
    stripe_api_base: str | None = Field(default=None, description="Point the Stripe SDK at another host")
    # Alipay (RSA2; the platform's app, merchants through third-party app authorisation). Keys: PEM, base64 or @path
    alipay_app_id: str | None = None
    alipay_app_private_key: str | None = Field(default=None, repr=False, description="The app's private key")
    alipay_public_key: str | None = Field(default=None, description="Alipay's public key (not the app's own)")
    alipay_gateway: str = Field(default="https://openapi.alipay.com/gateway.do",
                                description="Alipay's OpenAPI gateway (a local fake in tests and the sandbox)")
    alipay_auth_url: str = Field(default="https://openauth.alipay.com/oauth2/appToAppAuth.htm",
                                 description="Where a merchant authorises the platform's app (third-party app "
                                 "authorisation); the sandbox serves its own")
    shop_credentials_key: str | None = Field(
        default=None, repr=False,
        description="Fernet key(s), comma-separated, the first encrypting: merchants' payment credentials (Alipay's "
        "app_auth_token) are kept encrypted with it. Unset: a key derived from ALIPAY_APP_PRIVATE_KEY")
    # WeChat Pay API v3 in service-provider mode: each merchant is a sub_mchid under this mchid
    wechatpay_mchid: str | None = Field(default=None, description="The service provider's merchant id (sp_mchid)")
    wechatpay_appid: str | None = Field(default=None, description="The service provider's app id (sp_appid)")
    wechatpay_apiv3_key: str | None = Field(default=None, repr=False, description="API v3 key (32 bytes)")
    wechatpay_private_key: str | None = Field(default=None, repr=False,
                                              description="The merchant API certificate's private key")
    wechatpay_cert_serial_no: str | None = Field(default=None, description="The merchant API certificate's serial")
    wechatpay_public_key: str | None = Field(default=None, description="WeChat Pay's platform public key (unset: "
                                             "platform certificates, downloaded by the SDK)")
    wechatpay_public_key_id: str | None = Field(default=None, description="PUB_KEY_ID_... of that public key")
    wechatpay_oauth_url: str | None = Field(
        default=None, description="Inside WeChat, the storefront sends the buyer here to learn its openid (the "
        "platform's OAuth step for WECHATPAY_APPID); it comes back to /wechat/openid. Unset: no JSAPI payments from "
        "the storefront (the API still takes `wechat_openid`)")
    wechatpay_api_base: str = Field(default="https://api.mch.weixin.qq.com",
                                    description="WeChat Pay's API; any other URL is a forward proxy the SDK's "
                                    "requests go through (the SDK has no base-URL option): a local fake in tests "
                                    "and the sandbox, or an egress proxy")
    shop_public_url: str = Field(default="http://127.0.0.1:8000", description="Where this platform is reached from "
                                 "outside: the payment companies' notifications and the buyer's way back")
    shop_payments_sandbox: bool = Field(default=False, description="Alipay and WeChat Pay are the local sandbox "
                                        "(`shop serve --sandbox-payments`): pages say 沙箱 / sandbox")
    shop_kuaidi100_salt: str | None = Field(default=None, description="The salt the platform's Kuaidi100 tracking "
                                            "subscriptions are signed with; unset: its pushes answer 404")
    shop_auto_confirm_days: int = Field(default=10, ge=1, le=90, description="A shipped parcel nobody signed for "
                                        "counts as received this many days after shipping (signed_source auto)")
    shop_order_hold_minutes: int = Field(default=30, ge=1, description="How long an unpaid order holds stock")
    shop_flash_hold_minutes: int = Field(default=5, ge=1, description="How long an unpaid flash-sale order holds "
                                         "its unit before it goes back on sale")
    shop_flash_customer_per_second: int = Field(default=2, ge=0, description="Flash-sale order attempts per "
                                                "customer per second (0: off)")
    shop_flash_address_per_second: int = Field(default=200, ge=0, description="Flash-sale order attempts per "
                                               "client address per second (0: off)")
    shop_pos_sync_lag_minutes: int = Field(default=30, ge=1, le=7 * 24 * 60,
                                           description="A store whose till has not synced for this long may be "
                                           "selling offline: online shoppers see none of its stock until it does")
    shop_webhook_allow_private: bool = Field(default=False, description="Let merchants' webhooks reach loopback and "
                                             "private networks (an on-premises ERP; tests). Off: public addresses "
                                             "only, checked at registration and before every attempt")
    shop_max_body_bytes: int = Field(default=5 * 1024 * 1024, ge=1024, description="Request body limit")
    shop_log_level: Literal["debug", "info", "warning", "error"] = "info"
    shop_log_json: bool = Field(default=True, description="JSON log lines (false: human-readable)")
    shop_db_pool_size: int | None = Field(default=None, ge=1, description="Database connections per worker process "
                                          "(PostgreSQL). Unset: `shop serve` sizes it from its workers and the "
                                          "connections the database allows")
    shop_db_connections: int | None = Field(default=None, ge=1, description="Connections this `shop serve` may hold "
                                            "across its workers (its share when several servers use one database). "
                                            "Unset: what the database allows, less a tenth for other clients")
    shop_db_pool_timeout: float = Field(default=5.0, gt=0, le=300, description="Seconds a request waits for a free "
                                        "connection before it is answered 503 with Retry-After")
    shop_body_timeout_seconds: float = Field(default=30.0, gt=0, le=3600, description="A request body must arrive "
                                             "within this many seconds of being read, plus one per 64 KiB received "
                                             "(408 otherwise)")
    shop_keep_alive_seconds: int = Field(default=5, ge=1, le=300, description="An idle keep-alive connection is "
                                         "closed after this long (`shop serve`)")
    shop_max_header_bytes: int = Field(default=16 * 1024, ge=4096, description="Largest request head (request line "
                                       "and headers) with `shop serve --http h11`; 400 above it")
    shop_background_jobs: bool = Field(default=True, description="Run periodic jobs inside `shop serve`")
    shop_search_warm_up: bool = Field(default=True, description="Load the Chinese segmenter's dictionary when "
                                      "`shop serve` starts (off: on the first search or product write)")
    shop_rate_limit_ip_per_minute: int = Field(default=1200, ge=0, description="Anonymous requests per IP (0: off)")
    shop_rate_limit_token_per_minute: int = Field(default=12000, ge=0, description="Requests per token (0: off)")
    redis_url: str | None = Field(default=None, description="Shared rate-limit counters (redis://...)")
    # Past one machine (docs/scaling.md): the outbox relayed to NATS JetStream, public reads from a replica
    nats_url: str | None = Field(default=None, description="NATS server with JetStream (nats://host:4222). Set: "
                                 "`shop relay` publishes the outbox and `shop consume` delivers webhooks, low-stock "
                                 "notices and search signals; `shop serve` then leaves those to them. Unset: "
                                 "`shop serve` does it all in process")
    shop_nats_stream: str = Field(default="LIUTONG", pattern=r"^[A-Z][A-Z0-9_]{0,31}$",
                                  description="JetStream stream of the outbox; its subjects are "
                                  "<name in lower case>.<merchant>.<event type>")
    shop_relay_batch: int = Field(default=2000, ge=1, le=20000, description="Outbox rows one relay transaction "
                                  "publishes")
    shop_webhook_ack_wait_seconds: float = Field(default=60.0, gt=0, le=3600, description="A webhook consumer that "
                                                 "holds an event this long without answering (it died) loses it "
                                                 "to another")
    database_replica_url: str | None = Field(default=None, description="A streaming replica of DATABASE_URL: "
                                             "public catalogue reads (listing, search, product pages) go there "
                                             "while it keeps up")
    shop_replica_max_lag_seconds: float = Field(default=2.0, gt=0, le=3600, description="Past this lag (or down) "
                                                "the replica is left and reads go to the primary")
    shop_suggest_refresh_seconds: float = Field(default=10.0, gt=0, le=3600, description="Search-box suggestions "
                                                "are answered from memory and read again this often (a new title "
                                                "word is offered within this long)")
    shop_search_memory: bool = Field(default=True, description="Shoppers' searches are answered from each "
                                     "process's copy of the search index where it can (the database otherwise)")
    shop_search_poll_seconds: float = Field(default=0.5, gt=0, le=60, description="How often a process looks "
                                            "whether another one changed the catalogue (its copy of the search "
                                            "index and of product JSON is at most this much behind theirs)")
    shop_product_json_cache: int = Field(default=50_000, ge=0, le=1_000_000, description="Products whose listing "
                                         "JSON each process keeps (with the search index's copy)")
    shop_catalog_cache_seconds: float = Field(default=1.0, ge=0, le=60,
                                              description="Anonymous catalogue pages kept this long (0: off)")
    shop_page_cache_seconds: float = Field(default=1.0, ge=0, le=60,
                                           description="Shop pages for browsers without cookies kept this long "
                                                       "(0: off)")
    shop_currency: str = Field(default="CNY", min_length=3, max_length=3)
    # Product pictures (app/catalog/media/): a local folder unless an S3-compatible store is configured
    shop_media_root: str = Field(default="var/media", description="Folder of stored pictures, served at /media/")
    shop_media_s3_endpoint: str | None = Field(default=None, description="S3-compatible endpoint URL (MinIO, "
                                               "Aliyun OSS, Tencent COS ...)")
    shop_media_s3_bucket: str | None = Field(default=None, description="Bucket of stored pictures; set, it "
                                             "replaces the local folder")
    shop_media_s3_key: str | None = Field(default=None, description="Access key id")
    shop_media_s3_secret: str | None = Field(default=None, description="Secret access key")
    shop_media_s3_region: str = Field(default="us-east-1", description="Region the signatures name")
    shop_media_s3_addressing: Literal["path", "virtual"] = Field(
        default="path", description="`virtual` (bucket in the host name) for stores that require it, e.g. OSS")
    shop_media_s3_public_url: str | None = Field(default=None, description="Where buyers fetch the pictures "
                                                 "(a CDN); default: the endpoint and bucket")
    shop_media_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, description="Largest picture upload")
    shop_media_max_pixels: int = Field(default=40_000_000, ge=1, description="Largest picture, in pixels")
    shop_import_max_bytes: int = Field(default=64 * 1024 * 1024, ge=1024, description="Largest import request "
                                       "(the CSV and the pictures sent with it)")
    shop_import_allow_private_urls: bool = Field(default=False, description="Let imports fetch pictures from "
                                                 "loopback and private networks (tests; an intranet image server)")
    # Trust and compliance (see app/trust/)
    shop_env: Literal["demo", "production"] = Field(default="demo", description="`production` refuses to start "
                                                    "without what the law requires the site to show (the ICP "
                                                    "number, C6); `demo` runs on placeholders and warns")
    shop_platform_icp_no: str = Field(default=DEMO_ICP_NO, description="The platform's own ICP number "
                                      "(a placeholder in the demo; set the real one in production)")
    shop_platform_licence_url: str = Field(default="/legal/licence", description="The platform's business licence")
    shop_platform_company: str = Field(default="流通网络科技有限公司（示例）", description="The operator's registered "
                                       "name, shown on the licence page and in the footer")
    shop_platform_uscc: str = Field(default="91310000000000000X（示例）", description="The operator's unified social "
                                    "credit code, shown on the licence page")
    shop_platform_address: str = Field(default="上海市徐汇区示例路 1 号（示例）", description="The operator's "
                                       "registered address")
    shop_platform_phone: str = Field(default="400-000-0000", description="Customer service and complaints phone, "
                                     "shown on every storefront and order page")
    shop_platform_email: str = Field(default="service@example.com", description="Customer service and complaints "
                                     "e-mail")
    shop_rules_url: str = Field(default="/legal/rules", description="Service agreement and trading rules")
    shop_credit_rules_url: str = Field(default="/legal/credit-score-v1", description="The published credit formula")
    shop_reverify_months: int = Field(default=6, ge=1, le=6, description="Seller re-verification interval (max 6)")
    shop_reverify_grace_days: int = Field(default=15, ge=0, le=60,
                                          description="Days overdue before new listings are blocked")
    shop_prohibited_words: str = Field(default="", description="Extra prohibited listing words, comma-separated "
                                       "(added to the built-in Chinese and English list)")
    shop_complaint_sla_days: int = Field(default=7, ge=1, le=30, description="Working days to resolve a complaint")
    shop_legal_hold_years: int = Field(default=3, ge=3, le=30, description="Transaction records kept after an "
                                       "account closes (never less than 3 years: ECL art. 31)")
    shop_report_dir: str = Field(default="var/reports", description="Where the half-yearly regulator report "
                                 "(January and July) is written for manual submission")
    shop_security_log_retention_days: int = Field(default=180, ge=180, description="Days security and audit logs "
                                                  "are kept (never under 180: CSL art. 21(3), C22); nothing "
                                                  "deletes them sooner")
    shop_regulator_token: str | None = Field(default=None, repr=False, description="Bearer token of the regulator "
                                             "liaison: reads the legal-hold store and nothing else")
    shop_trading_models: str = Field(default="b2c_mall,b2c_single_store,b2b_marketplace,b2b_own,c2c",
                                     description="SB/T 10518 models this platform runs, comma-separated")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


class StartupRefused(RuntimeError):
    """The settings are not fit to run in production; the message says which one and why."""


def icp_problem(settings: Settings) -> str | None:
    """Why SHOP_PLATFORM_ICP_NO is not a real ICP number to show in every footer (C6), or None."""
    number = settings.shop_platform_icp_no.strip()
    if not number:
        return "SHOP_PLATFORM_ICP_NO is empty"
    if number == DEMO_ICP_NO:
        return f"SHOP_PLATFORM_ICP_NO is the demo placeholder {DEMO_ICP_NO}"
    if not icp_is_valid(number):
        return (f"SHOP_PLATFORM_ICP_NO {number!r} is not an ICP filing or licence number "
                "(沪ICP备12345678号-1, 京ICP证123456号)")
    return None


def check_production(settings: Settings) -> None:
    """Refuse (StartupRefused) to serve in production without the platform's own ICP number: the law wants it on
    every page (ICP art. 12, ECL art. 15), and a placeholder there would be a false disclosure."""
    if settings.shop_env != "production":
        return
    problem = icp_problem(settings)
    if problem:
        raise StartupRefused(f"SHOP_ENV=production refuses to start: {problem}; set the platform's ICP filing or "
                             "licence number, shown in every page's footer")


@lru_cache
def get_settings() -> Settings:
    """Settings of this process (cached; tests build their own `Settings`)."""
    return Settings()
