"""Server-side sessions: every signed-in browser is a row the person can see and end.

The session cookie (signed by Flask) carries a random token as Flask-Login's id; the table
keeps only its SHA-256 (`user_sessions.token_hash`). A session counts while it is not ended,
was used within SESSION_IDLE_MINUTES and started less than SESSION_LIFETIME_MINUTES ago, and
its person is active. Ending a session (signing out, "Auf diesem Gerät abmelden", a new
password, deactivation …) sets `ended_at`: the cookie, and every copy of it, stops working
at the next request on every device. Ended and expired rows are deleted by the worker a day
later (`prune`).

The time comes from `clock()` only, so tests can move it.
"""
from __future__ import annotations

import enum
import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, or_, select, update

from innolab.i18n import lazy_gettext as _l

from ..extensions import db, rows_changed
from ..models import User, UserSession
from ..models._base import utcnow
from . import audit, identities  # looked up when called

TOUCH_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often
KEEP = timedelta(days=1)            # ended or expired rows are kept this long, then pruned
USER_AGENT_MAX = 300


def clock() -> datetime:
    """Now. The one source of time of this module (tests replace it)."""
    return utcnow()


def idle_limit() -> timedelta:
    return timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])


def absolute_limit() -> timedelta:
    return timedelta(seconds=current_app.config["PERMANENT_SESSION_LIFETIME"])


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(user: User, method: str, *, second_factor: bool = False,
                 client_address: str | None = None,
                 user_agent: str | None = None) -> tuple[str, UserSession]:
    """A new session row for `user`; returns the raw token (for the cookie) and the row."""
    token = secrets.token_urlsafe(32)
    now = clock()
    row = UserSession(user_id=user.id, token_hash=hash_token(token), created_at=now,
                      last_seen_at=now, method=(method or "password")[:60],
                      second_factor=bool(second_factor),
                      client_address=(client_address or None) and client_address[:45],
                      user_agent=(user_agent or "")[:USER_AGENT_MAX] or None)
    db.session.add(row)
    db.session.flush()
    return token, row


class State(enum.Enum):
    ACTIVE = "active"
    UNKNOWN = "unknown"    # no such token (never was, or pruned)
    ENDED = "ended"        # signed out, ended on another device, password changed …
    IDLE = "idle"          # not used for SESSION_IDLE_MINUTES
    EXPIRED = "expired"    # older than SESSION_LIFETIME_MINUTES
    INACTIVE = "inactive"  # the account is deactivated

    @property
    def timed_out(self) -> bool:
        return self in (State.IDLE, State.EXPIRED)


@dataclass
class Lookup:
    state: State
    row: UserSession | None = None
    user: User | None = None


def _state(row: UserSession, user: User | None, now: datetime) -> State:
    if row.ended_at is not None:
        return State.ENDED
    if user is None or not user.active:
        return State.INACTIVE
    if now - row.created_at > absolute_limit():
        return State.EXPIRED
    if now - row.last_seen_at > idle_limit():
        return State.IDLE
    return State.ACTIVE


def lookup(token: str | None) -> Lookup:
    """The session of a cookie's token and whether it still counts.

    A session found idle or too old is ended here (reason "idle" / "expired"), so it leaves
    the person's list at once. An active one gets its `last_seen_at` moved on, at most once
    per TOUCH_EVERY (no write per request). Commits only when it wrote something, which the
    caller must allow: the web layer asks at the start of the request, before any change.
    """
    if not token or not isinstance(token, str) or len(token) > 200:
        return Lookup(State.UNKNOWN)
    found = db.session.execute(
        select(UserSession, User).join(User, User.id == UserSession.user_id)
        .where(UserSession.token_hash == hash_token(token))).first()
    if found is None:
        return Lookup(State.UNKNOWN)
    row, user = found
    now = clock()
    state = _state(row, user, now)
    if state.timed_out:
        db.session.execute(
            update(UserSession).where(UserSession.id == row.id, UserSession.ended_at.is_(None))
            .values(ended_at=now, end_reason=state.value)
            .execution_options(synchronize_session=False))
        audit.record(user, "session.timeout", user, session=row.id, reason=state.value)
        db.session.commit()
        return Lookup(state, row, user)
    if state is not State.ACTIVE:
        return Lookup(state, row, user)
    if now - row.last_seen_at >= TOUCH_EVERY:
        # Conditional: two requests at once write once; never moves the time back.
        db.session.execute(
            update(UserSession).where(UserSession.id == row.id,
                                      UserSession.last_seen_at < now - TOUCH_EVERY / 2)
            .values(last_seen_at=now).execution_options(synchronize_session=False))
        db.session.commit()
    return Lookup(State.ACTIVE, row, user)


