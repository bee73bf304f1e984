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
import threading
from contextlib import contextmanager

from flask import has_app_context
from werkzeug.serving import make_server
from flask.testing import FlaskClient

from innolab.extensions import db


class IsolatedClient(FlaskClient):
    def open(self, *args, **kwargs):
        response = contextvars.Context().run(super().open, *args, **kwargs)
        if has_app_context():
            db.session.expire_all()  # the test sees what the request committed
        return response


@contextmanager
def serving(app, *, threaded: bool):
    """Serve `app` with werkzeug on a free port of 127.0.0.1 in a thread; yields the base URL.

    `threaded=True` handles requests at the same moment (each in a thread of its own), as several
    gunicorn workers do; `threaded=False` one at a time, like one gunicorn sync worker.
    """
    server = make_server("127.0.0.1", 0, app, threaded=threaded)
    thread = threading.Thread(target=server.serve_forever, name="test-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
