"""Pictures in an S3-compatible object store (`SHOP_MEDIA_S3_*`): AWS S3, MinIO, Aliyun OSS, Tencent COS ...

boto3 is synchronous: the service calls `put` in a worker thread. One client serves every thread.
"""

from __future__ import annotations

from pathlib import Path

from app.catalog.media.storage.base import CACHE_CONTROL, CONTENT_TYPE, MediaStoreUnavailable
from app.config import Settings


class S3Storage:
    name = "s3"

    def __init__(self, *, endpoint: str | None, bucket: str, key: str | None, secret: str | None, region: str,
                 addressing: str, public_url: str | None) -> None:
        # boto3 is loaded here, not with the module: only a deployment that keeps pictures in S3 pays its import
        # (a fifth of a second of every process's start)
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.client = boto3.session.Session().client(
            "s3", endpoint_url=endpoint, aws_access_key_id=key, aws_secret_access_key=secret, region_name=region,
            config=Config(s3={"addressing_style": addressing}, connect_timeout=5, read_timeout=30,
                          retries={"max_attempts": 3, "mode": "standard"}))
        if public_url:
            self.base = public_url.rstrip("/")
        elif endpoint and addressing == "path":
            self.base = f"{endpoint.rstrip('/')}/{bucket}"
        elif endpoint:
            scheme, _, host = endpoint.rstrip("/").partition("://")
            self.base = f"{scheme}://{bucket}.{host}"
        else:
            self.base = f"https://{bucket}.s3.{region}.amazonaws.com"

    def _exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def put(self, key: str, data: bytes) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            if not self._exists(key):
                self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=CONTENT_TYPE,
                                       CacheControl=CACHE_CONTROL)
        except (BotoCoreError, ClientError) as exc:
            raise MediaStoreUnavailable(f"the picture store refused or did not answer: {exc}") from exc

    def url(self, key: str) -> str:
        return f"{self.base}/{key}"

    def local_path(self, key: str) -> Path | None:
        return None


def configured(settings: Settings) -> S3Storage | None:
    if not settings.shop_media_s3_bucket:
        return None
    return S3Storage(endpoint=settings.shop_media_s3_endpoint, bucket=settings.shop_media_s3_bucket,
                     key=settings.shop_media_s3_key, secret=settings.shop_media_s3_secret,
                     region=settings.shop_media_s3_region, addressing=settings.shop_media_s3_addressing,
                     public_url=settings.shop_media_s3_public_url)
