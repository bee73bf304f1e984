"""Fixtures of the integration tests that need more than the test client: a live server, mail
servers that answer or never do."""
from __future__ import annotations

import threading

import pytest

from tests.smtp import SMTPServer, Tarpit


@pytest.fixture
def live_url(app):
    """The test app served by werkzeug on 127.0.0.1 in a thread; yields its base URL.

    The server handles one request at a time, like a gunicorn sync worker: whatever runs after
    a response (on close) keeps the worker from the next request, as it does in production.
    (werkzeug's threaded server would start a fresh thread for every connection and hide it.)
    """
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=False)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


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

