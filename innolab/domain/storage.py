"""Where uploaded files lie: the upload folder, or a bucket of an S3-compatible object storage.

`STORAGE_BACKEND` chooses (docs/configuration.md): `filesystem` (the default) keeps the files
below `UPLOAD_FOLDER`, `s3` keeps them as objects `S3_PREFIX + stored name` in `S3_BUCKET`, so
that every instance of the platform reaches the same files. `current()` is the configured
backend, `backend(kind)` either one (the `storage migrate` command copies between them).

Both backends do the same few things, and nothing here knows rows or transactions
(`uploads.py` ties the writing to the commit):

- `stage(data)` keeps new content under a fresh random name, `publish` makes it visible after
  the commit, `discard` takes it back after a rollback. The filesystem writes a temporary file
  (fsynced) that `publish` renames into place; S3 writes the object at once (a rolled-back
  upload's object is deleted by `discard`), so that a committed row always has its object.
- `open` reads (a seekable file object; FileNotFoundError when there is no such file),
  `exists`, `delete`, `put` (a whole file under a given name, for the migration), `entries`
  (every name with its size, for `check_files`), `check_ready` (the readiness probe) and, for
  S3 with `S3_PRESIGNED_DOWNLOADS`, `download_url`: a short-lived presigned address.

A storage that cannot be reached raises `StorageUnavailable` (an OSError): an upload is then
refused with a message, a download answers 503 with a page in the user's language.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import secrets
import tempfile
from base64 import b64encode
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

import boto3
from boto3.exceptions import Boto3Error
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from flask import current_app

from ..config import STORAGE_BACKENDS

if TYPE_CHECKING:
    from types_boto3_s3.client import S3Client

log = logging.getLogger("innolab.storage")

BACKENDS = STORAGE_BACKENDS
# A file on its way in (filesystem): ".tmp-" + the stored name it gets after the commit. The
# leading dot keeps it from ever being served (`valid_name` refuses such names).
TEMP_PREFIX = ".tmp-"
# The readiness probe's object (S3) or file (filesystem): written and deleted at once.
PROBE_PREFIX = ".ready-"
CHUNK = 1024 * 1024
# S3: the settings a backend is made from (a change of any of them makes a new client).
S3_SETTINGS = ("S3_ENDPOINT_URL", "S3_BUCKET", "S3_REGION", "S3_ACCESS_KEY_ID",
               "S3_SECRET_ACCESS_KEY", "S3_PREFIX", "S3_ADDRESSING_STYLE",
               "S3_PRESIGNED_DOWNLOADS", "S3_PRESIGN_SECONDS")
_CACHE = "innolab.storage"  # key in app.extensions: settings -> S3Storage


class StorageUnavailable(OSError):
    """The storage did not answer or refused to (not: a file that is not there)."""


def valid_name(name: str | None) -> str:
    """`name` if it can be a stored name (ours: hex, never the user's); anything path-like or
    hidden is refused as not found."""
    if not name or os.sep in name or "/" in name or name.startswith("."):
        raise FileNotFoundError(name)
    return name


def new_name() -> str:
    return secrets.token_hex(16)


@dataclass(frozen=True)
class Entry:
    """A file the storage holds. `modified`: epoch seconds (None where it was not looked at);
    `temp`: a file of the storage's own (an upload on its way in, a probe), never a stored one."""

    name: str
    size: int | None
    modified: float | None
    temp: bool = False


@dataclass(eq=False)
class Staged:
    """New content kept by `stage` until `publish` or `discard`."""

    name: str
    temp: Path | None = None  # filesystem: the temporary file


def sha256_of(stream: IO[bytes]) -> tuple[str, int]:
    """The SHA-256 (hex) and length of what `stream` holds from where it is."""
    digest, size = hashlib.sha256(), 0
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


class Storage:
    """What both backends do; see the module's description."""

    kind = ""
    label = ""  # how messages name it: "Upload folder", "Bucket"
    # True: `stage` already writes the file where it will stay, so a file without a row may
    # belong to an upload whose transaction is still open (check_files gives it an hour).
    writes_before_commit = False

    def stage(self, data: bytes) -> Staged:
        raise NotImplementedError

    def publish(self, staged: Staged) -> None:
        raise NotImplementedError

    def discard(self, staged: Staged) -> None:
        raise NotImplementedError

    def finish(self) -> None:
        """After a batch of `publish` and `delete`: make it durable."""

    def delete(self, name: str) -> None:
        raise NotImplementedError

    def exists(self, name: str) -> bool:
        raise NotImplementedError

    def open(self, name: str) -> IO[bytes]:
        raise NotImplementedError

    def local_path(self, name: str) -> Path | None:
        """Where the file lies on this machine's disk (None: not on a disk)."""
        return None

    def put(self, name: str, stream: IO[bytes]) -> None:
        raise NotImplementedError

    def entries(self) -> Iterator[Entry]:
        raise NotImplementedError

    def remove(self, name: str) -> None:
        """Remove a listed entry, a temporary one too (check_files --fix)."""
        raise NotImplementedError

    def describe(self, name: str) -> str:
        raise NotImplementedError

    def check_ready(self) -> None:
        raise NotImplementedError

    def download_url(self, name: str, disposition: str, content_type: str) -> str | None:
        """A short-lived address the browser may fetch the file from itself (None: the app
        sends it)."""
        return None

    def sha256(self, name: str) -> tuple[str, int]:
        with self.open(name) as stream:
            return sha256_of(stream)


# ====================================================================== the upload folder


class FilesystemStorage(Storage):
    """Files below `folder`, written under a temporary name, fsynced and renamed into place."""

    kind = "filesystem"
    label = "Upload folder"

    def __init__(self, folder: Path):
        self._folder = folder

    @property
    def folder(self) -> Path:
        self._folder.mkdir(parents=True, exist_ok=True)
        return self._folder

    def path(self, name: str) -> Path:
        return self.folder / valid_name(name)

    def _write(self, temp: Path, data: bytes | IO[bytes]) -> None:
        """Write `data` into the new file `temp` and fsync it; on any error remove it."""
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            try:
                chunks = [data] if isinstance(data, bytes) else iter(
                    lambda: data.read(CHUNK), b"")
                for chunk in chunks:
                    view = memoryview(chunk)
                    while view:
                        view = view[os.write(fd, view):]
                os.fsync(fd)
            finally:
                os.close(fd)
        except BaseException:
            _unlink(temp)
            raise

    def stage(self, data: bytes) -> Staged:
        where = self.folder
        name = new_name()
        temp = where / (TEMP_PREFIX + name)
        self._write(temp, data)
        return Staged(name=name, temp=temp)

    def publish(self, staged: Staged) -> None:
        assert staged.temp is not None
        os.replace(staged.temp, self.folder / staged.name)

    def discard(self, staged: Staged) -> None:
        if staged.temp is not None:
            _unlink(staged.temp)

    def finish(self) -> None:
        _fsync_dir(self.folder)

    def delete(self, name: str) -> None:
        self.path(name).unlink(missing_ok=True)

    def exists(self, name: str) -> bool:
        try:
            return self.path(name).exists()
        except FileNotFoundError:
            return False

    def open(self, name: str) -> IO[bytes]:
        return self.path(name).open("rb")

    def local_path(self, name: str) -> Path:
        return self.path(name)

    def put(self, name: str, stream: IO[bytes]) -> None:
        final = self.path(name)
        temp = final.with_name(TEMP_PREFIX + name)
        _unlink(temp)  # left by a copy that was interrupted (uploads take new names)
        self._write(temp, stream)
        os.replace(temp, final)
        _fsync_dir(final.parent)

    def entries(self) -> Iterator[Entry]:
        for entry in os.scandir(self.folder):
            if not entry.is_file(follow_symlinks=False):
                continue
            try:
                stat = entry.stat(follow_symlinks=False)
            except FileNotFoundError:  # its upload finished or was given up meanwhile
                continue
            yield Entry(entry.name, stat.st_size, stat.st_mtime,
                        temp=entry.name.startswith(TEMP_PREFIX))

    def remove(self, name: str) -> None:
        if not name or "/" in name or os.sep in name:
            raise FileNotFoundError(name)
        (self.folder / name).unlink(missing_ok=True)

    def describe(self, name: str) -> str:
        return str(self._folder / name)

    def check_ready(self) -> None:
        with tempfile.NamedTemporaryFile(dir=self._folder, prefix=PROBE_PREFIX,
                                         delete=True) as probe:
            probe.write(b"ok")
            probe.flush()


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError as exc:
        log.error("Could not remove %s: %s", path, exc)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# ====================================================================== S3


_MISSING = {"NoSuchKey", "404", "NotFound"}


@contextlib.contextmanager
def _s3_errors(what: str):
    """A missing object becomes FileNotFoundError, anything else that went wrong with the
    storage StorageUnavailable."""
    try:
        yield
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", ""))
        if code in _MISSING:
            raise FileNotFoundError(what) from exc
        raise StorageUnavailable(f"{what}: {code or exc}") from exc
    except (BotoCoreError, Boto3Error) as exc:
        raise StorageUnavailable(f"{what}: {exc}") from exc


class S3Reader(io.RawIOBase):
    """An object of the bucket as a seekable file: read from where it is, with a ranged GET
    after a seek (for the Range requests of a video)."""

    def __init__(self, storage: S3Storage, key: str, size: int, body: Any):
        super().__init__()
        self._storage, self._key, self.size = storage, key, size
        self._body, self._pos, self._body_pos = body, 0, 0
        self.modified: float | None = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer) -> int:
        if self._pos >= self.size:
            return 0
        if self._body is not None and self._body_pos != self._pos:
            self._close_body()
        if self._body is None:
            with _s3_errors(self._storage.describe_key(self._key)):
                answer = self._storage.client.get_object(
                    Bucket=self._storage.bucket, Key=self._key, Range=f"bytes={self._pos}-")
            self._body, self._body_pos = answer["Body"], self._pos
        with _s3_errors(self._storage.describe_key(self._key)):
            data = self._body.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self._pos += n
        self._body_pos += n
        return n

    def _close_body(self) -> None:
        if self._body is not None:
            with contextlib.suppress(Exception):
                self._body.close()
            self._body = None

    def close(self) -> None:
        self._close_body()
        super().close()


