"""Delivery after the response: one background thread per process, woken after a request that
queued mail.

The request never waits for the mail server: the hook in `innolab.create_app` only sets an
event once the response went out. The thread delivers what is due (`mailer.deliver_all`) with
the short SMTP_TIMEOUT, then sleeps until the next wake-up. Whatever it cannot send stays in
the outbox for the next wake-up or the worker. In production (INNOLAB_ENV=production) this is
off by default and the worker delivers (`MAIL_SEND_AFTER_REQUEST`).
"""
from __future__ import annotations

import logging
import os
import threading

from flask import Flask

from .. import links
from ..domain.mailer import deliver_all
from ..extensions import db

log = logging.getLogger("innolab.mail")

_EXTENSION = "innolab_mail_delivery"


class DeliveryThread:
    """The app's delivery thread in this process, started at the first wake-up.

    A forked process (e.g. a gunicorn worker after --preload) starts its own thread: the
    process id is checked on every wake-up.
    """

    def __init__(self, app: Flask):
        self.app = app
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()

    def wake(self) -> None:
        with self._lock:
            if self._pid != os.getpid() or self._thread is None or not self._thread.is_alive():
                self._pid = os.getpid()
                self._wake = threading.Event()
                self._thread = threading.Thread(target=self._run, args=(self._wake,),
                                                name="innolab-mail-delivery", daemon=True)
                self._thread.start()
            self._wake.set()

    def _run(self, wake: threading.Event) -> None:
        while True:
            wake.wait()
            wake.clear()  # a wake-up during the delivery below means one more round
            self._deliver()

    def _deliver(self) -> None:
        app = self.app
        try:
            with links.command_context(app):
                try:
                    deliver_all()
                except Exception:  # the mail stays in the outbox for the next run
                    db.session.rollback()
                    log.exception("Outbox delivery failed")
                finally:
                    db.session.remove()
        except Exception:  # noqa: BLE001 - the thread must live on for the next wake-up
            log.exception("Outbox delivery thread")


def delivery_thread(app: Flask) -> DeliveryThread:
    thread = app.extensions.get(_EXTENSION)
    if thread is None:
        thread = app.extensions.setdefault(_EXTENSION, DeliveryThread(app))
    return thread
