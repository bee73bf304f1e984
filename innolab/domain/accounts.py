"""Passwords and signed, single-purpose tokens for mail links."""
from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select

from ..extensions import db
from ..models import User

_hasher = PasswordHasher()

# An argon2 hash of a random string: checking a password for an unknown address
# costs as much as for a known one, so timing does not reveal which addresses exist.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

MIN_PASSWORD_LENGTH = 12


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(user: User | None, password: str) -> bool:
    stored = user.password_hash if user is not None and user.password_hash else _DUMMY_HASH
    try:
        ok = _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
    if ok and user is not None and user.password_hash and _hasher.check_needs_rehash(stored):
        user.password_hash = _hasher.hash(password)
    return ok and user is not None and bool(user.password_hash)


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def user_by_email(email: str) -> User | None:
    return db.session.execute(
        select(User).where(func.lower(User.email) == normalise_email(email))
    ).scalar_one_or_none()


# ------------------------------------------------------------ tokens in mail links

MAX_AGE = {"confirm": 7 * 24 * 3600, "reset": 2 * 3600, "staff-invite": 7 * 24 * 3600}


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"innolab-{purpose}")


def _fingerprint(user: User) -> str:
    """Changes when the password or the email changes, so a used link stops working."""
    raw = f"{user.password_hash or ''}|{user.email}|{user.email_confirmed_at or ''}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


fingerprint = _fingerprint  # for other signed links of the account (domain/registration.py)


def make_token(purpose: str, user: User) -> str:
    return _serializer(purpose).dumps({"u": user.id, "f": _fingerprint(user)})


def read_token(purpose: str, token: str) -> User | None:
    """The user a valid, unused, unexpired token belongs to, else None."""
    try:
        data = _serializer(purpose).loads(token, max_age=MAX_AGE[purpose])
    except (BadSignature, SignatureExpired):
        return None
    if not isinstance(data, dict):
        return None
    user = db.session.get(User, data.get("u"))
    if user is None or data.get("f") != _fingerprint(user):
        return None
    return user


def random_token() -> tuple[str, str]:
    """A random token for a link, and the hash of it that is stored."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
