"""The Alembic revisions build exactly the schema the models describe, and remove it again."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from innolab import create_app
from innolab.config import _database_url
from innolab.domain import search
from innolab.extensions import db


def test_migrations_upgrade_matches_models_and_downgrade_removes_all(empty_database):
    app = create_app({"SQLALCHEMY_DATABASE_URI": _database_url(empty_database), "TESTING": True,
                      "RATELIMIT_ENABLED": False})
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            diff = compare_metadata(
                MigrationContext.configure(conn, opts={"compare_type": True,
                                                       "include_name": search.include_name}),
                db.metadata
            )
        assert diff == [], f"models and migrations disagree: {diff}"
        tables = set(inspect(db.engine).get_table_names())
        assert {"users", "proposals", "challenges", "audit_events"} <= tables

        downgrade(revision="base")
        remaining = set(inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert remaining == set()
        db.engine.dispose()


def test_migration_gives_every_queued_mail_its_own_message_id(empty_database):
    app = create_app({"SQLALCHEMY_DATABASE_URI": _database_url(empty_database), "TESTING": True,
                      "RATELIMIT_ENABLED": False,
                      "BASE_URL": "https://innolab.zdmv.example"})
    with app.app_context():
        upgrade(revision="d2546e82fe14")
        with db.engine.begin() as conn:
            for n in range(3):
                conn.execute(text(
                    "INSERT INTO outbox_mails (recipient, subject, body_text, kind, created_at,"
                    " next_attempt_at, attempts) VALUES (:r, 'Betreff', 'Text', 'general',"
                    " '2026-12-01 10:00:00', '2026-12-01 10:00:00', 0)"),
                {"r": f"p{n}@example.org"})
        upgrade()
        with db.engine.connect() as conn:
            ids = conn.execute(text("SELECT message_id FROM outbox_mails")).scalars().all()
        assert len(ids) == 3 and len(set(ids)) == 3
        assert all(i.startswith("<") and i.endswith("@innolab.zdmv.example>") for i in ids)
        downgrade(revision="base")
        db.engine.dispose()


def test_migration_marks_provider_roles_and_identities_linked_while_unconfirmed(empty_database):
    app = create_app({"SQLALCHEMY_DATABASE_URI": _database_url(empty_database), "TESTING": True,
                      "RATELIMIT_ENABLED": False})
    with app.app_context():
        upgrade(revision="7a1c0e5d2f10")
        with db.engine.begin() as conn:
            for uid, confirmed in ((1, "'2026-12-01 10:00:00'"), (2, "NULL")):
                conn.execute(text(
                    "INSERT INTO users (id, email, name, locale, email_confirmed_at, active,"
                    f" session_token, created_at) VALUES ({uid}, 'u{uid}@example.org', 'U',"
                    f" 'de', {confirmed}, :t, 'token-{uid}', '2026-12-01 10:00:00')"),
                    {"t": True})
                conn.execute(text(
                    "INSERT INTO external_identities (user_id, provider, subject, created_at)"
                    f" VALUES ({uid}, 'land', 's{uid}', '2026-12-01 10:00:00')"))
            for role in ("reviewer", "dpo"):
                conn.execute(text(
                    "INSERT INTO user_roles (user_id, role, granted_at) VALUES"
                    f" (1, '{role}', '2026-12-01 10:00:00')"))
            conn.execute(text(
                "INSERT INTO audit_events (created_at, action, object_type, object_id, details)"
                " VALUES ('2026-12-01 10:00:00', 'user.role_granted', 'users', 1,"
                " '{\"role\": \"reviewer\", \"source\": \"oidc:zdmv\"}')"))
        upgrade(revision="d7a6e1f2b476")  # the last revision with users.session_token
        with db.engine.connect() as conn:
            sources = dict(conn.execute(text("SELECT role, source FROM user_roles")).all())
            unconfirmed = dict(conn.execute(text(
                "SELECT user_id, unconfirmed FROM external_identities")).all())
            tokens = dict(conn.execute(text("SELECT id, session_token FROM users")).all())
        assert sources == {"reviewer": "provider:zdmv", "dpo": "admin"}
        assert {k: bool(v) for k, v in unconfirmed.items()} == {1: False, 2: True}
        assert tokens[1] == "token-1" and tokens[2] != "token-2"
        downgrade(revision="base")
        db.engine.dispose()