class S3Storage(Storage):
    """Objects `prefix + stored name` in `bucket`, written before the commit (see module)."""

    kind = "s3"
    label = "Bucket"
    writes_before_commit = True

    def __init__(self, client: S3Client, probe_client: S3Client, bucket: str, prefix: str = "",
                 presign_seconds: int = 0):
        self.client, self._probe_client = client, probe_client
        self.bucket, self.prefix = bucket, prefix
        self.presign_seconds = presign_seconds  # 0: downloads go through the app

    def key(self, name: str) -> str:
        return self.prefix + valid_name(name)

    def describe_key(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def describe(self, name: str) -> str:
        return self.describe_key(self.prefix + name)

    def _put_bytes(self, key: str, data: bytes) -> None:
        md5 = b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
        with _s3_errors(self.describe_key(key)):
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentMD5=md5,
                                   ContentType="application/octet-stream")

    def stage(self, data: bytes) -> Staged:
        name = new_name()
        self._put_bytes(self.key(name), data)
        return Staged(name=name)

    def publish(self, staged: Staged) -> None:
        pass  # written already

    def discard(self, staged: Staged) -> None:
        try:
            self.delete(staged.name)
        except OSError as exc:  # check_files reports it as a file without a row
            log.error("Could not remove %s after the rollback: %s", self.describe(staged.name),
                      exc)

    def delete(self, name: str) -> None:
        key = self.key(name)
        with _s3_errors(self.describe_key(key)):
            self.client.delete_object(Bucket=self.bucket, Key=key)

    def _head(self, key: str) -> dict:
        with _s3_errors(self.describe_key(key)):
            return dict(self.client.head_object(Bucket=self.bucket, Key=key))

    def exists(self, name: str) -> bool:
        try:
            self._head(self.key(name))
        except FileNotFoundError:
            return False
        return True

    def open(self, name: str) -> IO[bytes]:
        key = self.key(name)
        with _s3_errors(self.describe_key(key)):
            answer = self.client.get_object(Bucket=self.bucket, Key=key)
        reader = S3Reader(self, key, int(answer["ContentLength"]), answer["Body"])
        modified = answer.get("LastModified")
        reader.modified = modified.timestamp() if modified else None
        return cast(IO[bytes], reader)

    def put(self, name: str, stream: IO[bytes]) -> None:
        key = self.key(name)
        with _s3_errors(self.describe_key(key)):
            self.client.upload_fileobj(stream, self.bucket, key,
                                       ExtraArgs={"ContentType": "application/octet-stream"})

    def entries(self) -> Iterator[Entry]:
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix)
        with _s3_errors(self.describe_key(self.prefix)):
            for page in pages:
                for item in page.get("Contents", []):
                    name = item["Key"][len(self.prefix):]
                    if not name or "/" in name:
                        continue  # not one of ours (another prefix below this one)
                    yield Entry(name, int(item["Size"]), item["LastModified"].timestamp(),
                                temp=name.startswith("."))

    def remove(self, name: str) -> None:
        if not name or "/" in name:
            raise FileNotFoundError(name)
        with _s3_errors(self.describe(name)):
            self.client.delete_object(Bucket=self.bucket, Key=self.prefix + name)

    def check_ready(self) -> None:
        """The bucket is there and takes an object (written and deleted again)."""
        client = self._probe_client
        key = self.prefix + PROBE_PREFIX + new_name()
        try:
            with _s3_errors(f"s3://{self.bucket}"):
                client.head_bucket(Bucket=self.bucket)
        except FileNotFoundError as exc:
            raise StorageUnavailable(f"s3://{self.bucket}: no such bucket") from exc
        with _s3_errors(self.describe_key(key)):
            client.put_object(Bucket=self.bucket, Key=key, Body=b"ok")
            client.delete_object(Bucket=self.bucket, Key=key)

    def download_url(self, name: str, disposition: str, content_type: str) -> str | None:
        if self.presign_seconds <= 0:
            return None
        key = self.key(name)
        self._head(key)  # a lost file is a 404 here, a storage away a 503, as without it
        with _s3_errors(self.describe_key(key)):
            return self.client.generate_presigned_url(
                "get_object", ExpiresIn=self.presign_seconds,
                Params={"Bucket": self.bucket, "Key": key,
                        "ResponseContentDisposition": disposition,
                        "ResponseContentType": content_type,
                        "ResponseCacheControl": "private, no-store"})