def end_by_token(token: str | None, reason: str) -> UserSession | None:
    """End the session of this token (signing out); returns its row, if there was one."""
    if not token or not isinstance(token, str):
        return None
    row = db.session.execute(select(UserSession).where(
        UserSession.token_hash == hash_token(token))).scalar_one_or_none()
    if row is not None and row.ended_at is None:
        row.ended_at = clock()
        row.end_reason = reason[:30]
    return row


def _active(user_id: int):
    now = clock()
    return (UserSession.user_id == user_id, UserSession.ended_at.is_(None),
            UserSession.last_seen_at >= now - idle_limit(),
            UserSession.created_at >= now - absolute_limit())


def active_sessions(user: User) -> list[UserSession]:
    """The person's sessions that still count, the most recently used first."""
    return list(db.session.execute(
        select(UserSession).where(*_active(user.id))
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())).scalars())


class NotYours(Exception):
    """No active session with this id belongs to the person (ended already, or another's)."""


def end_one(user: User, session_id: int, current_id: int | None) -> UserSession:
    """The person ends one of their sessions ("Auf diesem Gerät abmelden"). Audited."""
    row = db.session.get(UserSession, session_id)
    if row is None or row.user_id != user.id or row.ended_at is not None:
        raise NotYours()
    row.ended_at = clock()
    row.end_reason = "ended"
    audit.record(user, "session.end", user, session=row.id, current=row.id == current_id,
                 method=row.method)
    return row


def end_others(user: User, current_id: int | None) -> int:
    """End every session of the person but this one ("Alle anderen Geräte abmelden")."""
    stmt = (update(UserSession)
            .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
            .values(ended_at=clock(), end_reason="others")
            .execution_options(synchronize_session=False))
    if current_id is not None:
        stmt = stmt.where(UserSession.id != current_id)
    count = rows_changed(stmt)
    audit.record(user, "session.end_others", user, ended=count)
    return count


def end_all_by_admin(actor: User, user: User) -> int:
    """An admin signs the person out on every device (e.g. a lost laptop)."""
    count = len(active_sessions(user))
    user.end_all_sessions("admin")
    audit.record(actor, "session.end_all_by_admin", user, ended=count)
    return count


def prune(now: datetime | None = None) -> int:
    """Delete sessions that ended, went idle or ran out more than KEEP ago (worker)."""
    now = now or clock()
    count = rows_changed(delete(UserSession).where(or_(
        UserSession.ended_at < now - KEEP,
        UserSession.last_seen_at < now - idle_limit() - KEEP,
        UserSession.created_at < now - absolute_limit() - KEEP,
    )).execution_options(synchronize_session=False))
    db.session.commit()
    return count


# ------------------------------------------------------------------ for the page

_BROWSERS = (  # order matters: Edge and Opera say "Chrome" too, Chrome says "Safari"
    ("Edge", re.compile(r"Edg(?:e|A|iOS)?/")),
    ("Opera", re.compile(r"OPR/|Opera")),
    ("Samsung Internet", re.compile(r"SamsungBrowser/")),
    ("Firefox", re.compile(r"Firefox/|FxiOS/")),
    ("Chromium", re.compile(r"Chromium/")),
    ("Chrome", re.compile(r"Chrome/|CriOS/")),
    ("Safari", re.compile(r"Safari/")),
)
_SYSTEMS = (
    ("Android", re.compile(r"Android")),
    ("iOS", re.compile(r"iPhone|iPad|iPod")),
    ("Windows", re.compile(r"Windows")),
    ("macOS", re.compile(r"Macintosh|Mac OS X")),
    ("ChromeOS", re.compile(r"CrOS")),
    ("Linux", re.compile(r"Linux|X11")),
)
UNKNOWN_DEVICE = _l("Unbekanntes Gerät")


def describe_device(user_agent: str | None) -> str:
    """"Firefox auf Windows" from a User-Agent header: browser family and system, no more."""
    ua = user_agent or ""
    browser = next((name for name, pattern in _BROWSERS if pattern.search(ua)), None)
    system = next((name for name, pattern in _SYSTEMS if pattern.search(ua)), None)
    if browser and system:
        return str(_l("%(browser)s auf %(system)s", browser=browser, system=system))
    return browser or system or str(UNKNOWN_DEVICE)


def describe_method(method: str | None) -> str:
    """How the session was signed in, for the person."""
    method = method or ""
    if method.startswith("provider:"):
        provider = identities.get_provider(method.split(":", 1)[1])
        name = provider.display_name if provider else method.split(":", 1)[1]
        return str(_l("über %(provider)s", provider=name))
    labels = {"password": _l("mit Passwort"),
              "reset_link": _l("über einen Link zum Festlegen des Passworts"),
              "staff_invitation": _l("über eine Einladung")}
    return str(labels.get(method, method or _l("mit Passwort")))
