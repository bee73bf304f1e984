"""Database look-ups for the oidc tests, each in an app context of its own.

Never keep an app context open around test-client requests: Flask reuses it for the
request, and Flask-Login's cached user would then leak from one test client to another.
"""
from __future__ import annotations

from sqlalchemy import select

from innolab.domain import sessions
from innolab.extensions import db
from innolab.models import AuditEvent, ExternalIdentity, User


class Db:
    def __init__(self, app):
        self.app = app

    def ctx(self):
        return self.app.app_context()

    def users(self, email=None) -> list[User]:
        with self.ctx():
            q = select(User).order_by(User.id)
            if email:
                q = q.where(User.email == email)
            return list(db.session.execute(q).scalars())

    def user(self, user_id) -> User:
        with self.ctx():
            return db.session.get(User, user_id)

    def identities(self, user_id=None) -> list[ExternalIdentity]:
        with self.ctx():
            q = select(ExternalIdentity).order_by(ExternalIdentity.id)
            if user_id:
                q = q.where(ExternalIdentity.user_id == user_id)
            return list(db.session.execute(q).scalars())

    def audit(self, action) -> list[AuditEvent]:
        with self.ctx():
            return list(db.session.execute(
                select(AuditEvent).where(AuditEvent.action == action)).scalars())

    def signed_in(self, client) -> User | None:
        with client.session_transaction() as s:
            token = s.get("_user_id")
        if not token:
            return None
        with self.ctx():
            return sessions.lookup(token).user

    def make(self, factory, *args, **kw):
        """A tests.factories object, by id."""
        from tests import factories

        with self.ctx():
            return getattr(factories, factory)(*args, **kw).id
