"""A local S3-compatible store for tests: moto in server mode on 127.0.0.1, spoken to over real HTTP (the S3
wire protocol), as a production store (MinIO, OSS, COS) would be."""

from __future__ import annotations

import socket
from types import TracebackType

import boto3
from moto.server import ThreadedMotoServer

KEY, SECRET, REGION = "test-key", "test-secret", "us-east-1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class FakeS3:
    def __init__(self) -> None:
        self.port = _free_port()
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self):  # type: ignore[no-untyped-def]
        return boto3.session.Session().client("s3", endpoint_url=self.url, aws_access_key_id=KEY,
                                              aws_secret_access_key=SECRET, region_name=REGION)

    def __enter__(self) -> FakeS3:
        self.server.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.server.stop()
