"""Whether what the pages show has changed: noticed at every commit, told to this process at
once and to every other process through one marker row in the database.

A commit that adds, changes or deletes a row of any model but the QUIET ones (sessions, the
audit trail, mail, notifications …: nothing a page derives a figure from) counts as a change,
and so do UPDATE and DELETE statements run through the session (retention, bulk changes).
Such a commit

1. gives the `change_markers` row a new random value, in the same transaction, just before it
   commits: the new value becomes visible together with the change, or not at all;
2. then runs the hooks registered with `on_change` in this process (the page cache empties
   itself).

`marker()` reads that value (one statement). A figure worked out from the data and kept with
the marker read before it (the header's task count, `domain/tasks.py`) is still right for as
long as the marker reads the same, in any process: a process that reads the new value sees
the change. Committing transactions queue for the one row only from that update to their
commit, the last moment of the transaction (on SQLite every write queues anyway). A change made
outside the app (SQL by hand, a restore) writes no marker: what is kept under a marker also
expires.

A new model counts as shown unless it is added to QUIET, so it is safe by default.
"""
from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from sqlalchemy import event, insert, select, update
from sqlalchemy.orm import Session

from ..extensions import db
from ..models._base import utcnow
from ..models import (
    AuditEvent, ChangeMarker, DataExport, EditSnapshot, FormReceipt, MailSend, Notification,
    NotificationPreference, OutboxMail, RecoveryCode, RetentionNotice, SecondFactor,
    SignInThrottle, UserSession,
)

# What no page derives a figure from: a commit that changes only these is no change.
QUIET = (AuditEvent, ChangeMarker, DataExport, EditSnapshot, FormReceipt, MailSend, Notification,
         NotificationPreference, OutboxMail, RecoveryCode, RetentionNotice, SecondFactor,
         SignInThrottle, UserSession)

_CHANGED = "innolab_changed"
_HOOKS: list[Callable[[], None]] = []


def on_change(hook: Callable[[], None]) -> None:
    """Call `hook()` in this process after each commit that changed what pages show."""
    if hook not in _HOOKS:
        _HOOKS.append(hook)


_MARKER = "innolab_marker"


def marker() -> str | None:
    """The value written after the last change (None before the first one), read once per
    transaction of the session (again after a commit or a rollback)."""
    info = db.session.info
    if _MARKER not in info:
        info[_MARKER] = db.session.execute(
            select(ChangeMarker.value).where(ChangeMarker.id == 1)).scalar()
    return info[_MARKER]


def derived(kept: Kept[V], key: Hashable, work_out: Callable[[], V]) -> V:
    """`work_out()`, kept in `kept` under `key` and the marker read before it: the same value
    again while the marker reads the same (in this process; each process keeps its own)."""
    mark = marker()  # read first: a change after it writes a new one
    found = kept.get((key, mark)) if mark is not None else None
    if found is not None:
        return found
    value = work_out()
    if mark is not None:
        kept.put((key, mark), value)
    return value


def write_marker(session: Session) -> None:
    """A new marker value, in the session's transaction."""
    values = {"value": secrets.token_hex(16), "changed_at": utcnow()}
    if not session.execute(update(ChangeMarker).where(ChangeMarker.id == 1)
                           .values(**values)).rowcount:  # type: ignore[attr-defined]
        session.execute(insert(ChangeMarker).values(id=1, **values))


V = TypeVar("V")


class Kept(Generic[V]):
    """A bounded LRU of values with a lifetime, shared by the threads of a process (the page
    cache, the task counts kept under a marker)."""

    def __init__(self, seconds: float, size: int):
        self.seconds, self.size = seconds, size
        self._values: OrderedDict[Hashable, tuple[V, float]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            kept = self._values.get(key)
            if kept is None or kept[1] < time.monotonic():
                self._values.pop(key, None)
                self.misses += 1
                return None
            self._values.move_to_end(key)
            self.hits += 1
            return kept[0]

    def put(self, key: Hashable, value: V) -> None:
        with self._lock:
            self._values[key] = (value, time.monotonic() + self.seconds)
            self._values.move_to_end(key)
            while len(self._values) > self.size:
                self._values.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()

    def __len__(self) -> int:
        return len(self._values)


def _quiet(obj) -> bool:
    return isinstance(obj, QUIET)


@event.listens_for(Session, "before_flush")
def _note(session, flush_context=None, instances=None):
    if not session.info.get(_CHANGED) and any(
            not _quiet(o) for o in (*session.new, *session.dirty, *session.deleted)):
        session.info[_CHANGED] = True


@event.listens_for(Session, "do_orm_execute")
def _note_bulk(state):
    # UPDATE/DELETE statements (retention, bulk changes) bypass the flush
    mapper = state.bind_mapper
    if ((state.is_update or state.is_delete) and mapper is not None
            and not issubclass(mapper.class_, QUIET)):
        state.session.info[_CHANGED] = True


@event.listens_for(Session, "before_commit")
def _mark(session):
    session.flush()  # what is still pending notes itself first (before_flush)
    if session.info.get(_CHANGED):
        write_marker(session)


@event.listens_for(Session, "after_commit")
def _commit(session):
    session.info.pop(_MARKER, None)
    if not session.info.pop(_CHANGED, False):
        return
    for hook in list(_HOOKS):
        hook()


@event.listens_for(Session, "after_soft_rollback")
def _rollback(session, previous_transaction):
    session.info.pop(_CHANGED, None)
    session.info.pop(_MARKER, None)
