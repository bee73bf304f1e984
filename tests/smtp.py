"""A real SMTP server (aiosmtpd) for tests that send mail, and the `smtp` fixture's parts."""
from __future__ import annotations

import contextlib
import socket
import threading
import time
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller


class Inbox:
    """What the server received; `refuse[address] = "550 …"` makes it reject a recipient."""

    def __init__(self):
        self.messages = []
        self.refuse: dict[str, str] = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content,
                                                                   policy=policy.default)))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SMTPServer:
    """A real SMTP server on a loopback port that can be stopped and started again."""

    def __init__(self):
        self.inbox = Inbox()
        self.port = free_port()
        self.controller = None

    def start(self):
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def running_server(app):
    """Start a server and point the app at it; returns (server, restore)."""
    server = SMTPServer()
    server.start()
    old = app.config["SMTP_HOST"], app.config["SMTP_PORT"]
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=server.port)

    def restore():
        app.config.update(SMTP_HOST=old[0], SMTP_PORT=old[1])
        server.stop()

    return server, restore


class Tarpit:
    """A mail server that accepts connections and never answers (not even the greeting)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.connections: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, name="smtp-tarpit", daemon=True)
        self._thread.start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:  # closed
                return
            self.connections.append(conn)  # held open, never written to

    def close(self):
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accept() above
        self.sock.close()
        for conn in self.connections:
            conn.close()


def wait_for(condition, timeout: float, interval: float = 0.05):
    """Poll `condition()` until it is true (returns it) or `timeout` seconds passed (None)."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result or time.monotonic() > deadline:
            return result or None
        time.sleep(interval)
