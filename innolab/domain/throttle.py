"""Back-off after failed sign-ins, per account and per client address.

There is no lock an attacker could trigger: after `free` failures in a row, the next attempt
for that account (or from that address) is only looked at after a wait that doubles with each
further failure (2, 4, 8 … seconds, at most MAX_DELAY). An attempt during the wait is not
checked at all, the right password included, and gets the same answer ("please wait N
seconds"), so guessing gets no faster by sending more. The owner is never shut out for long
and can always set a new password through the mail link (`clear_account` on reset); a
successful sign-in clears the account's counter, a day without failures forgets it.

The counters are rows of `sign_in_throttles`, so every web process counts the same; the keys
are hashes, the table holds neither addresses nor IPs in the clear.
"""
from __future__ import annotations

import hashlib
import math
from datetime import timedelta

from sqlalchemy import case, delete, select, update
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import SignInThrottle
from ..models._base import utcnow
from . import audit
from .accounts import normalise_email

ACCOUNT_FREE_FAILURES = 5    # failures for one account before the first wait
ADDRESS_FREE_FAILURES = 20   # failures from one client address (over all accounts)
MAX_DELAY = 15 * 60          # seconds
FORGET_AFTER = timedelta(days=1)


def delay(failures: int, free: int) -> int:
    """Seconds to wait after `failures` failures in a row: 0, then 2, 4, 8 … up to MAX_DELAY."""
    if failures < free:
        return 0
    return min(2 ** min(failures - free + 1, 20), MAX_DELAY)


def _hash(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


def _keys(email: str) -> list[tuple[str, int]]:
    keys = [(_hash("account", normalise_email(email)[:254]), ACCOUNT_FREE_FAILURES)]
    ip = audit.client_ip.get()
    if ip:
        keys.append((_hash("address", ip), ADDRESS_FREE_FAILURES))
    return keys


def wait_seconds(email: str) -> int:
    """How long the next sign-in for `email` from this client must wait (0: not at all)."""
    keys = [k for k, _ in _keys(email)]
    now = utcnow()
    until = db.session.execute(
        select(SignInThrottle.blocked_until).where(SignInThrottle.key.in_(keys),
                                                   SignInThrottle.blocked_until > now)
    ).scalars().all()
    if not until:
        return 0
    return max(1, math.ceil(max((u - now).total_seconds() for u in until if u is not None)))


def failed(email: str) -> None:
    """Count a failed sign-in for the account and the client address."""
    now = utcnow()
    db.session.execute(delete(SignInThrottle).where(
        SignInThrottle.last_failure_at < now - FORGET_AFTER,
        (SignInThrottle.blocked_until.is_(None)) | (SignInThrottle.blocked_until < now)))
    for key, free in _keys(email):
        failures = _count(key, now)
        wait = delay(failures, free)
        if wait:
            db.session.execute(
                update(SignInThrottle).where(SignInThrottle.key == key)
                .values(blocked_until=now + timedelta(seconds=wait))
                .execution_options(synchronize_session=False))


def _count(key: str, now) -> int:
    """Add one failure to `key` (atomically, also when two requests fail at once)."""
    bump = (
        update(SignInThrottle).where(SignInThrottle.key == key)
        .values(failures=case((SignInThrottle.last_failure_at < now - FORGET_AFTER, 1),
                              else_=SignInThrottle.failures + 1),
                last_failure_at=now)
        .returning(SignInThrottle.failures)
        .execution_options(synchronize_session=False))
    failures = db.session.execute(bump).scalar_one_or_none()
    if failures is not None:
        return failures
    try:
        with db.session.begin_nested():
            db.session.add(SignInThrottle(key=key, failures=1, last_failure_at=now))
        return 1
    except IntegrityError:  # another request made the row just now
        return db.session.execute(bump).scalar_one()


def clear_account(email: str) -> None:
    """Forget the failures of the account (signed in, or a new password set by mail)."""
    db.session.execute(
        delete(SignInThrottle).where(SignInThrottle.key == _hash("account",
                                                                 normalise_email(email)[:254]))
        .execution_options(synchronize_session=False))
