"""Time limits on the database: every PostgreSQL connection carries DB_STATEMENT_TIMEOUT_MS,
DB_LOCK_TIMEOUT_MS and DB_IDLE_IN_TRANSACTION_TIMEOUT_MS; a statement the database cancels
gives the person a 503 page in their language (nothing saved, try again) instead of a 500."""
from __future__ import annotations

import os

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from innolab import create_app
from innolab.config import database_time_limits
from innolab.extensions import db
from tests.client import IsolatedClient

ON_POSTGRES = os.environ.get("TEST_DATABASE_URL", "").startswith(("postgresql", "postgres:"))
postgres_only = pytest.mark.skipif(
    not ON_POSTGRES,
    reason="statement_timeout, lock_timeout and idle_in_transaction_session_timeout are "
           "PostgreSQL settings; SQLite has none. Set TEST_DATABASE_URL to a PostgreSQL "
           "database to run this test")


@pytest.fixture
def timed(app):
    """make(**config) – a second app on the suite's database with its own time limits and
    test-only views that sleep in the database, take a lock and show the settings."""
    made = []

    def make(**config):
        limited = create_app({
            "TESTING": True,
            "SECRET_KEY": app.config["SECRET_KEY"],
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
            "UPLOAD_FOLDER": app.config["UPLOAD_FOLDER"],
            **config,
        })
        limited.test_client_class = IsolatedClient

        @limited.get("/_test/sleep/<seconds>")
        def _sleep(seconds):
            db.session.execute(text("SELECT pg_sleep(:s)"), {"s": float(seconds)})
            return "ausgeschlafen"

        @limited.get("/_test/settings")
        def _settings():
            return {name: db.session.execute(text(f"SHOW {name}")).scalar_one()
                    for name in ("statement_timeout", "lock_timeout",
                                 "idle_in_transaction_session_timeout")}

        @limited.get("/_test/settings-table")
        def _count_settings():
            return str(db.session.execute(text("SELECT count(*) FROM platform_settings"))
                       .scalar_one())

        made.append(limited)
        return limited

    yield make
    for limited in made:
        with limited.app_context():
            db.engine.dispose()


def test_postgres_urls_get_the_limits_sqlite_urls_nothing():
    config = {"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://u@h/d",
              "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True,
                                            "connect_args": {"options": "-c search_path=x"}},
              "DB_STATEMENT_TIMEOUT_MS": 15000, "DB_LOCK_TIMEOUT_MS": 5000,
              "DB_IDLE_IN_TRANSACTION_TIMEOUT_MS": 0}
    database_time_limits(config)
    options = config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["pool_pre_ping"] is True
    assert options["connect_args"]["options"] == (
        "-c search_path=x -c statement_timeout=15000 -c lock_timeout=5000 "
        "-c idle_in_transaction_session_timeout=0")
    sqlite = {"SQLALCHEMY_DATABASE_URI": "sqlite:///x.sqlite",
              "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True}, "DB_STATEMENT_TIMEOUT_MS": 1}
    database_time_limits(sqlite)
    assert sqlite["SQLALCHEMY_ENGINE_OPTIONS"] == {"pool_pre_ping": True}


@postgres_only
def test_every_connection_has_the_default_limits(app_ctx):
    # the suite's app: no DB_*_TIMEOUT_MS in the environment, so the defaults
    assert db.session.execute(text("SHOW statement_timeout")).scalar_one() == "15s"
    assert db.session.execute(text("SHOW lock_timeout")).scalar_one() == "5s"
    assert db.session.execute(
        text("SHOW idle_in_transaction_session_timeout")).scalar_one() == "5min"


@postgres_only
def test_a_request_sees_the_configured_limits(timed):
    client = timed(DB_STATEMENT_TIMEOUT_MS=1500, DB_LOCK_TIMEOUT_MS=700,
                   DB_IDLE_IN_TRANSACTION_TIMEOUT_MS=0).test_client()
    assert client.get("/_test/settings").get_json() == {
        "statement_timeout": "1500ms", "lock_timeout": "700ms",
        "idle_in_transaction_session_timeout": "0"}


@postgres_only
def test_a_statement_over_the_limit_is_cancelled_and_the_page_says_so(timed, caplog):
    client = timed(DB_STATEMENT_TIMEOUT_MS=300).test_client()
    with caplog.at_level("WARNING", logger="innolab.errors"):
        response = client.get("/_test/sleep/5")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    page = response.get_data(as_text=True)
    assert "Vorübergehend nicht verfügbar" in page
    assert "Die Anfrage hat zu lange gedauert und wurde abgebrochen" in page
    assert response.headers["X-Request-ID"] in page  # the Vorgangsnummer to quote
    assert "Database statement cancelled on GET /_test/sleep/5 (57014)" in caplog.text

    english = client.get("/_test/sleep/5", headers={"Accept-Language": "en"})
    assert english.status_code == 503
    text_en = english.get_data(as_text=True)
    assert "The request took too long and was cancelled" in text_en
    assert "lang=\"en\"" in text_en

    # the connection is fine afterwards: a short statement goes through
    assert client.get("/_test/sleep/0.01").get_data(as_text=True) == "ausgeschlafen"


@postgres_only
def test_waiting_too_long_for_a_lock_gives_the_same_page(timed, app):
    client = timed(DB_LOCK_TIMEOUT_MS=200, DB_STATEMENT_TIMEOUT_MS=10000).test_client()
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    other = create_engine(url)
    try:
        with other.connect() as holder:
            holder.execute(text("LOCK TABLE platform_settings IN ACCESS EXCLUSIVE MODE"))
            response = client.get("/_test/settings-table")
            holder.rollback()
        assert response.status_code == 503
        assert "Die Anfrage hat zu lange gedauert" in response.get_data(as_text=True)
    finally:
        other.dispose()
    assert client.get("/_test/settings-table").get_data(as_text=True) == "0"