def _s3_client(config, connect_timeout: float, read_timeout: float, attempts: int):
    session = boto3.session.Session()
    return session.client(
        "s3",
        endpoint_url=config.get("S3_ENDPOINT_URL") or None,
        region_name=config.get("S3_REGION") or None,
        aws_access_key_id=config.get("S3_ACCESS_KEY_ID") or None,
        aws_secret_access_key=config.get("S3_SECRET_ACCESS_KEY") or None,
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": config.get("S3_ADDRESSING_STYLE") or "auto"},
            connect_timeout=connect_timeout, read_timeout=read_timeout,
            retries={"max_attempts": attempts, "mode": "standard"},
            # S3-compatible stores do not all know the newer checksum headers; the body's
            # MD5 is sent with every upload (ContentMD5) and checked by the storage.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required"),
    )


def _make_s3(config) -> S3Storage:
    presign = int(config.get("S3_PRESIGN_SECONDS") or 0) if config.get(
        "S3_PRESIGNED_DOWNLOADS") else 0
    return S3Storage(client=_s3_client(config, 5, 60, 3),
                     # the readiness probe must answer quickly: no retries, short timeouts
                     probe_client=_s3_client(config, 2, 5, 1),
                     bucket=config["S3_BUCKET"], prefix=config.get("S3_PREFIX") or "",
                     presign_seconds=presign)


def backend(kind: str) -> Storage:
    """The backend `kind` ("filesystem" or "s3") as the app's settings describe it."""
    config = current_app.config
    if kind == "filesystem":
        return FilesystemStorage(Path(config["UPLOAD_FOLDER"]))
    if kind == "s3":
        settings = tuple(config.get(k) for k in S3_SETTINGS)
        cache: dict = current_app.extensions.setdefault(_CACHE, {})
        made = cache.get(settings)
        if made is None:
            if not config.get("S3_BUCKET"):
                raise StorageUnavailable("S3_BUCKET is not set")
            while len(cache) >= 4:  # settings changed at run time (tests): forget old clients
                cache.pop(next(iter(cache)))
            made = cache[settings] = _make_s3(config)
        return made
    raise ValueError(f"unknown storage backend {kind!r}")


def current() -> Storage:
    """The configured backend (STORAGE_BACKEND)."""
    return backend(current_app.config.get("STORAGE_BACKEND") or "filesystem")

