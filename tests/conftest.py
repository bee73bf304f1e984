"""Shared fixtures: the app on SQLite (default) or PostgreSQL (TEST_DATABASE_URL).

The suite runs in parallel processes (pytest-xdist, `make test`): each worker gets a
PostgreSQL database of its own, `<TEST_DATABASE_URL's database>_<worker>`, made here before
any test module reads TEST_DATABASE_URL (SQLite files are per worker anyway).
"""
from __future__ import annotations

import os
import time

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url



from innolab import create_app
from innolab.extensions import db as _db
from tests.client import IsolatedClient
from innolab.config import _database_url as normalise
from argon2 import PasswordHasher
from innolab.domain import accounts
from innolab.extensions import limiter
from flask import has_app_context
from innolab.models import OutboxMail, User
from innolab.web import RECENT_AUTH_KEY, SECOND_FACTOR_KEY, SIGN_IN_METHOD_KEY
from tests import factories


def _database_of_this_worker() -> None:
    worker, base = os.environ.get("PYTEST_XDIST_WORKER"), os.environ.get("TEST_DATABASE_URL")
    if not worker or not base:
        return
    url = make_url(base)
    if url.database and url.database.endswith(f"_{worker}"):
        return  # already this worker's (the module is imported once per process)
    mine = url.set(database=f"{url.database}_{worker}")
    driver = url.set(drivername="postgresql+psycopg").set(database="postgres")
    admin = create_engine(driver, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                              {"n": mine.database}).first()
        if exists is None:
            conn.execute(text(f'CREATE DATABASE "{mine.database}"'))
    admin.dispose()
    os.environ["TEST_DATABASE_URL"] = mine.render_as_string(hide_password=False)


_database_of_this_worker()


def _database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite")



# Files whose tests are each a crawl of the whole site as one person: their tests are spread
# over the workers by that person (the `who` or `role` parameter), not kept in one process.
SPREAD_BY_PERSON = {"tests/integration/test_every_route.py",
                    "tests/integration/test_conflict_channels.py"}


def pytest_collection_modifyitems(items):
    """`make test` runs `--dist loadgroup`: a file's tests stay in one process (its module
    fixtures with them), except in SPREAD_BY_PERSON, where each person's tests do."""
    for item in items:
        group = item.nodeid.split("::")[0]
        params = getattr(getattr(item, "callspec", None), "params", {})
        person = params.get("who") or params.get("role")
        if group in SPREAD_BY_PERSON and person:
            group = f"{group}::{person}"
        item.add_marker(pytest.mark.xdist_group(group))

@pytest.fixture(scope="session")
def app(tmp_path_factory):
    uploads = tmp_path_factory.mktemp("uploads")
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": normalise(_database_url(tmp_path_factory)),
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "UPLOAD_FOLDER": str(uploads),
        "DATA_EXPORT_FOLDER": str(tmp_path_factory.mktemp("exports")),
        "SMTP_HOST": "",
        "SERVER_NAME": None,
        # Mail waits in the outbox until a test delivers it; the tests of the delivery after
        # the response switch it on.
        "MAIL_SEND_AFTER_REQUEST": False,
        # The suite's staff sign in without a second factor; the MFA tests switch it on.
        "MFA_ENFORCE_ENROLMENT": False,
    })
    app.test_client_class = IsolatedClient
    with app.app_context():
        _db.drop_all()
        _reset_postgres_leftovers()
        _db.create_all()
    yield app
    with app.app_context():
        _db.drop_all()


def _reset_postgres_leftovers():
    """An aborted earlier run may leave Alembic's table behind on PostgreSQL."""
    if _db.engine.dialect.name == "postgresql":
        with _db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hashing():
    """Cheap argon2 parameters in every test: the real ones cost most of a second per hash.

    The code paths stay the same (argon2 hash, verify, the dummy hash for unknown users); the
    factories' password is hashed with them too (lazily, on first use).
    """


    saved = accounts._hasher, accounts._DUMMY_HASH
    accounts._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    accounts._DUMMY_HASH = accounts._hasher.hash("dummy")
    yield
    accounts._hasher, accounts._DUMMY_HASH = saved


@pytest.fixture(autouse=True)
def _clean_tables(app):
    """Every test starts with empty tables (works the same on SQLite and PostgreSQL)."""
    yield
    with app.app_context():
        _db.session.remove()
        with _db.engine.begin() as conn:
            for table in reversed(_db.metadata.sorted_tables):
                conn.execute(table.delete())
        # the limiter counts in memory; start each test fresh

        if app.config["RATELIMIT_ENABLED"]:
            limiter.reset()


@pytest.fixture
def app_ctx(app):
    with app.test_request_context():
        yield app


@pytest.fixture
def client(app):
    """The test client: every request in a context of its own (tests/client.py)."""
    return app.test_client()


@pytest.fixture
def new_client(app):
    """new_client() – another browser: a client with cookies of its own."""
    return app.test_client


@pytest.fixture
def login(client):
    """login(user) signs the test client in as `user` (as a session cookie would)."""

    def _login(user, c=None, recent=True):
        """`user` is a User, or the token of a session made with factories.session_token.
        As after signing in, the session counts as recently authenticated (unless `recent`
        is False)."""
        c = c or client
        if isinstance(user, str):
            token = user
        elif has_app_context():
            token = factories.session_token(user)
        else:
            with c.application.app_context():
                token = factories.session_token(_db.session.get(User, user.id))
        with c.session_transaction() as session:
            session["_user_id"] = token
            session["_fresh"] = True
            # as start_session leaves it after a full sign-in (with a second factor)
            session[SIGN_IN_METHOD_KEY] = "password"
            session[SECOND_FACTOR_KEY] = True
            if recent:
                session[RECENT_AUTH_KEY] = int(time.time())
        return c

    return _login


@pytest.fixture
def outbox(app):
    """outbox() returns the mails queued so far."""

    def _outbox(recipient: str | None = None):
        q = _db.session.query(OutboxMail).order_by(OutboxMail.id)
        if recipient:
            q = q.filter(OutboxMail.recipient == recipient)
        return q.all()

    return _outbox
