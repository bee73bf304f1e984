"""The test client every test uses: each request runs in a context of its own.

Flask's plain test client reuses the app context a test has pushed (`app_ctx`), so `g` – where
Flask-Login keeps the signed-in user and Flask-Babel the locale – and the database session would
be shared with the test and carried from one request to the next, as no real server does. Here
every request starts from an empty context (its own app context, `g` and database session);
afterwards the test's session forgets what it had loaded, so it reads what the request
committed.
"""
from __future__ import annotations

import contextvars

from flask import has_app_context
from flask.testing import FlaskClient

from innolab.extensions import db


class IsolatedClient(FlaskClient):
    def open(self, *args, **kwargs):
        response = contextvars.Context().run(super().open, *args, **kwargs)
        if has_app_context():
            db.session.expire_all()  # the test sees what the request committed
        return response
