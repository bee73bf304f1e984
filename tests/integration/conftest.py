"""Fixtures of the integration tests that need more than the test client: a full upload
folder, a live server, mail servers that answer or never do."""
from __future__ import annotations

import errno
import os
import subprocess
import uuid
from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.client import IsolatedClient, serving
from tests.smtp import SMTPServer, Tarpit
from innolab import create_app
from innolab.config import _database_url
from innolab.extensions import db, limiter
from tests.clamd import CLAMD, Clamd
from tests.s3 import BucketFiles, FolderFiles, S3Server, bucket_name, use_s3

IN_CI = os.environ.get("CI", "").lower() == "true"


def _mount_tmpfs(path, size: str) -> str | None:
    """Mount a tmpfs of `size` at `path`; the reason why not, or None when it is mounted."""
    if os.geteuid() != 0:
        return "not running as root"
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs",
                           str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        return f"mount -t tmpfs failed: {done.stderr.strip() or done.returncode}"
    return None


@pytest.fixture(params=["tmpfs", "injected"])
def full_upload_folder(request, app, tmp_path, monkeypatch):
    """An upload folder with less room than `.too_big` needs.

    `tmpfs`: a real 1 MB file system (needs root and the right to mount; in CI it must work).
    `injected`: an ordinary folder whose writes fail with ENOSPC after 64 KB, as a full disk
    answers, for machines where mounting is not allowed."""
    folder = tmp_path / "uploads"
    folder.mkdir()
    mounted = False
    if request.param == "tmpfs":
        reason = _mount_tmpfs(folder, "1m")
        if reason is not None:
            if IN_CI:
                pytest.fail(f"CI needs a real tmpfs for the full-disk test: {reason}")
            pytest.skip(f"no tmpfs for the full-disk test ({reason}); the injected ENOSPC "
                        "variant runs instead")
        mounted = True
    else:
        real_write, room = os.write, {"left": 64 * 1024}
        prefix = str(folder) + os.sep

        def write(fd, data):
            try:
                target = os.readlink(f"/proc/self/fd/{fd}")
            except OSError:
                target = ""
            if not target.startswith(prefix):
                return real_write(fd, data)
            if room["left"] <= 0:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            written = real_write(fd, bytes(memoryview(data)[:room["left"]]))
            room["left"] -= written
            return written

        monkeypatch.setattr(os, "write", write)
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(folder))
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"
    try:
        yield SimpleNamespace(path=folder, kind=request.param,
                              too_big=pdf + b"0" * (1536 * 1024), fits=pdf)
    finally:
        if mounted:
            subprocess.run(["umount", str(folder)], check=True)



@pytest.fixture
def live_url(app):
    """The test app served by werkzeug on 127.0.0.1 in a thread; yields its base URL.

    The server handles one request at a time, like a gunicorn sync worker: whatever runs after
    a response (on close) keeps the worker from the next request, as it does in production.
    (werkzeug's threaded server would start a fresh thread for every connection and hide it.)
    """
    with serving(app, threaded=False) as url:
        yield url


@pytest.fixture
def limited(app):
    """make(storage_uri, key_prefix) – a client of a second app with the rate limits on.

    The limiter object is shared by every app of the process: afterwards it is put back the
    way the test app expects it (no prefix, storage alive, limits off)."""

    apps = []

    def make(storage_uri: str, key_prefix: str = ""):
        limited_app = create_app({
            "TESTING": True,
            "SECRET_KEY": app.config["SECRET_KEY"],
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": True,
            "RATELIMIT_STORAGE_URI": storage_uri,
            "RATELIMIT_KEY_PREFIX": key_prefix,
            "UPLOAD_FOLDER": app.config["UPLOAD_FOLDER"],
        })
        limited_app.test_client_class = IsolatedClient
        apps.append(limited_app)
        return limited_app.test_client()

    try:
        yield make
    finally:
        limiter._key_prefix = ""
        limiter._storage_dead = False
        limiter.enabled = app.config["RATELIMIT_ENABLED"]
        for limited_app in apps:
            with limited_app.app_context():
                db.engine.dispose()


