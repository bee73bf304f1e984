"""Production refuses to start with an unsafe configuration, naming the variable; links in
mails never follow the request's Host header."""
from __future__ import annotations

import pytest

from innolab import create_app
from innolab.config import ConfigError
from innolab.extensions import db, limiter
from tests import factories
from tests.client import IsolatedClient
from tests.integration.auth_support import link_in
from innolab.config import load_config

STRONG_KEY = "q8V-3mZ_rT1xL0pWc9sKe2NhYb7uGdAf4JoIvE6yRtM"
HOST = "innolab.zdmv.example"


@pytest.fixture
def production(app, monkeypatch):
    """The environment of a production server; returns make() -> a started app."""
    for name in ("WEB_CONCURRENCY", "GUNICORN_WORKERS", "RATELIMIT_STORAGE_URI",
                 "SESSION_COOKIE_SECURE", "MAIL_SEND_AFTER_REQUEST"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("INNOLAB_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", STRONG_KEY)
    monkeypatch.setenv("BASE_URL", f"https://{HOST}")
    monkeypatch.setenv("TRUSTED_HOSTS", HOST)
    started = []

    def make(**config):
        made = create_app({
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "UPLOAD_FOLDER": app.config["UPLOAD_FOLDER"],
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            **config,
        })
        started.append(made)
        return made

    yield make
    limiter.enabled = app.config["RATELIMIT_ENABLED"]  # the limiter object is shared
    for made in started:
        with made.app_context():
            db.engine.dispose()


def _refused(make, variable, **config):
    with pytest.raises(ConfigError) as refused:
        make(**config)
    assert variable in str(refused.value)
    return str(refused.value)


def test_production_starts_with_a_safe_configuration(production):
    started = production()
    assert started.config["BASE_URL"] == f"https://{HOST}"
    assert started.config["TRUSTED_HOSTS"] == [HOST]


@pytest.mark.parametrize("variable", ["BASE_URL", "TRUSTED_HOSTS"])
def test_production_refuses_to_start_without(production, monkeypatch, variable):
    monkeypatch.delenv(variable)
    _refused(production, variable)


def test_production_without_clamd_warns_at_start_up(production, monkeypatch, caplog):
    for name in ("CLAMD_SOCKET", "CLAMD_HOST"):
        monkeypatch.delenv(name, raising=False)
    with caplog.at_level("WARNING", logger="innolab.config"):
        production()
    assert "uploaded files are stored without a malware scan" in caplog.text
    caplog.clear()
    monkeypatch.setenv("CLAMD_SOCKET", "/run/clamav/clamd.ctl")
    with caplog.at_level("WARNING", logger="innolab.config"):
        started = production()
    assert "malware scan" not in caplog.text
    assert started.config["CLAMD_SOCKET"] == "/run/clamav/clamd.ctl"


def test_production_refuses_a_base_url_without_https(production, monkeypatch):
    monkeypatch.setenv("BASE_URL", f"http://{HOST}")
    assert "https" in _refused(production, "BASE_URL")


@pytest.mark.parametrize("key", ["x", "x" * 64, "changeme-" * 5,
                                 "innolab-secret-key-2026-production",
                                 STRONG_KEY[:31]])
def test_production_refuses_a_weak_secret_key(production, monkeypatch, key):
    monkeypatch.setenv("SECRET_KEY", key)
    message = _refused(production, "SECRET_KEY")
    assert key not in message or len(key) < 3  # the key itself is never repeated


@pytest.mark.parametrize("env", ["Production", "prod", "PRODUCTION", " production", "staging"])
def test_unknown_innolab_env_is_refused(production, monkeypatch, env):
    monkeypatch.setenv("INNOLAB_ENV", env)
    _refused(production, "INNOLAB_ENV")


def test_unknown_innolab_env_is_refused_outside_production_too(app, monkeypatch, tmp_path):
    monkeypatch.setenv("INNOLAB_ENV", "dev")
    with pytest.raises(ConfigError, match="INNOLAB_ENV"):
        load_config(tmp_path)


@pytest.mark.parametrize("variable", ["WEB_CONCURRENCY", "GUNICORN_WORKERS"])
def test_memory_rate_limits_with_several_workers_are_refused(production, monkeypatch, variable):
    monkeypatch.setenv(variable, "4")
    message = _refused(production, "RATELIMIT_STORAGE_URI", RATELIMIT_ENABLED=True)
    assert "redis://" in message


def test_redis_rate_limits_with_several_workers_start(production, monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    started = production(RATELIMIT_STORAGE_URI="redis://127.0.0.1:6379/0")
    assert started.config["RATELIMIT_STORAGE_URI"].startswith("redis://")


def test_one_worker_may_count_in_memory(production, monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "1")
    assert production().config["RATELIMIT_STORAGE_URI"] == "memory://"


def test_reset_link_never_follows_the_host_header(production, app_ctx, outbox):
    factories.user(email="erika@example.org")
    started = production()
    client = IsolatedClient(started, started.response_class)
    forged = client.post("/password/forgot", data={"email": "erika@example.org"},
                         headers={"Host": "evil.example"})
    assert forged.status_code == 400
    assert outbox("erika@example.org") == []

    asked = client.post("/password/forgot", data={"email": "erika@example.org"},
                        base_url=f"https://{HOST}")
    assert asked.status_code == 200
    (mail,) = outbox("erika@example.org")
    assert f"https://{HOST}{link_in(mail, '/password/reset/')}" in mail.body_text
    assert "evil.example" not in mail.body_text and "http://" not in mail.body_text


# ---------------------------------------------------------------- the storage settings


@pytest.mark.parametrize("config,variable", [
    ({"STORAGE_BACKEND": "bucket"}, "STORAGE_BACKEND"),
    ({"STORAGE_BACKEND": "s3", "S3_BUCKET": ""}, "S3_BUCKET"),
    ({"S3_ADDRESSING_STYLE": "sideways"}, "S3_ADDRESSING_STYLE"),
    ({"S3_PRESIGNED_DOWNLOADS": True, "S3_PRESIGN_SECONDS": 86400}, "S3_PRESIGN_SECONDS"),
    ({"S3_PRESIGNED_DOWNLOADS": True, "S3_PRESIGN_SECONDS": 0}, "S3_PRESIGN_SECONDS"),
])
def test_storage_settings_that_cannot_work_stop_the_start(production, config, variable):
    _refused(production, variable, **config)


def test_storage_settings_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("STORAGE_BACKEND", " S3 ")
    monkeypatch.setenv("S3_BUCKET", "innolab-files")
    monkeypatch.setenv("S3_PRESIGNED_DOWNLOADS", "true")
    monkeypatch.setenv("S3_PRESIGN_SECONDS", "120")
    config = load_config(tmp_path)
    assert (config["STORAGE_BACKEND"], config["S3_BUCKET"]) == ("s3", "innolab-files")
    assert config["S3_PRESIGNED_DOWNLOADS"] is True and config["S3_PRESIGN_SECONDS"] == 120
    monkeypatch.delenv("STORAGE_BACKEND")
    assert load_config(tmp_path)["STORAGE_BACKEND"] == "filesystem"


def test_an_s3_installation_needs_no_upload_folder(production, tmp_path):
    folder = tmp_path / "nie-angelegt"
    started = production(STORAGE_BACKEND="s3", S3_BUCKET="innolab-files",
                         UPLOAD_FOLDER=str(folder))
    assert started.config["STORAGE_BACKEND"] == "s3" and not folder.exists()
