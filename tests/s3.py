"""A real S3 protocol server for the tests: moto's standalone server on 127.0.0.1, in a thread.

It speaks the S3 REST protocol over HTTP like any S3-compatible storage; the app talks to it
with boto3 as it talks to the real thing (nothing of boto3 is mocked)."""
from __future__ import annotations

import os
import uuid
from pathlib import Path

import boto3
from botocore.config import Config
from moto.server import ThreadedMotoServer

REGION = "eu-central-1"
KEY_ID, SECRET = "innolab-test-key", "innolab-test-secret"


def bucket_name(purpose: str = "files") -> str:
    """A bucket name of this test process alone (pytest-xdist runs several at once)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    return f"innolab-{purpose}-{worker}-{uuid.uuid4().hex[:8]}".lower()


class S3Server:
    """moto's server on a free port of 127.0.0.1; `stop()` closes its socket too, so that a
    client is refused at once rather than left waiting."""

    def __init__(self) -> None:
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.url = ""

    def start(self) -> S3Server:
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.url = f"http://{host}:{port}"
        return self

    def stop(self) -> None:
        self._server.stop()
        inner = self._server._server
        if inner is not None:
            inner.server_close()

    def client(self):
        return boto3.session.Session().client(
            "s3", endpoint_url=self.url, region_name=REGION, aws_access_key_id=KEY_ID,
            aws_secret_access_key=SECRET,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))

    def create_bucket(self, name: str) -> str:
        self.client().create_bucket(
            Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
        return name

    def settings(self, bucket: str, prefix: str = "") -> dict:
        """The app's settings for this server and `bucket`."""
        return {"STORAGE_BACKEND": "s3", "S3_ENDPOINT_URL": self.url, "S3_BUCKET": bucket,
                "S3_REGION": REGION, "S3_ACCESS_KEY_ID": KEY_ID, "S3_SECRET_ACCESS_KEY": SECRET,
                "S3_PREFIX": prefix, "S3_ADDRESSING_STYLE": "path",
                "S3_PRESIGNED_DOWNLOADS": False, "S3_PRESIGN_SECONDS": 60}


def use_s3(app, monkeypatch, server: S3Server, bucket: str, prefix: str | None = None) -> str:
    """Point the app at `bucket` of `server` below a prefix of its own (restored after the
    test); returns the prefix."""
    prefix = f"t-{uuid.uuid4().hex[:12]}/" if prefix is None else prefix
    for key, value in server.settings(bucket, prefix).items():
        monkeypatch.setitem(app.config, key, value)
    return prefix


class FolderFiles:
    """The files of the upload folder, as the tests look at them (not through the app)."""

    kind = "filesystem"

    def __init__(self, folder: Path):
        self.folder = folder

    def all(self) -> list[str]:
        return sorted(os.listdir(self.folder))

    def names(self) -> list[str]:
        return [n for n in self.all() if not n.startswith(".")]

    def read(self, name: str) -> bytes:
        return (self.folder / name).read_bytes()

    def write(self, name: str, data: bytes) -> None:
        (self.folder / name).write_bytes(data)

    def remove(self, name: str) -> None:
        (self.folder / name).unlink()


class BucketFiles:
    """The objects below the test's prefix of the bucket, read with a client of the test's
    own."""

    kind = "s3"

    def __init__(self, server: S3Server, bucket: str, prefix: str):
        self.server, self.client, self.bucket, self.prefix = (server, server.client(), bucket,
                                                              prefix)

    def all(self) -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket,
                                                                      Prefix=self.prefix)
        return sorted(item["Key"][len(self.prefix):] for page in pages
                      for item in page.get("Contents", []))

    def names(self) -> list[str]:
        return [n for n in self.all() if not n.startswith(".")]

    def read(self, name: str) -> bytes:
        return self.client.get_object(Bucket=self.bucket, Key=self.prefix + name)["Body"].read()

    def write(self, name: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self.prefix + name, Body=data)

    def remove(self, name: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.prefix + name)