@pytest.fixture
def after_request_delivery(app):
    """Mail queued by a request is delivered after the response (as in `make run`)."""
    app.config["MAIL_SEND_AFTER_REQUEST"] = True
    yield
    app.config["MAIL_SEND_AFTER_REQUEST"] = False


@pytest.fixture
def smtp_server(app):
    """A real SMTP server (aiosmtpd) the app delivers to."""
    server = SMTPServer()
    server.start()
    old = app.config["SMTP_HOST"], app.config["SMTP_PORT"]
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=server.port)
    yield server
    app.config.update(SMTP_HOST=old[0], SMTP_PORT=old[1])
    server.stop()


@pytest.fixture
def tarpit(app):
    """A mail server that accepts connections and never answers, configured as SMTP_HOST."""
    pit = Tarpit()
    old = app.config["SMTP_HOST"], app.config["SMTP_PORT"]
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=pit.port)
    yield pit
    pit.close()
    app.config.update(SMTP_HOST=old[0], SMTP_PORT=old[1])


@pytest.fixture
def limited_client(limited):
    """A client of a second app with the rate limits on (the test app runs without them)."""
    yield limited("memory://")
    limiter.reset()


@pytest.fixture
def empty_database(tmp_path):
    """A brand-new empty database of the kind the suite runs on."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        yield f"sqlite:///{tmp_path / 'migrations.sqlite'}"
        return
    url = make_url(_database_url(base))
    name = f"innolab_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# ---------------------------------------------------------------- a real clamd


@pytest.fixture
def clamd(app, tmp_path_factory, monkeypatch):
    """A running clamd that the app scans every upload with (over its Unix socket)."""
    if not os.path.exists(CLAMD):
        message = "clamd nicht installiert: apt-get install clamav-daemon"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    daemon = Clamd(tmp_path_factory.mktemp("clamd"))
    daemon.start()
    monkeypatch.setitem(app.config, "CLAMD_SOCKET", daemon.socket)
    monkeypatch.setitem(app.config, "CLAMD_HOST", "")
    monkeypatch.setitem(app.config, "CLAMD_RETRY_DELAY", 0)
    try:
        yield daemon
    finally:
        daemon.stop()


# ---------------------------------------------------------------- the storage backends


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3 server of this test process, with a bucket of its own (`.bucket`)."""
    server = S3Server().start()
    server.bucket = server.create_bucket(bucket_name())  # type: ignore[attr-defined]
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def s3_files(app, monkeypatch, s3_server):
    """The app stores in the bucket of moto's S3 server, below a prefix of the test's own."""
    prefix = use_s3(app, monkeypatch, s3_server, s3_server.bucket)
    return BucketFiles(s3_server, s3_server.bucket, prefix)


@pytest.fixture(params=["filesystem", "s3"])
def storage_backend(request, app, tmp_path, monkeypatch):
    """The app stores its files in an upload folder of the test's own, or below a prefix of
    the test's own in a bucket of the moto server; yields the files as the test sees them."""
    if request.param == "filesystem":
        folder = tmp_path / "uploads"
        folder.mkdir()
        monkeypatch.setitem(app.config, "STORAGE_BACKEND", "filesystem")
        monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(folder))
        yield FolderFiles(folder)
        return
    server = request.getfixturevalue("s3_server")
    prefix = use_s3(app, monkeypatch, server, server.bucket)
    # the upload folder must stay untouched: any file there would be a mistake
    folder = tmp_path / "unused-upload-folder"
    monkeypatch.setitem(app.config, "UPLOAD_FOLDER", str(folder))
    files = BucketFiles(server, server.bucket, prefix)
    yield files
    assert not folder.exists() or not os.listdir(folder), "a file went to the upload folder"
