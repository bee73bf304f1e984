"""The Alembic revisions build exactly the schema the models describe, and remove it again."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from innolab import create_app
from innolab.config import _database_url
from innolab.domain import criteria, questions, search
from innolab.domain import review as rv
from innolab.extensions import db
from innolab.models import Challenge, Proposal, Review, ReviewAssignment
from innolab.models._base import utcnow
from tests import factories as f


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


def test_migration_to_criteria_per_challenge_keeps_the_scores_of_existing_reviews(
        empty_database):
    app = create_app({"SQLALCHEMY_DATABASE_URI": _database_url(empty_database), "TESTING": True,
                      "RATELIMIT_ENABLED": False})
    with app.app_context():
        # the rows are written with today's models, then the schema goes back to before
        # challenge_criteria and review_scores, and forward again
        upgrade()
        p = f.proposal(status="in_review", challenge_=f.challenge())
        reviewer = f.staff("reviewer")
        db.session.add(ReviewAssignment(no_conflict_confirmed_at=utcnow(),
                                        proposal_id=p.id, reviewer_id=reviewer.id))
        db.session.add(Review(proposal_id=p.id, reviewer_id=reviewer.id, innovation=5,
                              benefit=4, feasibility=3, cost_effectiveness=2,
                              privacy_security=4, innovation_comment="Neu im Land",
                              recommendation="approve", submitted_at=utcnow()))
        db.session.commit()
        proposal_id = p.id
        db.session.remove()
        downgrade(revision="c1d2e3f4a5b6")
        assert "review_scores" not in set(inspect(db.engine).get_table_names())
        upgrade()
        assert {"challenge_criteria", "review_scores"} <= set(inspect(db.engine).get_table_names())
        review = db.session.query(Review).one()
        assert review.scores["innovation"] == 5 and review.comments["innovation"] == "Neu im Land"
        assert review.score_rows == []
        p = db.session.get(Proposal, proposal_id)
        assert criteria.of_proposal(p) == criteria.DEFAULT_CRITERIA  # no own criteria
        assert criteria.review_total(review, criteria.of_proposal(p)) == 3.6
        assert rv.review_stats_of([proposal_id])[proposal_id].average == 3.6  # in SQL too
        db.session.remove()
        downgrade(revision="base")
        db.engine.dispose()


def test_migration_to_the_confirmation_before_content_asks_every_earlier_reviewer_once(
        empty_database):
    app = create_app({"SQLALCHEMY_DATABASE_URI": _database_url(empty_database), "TESTING": True,
                      "RATELIMIT_ENABLED": False})
    with app.app_context():
        upgrade()
        challenge = f.challenge()
        challenge.reviews_needed = 4
        p = f.proposal(status="in_review", challenge_=challenge)
        reviewer = f.staff("reviewer")
        db.session.add(ReviewAssignment(no_conflict_confirmed_at=utcnow(),
                                        proposal_id=p.id, reviewer_id=reviewer.id))
        db.session.commit()
        challenge_id = challenge.id
        db.session.remove()
        downgrade(revision="d2e3f4a5b6c7")  # before the two columns
        upgrade()
        a = db.session.query(ReviewAssignment).one()
        assert a.no_conflict_confirmed_at is None  # the reviewer confirms before reading on
        assert not a.confirmed
        assert db.session.get(Challenge, challenge_id).reviews_needed == 2  # the default
        db.session.remove()
        downgrade(revision="base")
        db.engine.dispose()


def test_migration_to_questions_per_challenge_adds_the_two_tables_and_removes_them(
        empty_database):
    app = create_app({"SQLALCHEMY_DATABASE_URI": _database_url(empty_database), "TESTING": True,
                      "RATELIMIT_ENABLED": False})
    with app.app_context():
        # a proposal written with today's models; then back to before the two tables, and on
        upgrade()
        p = f.proposal(status="submitted", challenge_=f.challenge())
        proposal_id = p.id
        db.session.remove()
        downgrade(revision="e3f4a5b6c7d8")  # before challenge_questions and proposal_answers
        tables = set(inspect(db.engine).get_table_names())
        assert not {"challenge_questions", "proposal_answers"} & tables
        assert "challenge_criteria" in tables
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {"challenge_questions", "proposal_answers"} <= tables
        p = db.session.get(Proposal, proposal_id)
        assert p.answers == [] and questions.questions_of(p) == []
        assert not any(k.startswith("q") and k[1:].isdigit() for k in p.snapshot())
        db.session.remove()
        downgrade(revision="base")
        db.engine.dispose()
