"""The rate limits with Redis: counted there while it runs; while it is unreachable, signing in
still works, counted per process in memory, with a warning in the log."""
from __future__ import annotations

import logging
import os
import uuid

import pytest

from tests import factories
from tests.integration.auth_support import page_text, sign_in
import redis

NOBODY_LISTENS = "redis://127.0.0.1:1"
REDIS = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
IN_CI = os.environ.get("CI", "").lower() == "true"


def test_sign_in_works_while_redis_is_unreachable(limited, app_ctx, caplog):
    client = limited(NOBODY_LISTENS)
    factories.user(email="erika@example.org", name="Erika Mustermann")
    with caplog.at_level(logging.WARNING):
        response = sign_in(client, "erika@example.org", factories.PASSWORD)
    assert response.status_code == 303
    account = client.get("/account")
    assert account.status_code == 200 and "Erika Mustermann" in account.get_data(as_text=True)
    assert client.get("/").status_code == 200
    assert client.get("/challenges").status_code == 200
    assert any(r.levelno == logging.WARNING and "falling back to in-memory storage" in
               r.getMessage() for r in caplog.records), caplog.text


def test_limits_still_count_in_memory_while_redis_is_unreachable(limited, app_ctx):
    client = limited(NOBODY_LISTENS)
    factories.user(email="erika@example.org")
    for n in range(10):  # other addresses each time: the client's limit, not an account's back-off
        assert sign_in(client, f"person{n}@example.org",
                       "falsches-Passwort-123").status_code == 422
    blocked = sign_in(client, "erika@example.org", factories.PASSWORD)
    assert blocked.status_code == 429 and "Zu viele Anfragen" in page_text(blocked)
    assert client.get("/account").status_code == 302


@pytest.fixture
def redis_prefix():
    """A key prefix of this test's own on the real Redis; its keys are deleted afterwards."""

    connection = redis.Redis.from_url(REDIS, socket_connect_timeout=2)
    try:
        connection.ping()
    except redis.exceptions.RedisError as exc:
        if IN_CI:
            pytest.fail(f"CI needs Redis at {REDIS}: {exc}")
        pytest.skip(f"no Redis at {REDIS}: {exc}")
    prefix = f"innolab-test-{uuid.uuid4().hex}"
    try:
        yield prefix, connection
    finally:
        keys = list(connection.scan_iter(match=f"*{prefix}*"))
        if keys:
            connection.delete(*keys)
        connection.close()


def test_limits_count_in_redis(limited, app_ctx, redis_prefix):
    prefix, connection = redis_prefix
    client = limited(REDIS, prefix)
    factories.user(email="erika@example.org")
    for n in range(10):  # other addresses each time: the client's limit, not an account's back-off
        assert sign_in(client, f"person{n}@example.org",
                       "falsches-Passwort-123").status_code == 422
    assert list(connection.scan_iter(match=f"*{prefix}*"))  # the counters are in Redis
    blocked = sign_in(client, "erika@example.org", factories.PASSWORD)
    assert blocked.status_code == 429
    # a second process (another app on the same Redis) sees the same counters
    other = limited(REDIS, prefix)
    assert sign_in(other, "erika@example.org", factories.PASSWORD).status_code == 429


def test_sign_in_with_redis_running(limited, app_ctx, redis_prefix):
    prefix, _ = redis_prefix
    client = limited(REDIS, prefix)
    factories.user(email="erika@example.org", name="Erika Mustermann")
    assert sign_in(client, "erika@example.org", factories.PASSWORD).status_code == 303
    assert "Erika Mustermann" in client.get("/account").get_data(as_text=True)
