"""Local accounts: register, confirm the address, sign in, reset and change the password.

No function here ever tells its caller whether an address is known when the answer would
reach someone who has not proven they own it: registering, resending the confirmation and
asking for a reset behave the same for known and unknown addresses (mails differ, pages
do not). The caller commits.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError

from innolab.i18n import DEFAULT_LOCALE, LOCALES
from innolab.i18n import lazy_gettext as _l
from innolab.links import external_url

from ..extensions import db
from ..models import User
from ..models._base import utcnow
from . import audit, mail_limits, mailer, passwords, sessions, terms, throttle
from .accounts import (
    fingerprint, hash_password, make_token, normalise_email, read_token, user_by_email,
    verify_password,
)
from .locking import lock
from .passwords import MAX_PASSWORD_LENGTH  # noqa: F401  (the forms read it from here)
from . import identities  # identities imports this module: names are looked up when called


SUBJECT_CONFIRM = _l("Bitte bestätigen Sie Ihre E-Mail-Adresse")
SUBJECT_ALREADY = _l("Ihr Konto beim InnoLab")
SUBJECT_RESET = _l("Passwort für das InnoLab festlegen")


class PasswordRejected(ValueError):
    """A new password that does not meet the rules; `reason` is for the user."""

    def __init__(self, reason):
        super().__init__(str(reason))
        self.reason = reason


def check_password_rules(password: str, name: str | None = None,
                         email: str | None = None) -> None:
    """Raise PasswordRejected with the reason (see domain/passwords.py) for a weak password."""
    reason = passwords.problem(password, name=name, email=email)
    if reason is not None:
        raise PasswordRejected(reason)


def _set_password(user: User, password: str) -> None:
    check_password_rules(password, name=user.name, email=user.email)
    user.password_hash = hash_password(password)


# ------------------------------------------------------------------ registration

def register(email: str, name: str, password: str, locale: str) -> User | None:
    """Create an account and queue the confirmation mail; returns the new user.

    For an address that already has an account nothing is created; its owner gets a mail
    saying so (with links to sign in or reset the password) and None is returned. The
    caller shows the same page either way.
    """
    email = normalise_email(email)
    check_password_rules(password, name=name, email=email)
    # Hash before the lookup: a known address costs as much time as an unknown one.
    password_hash = hash_password(password)
    existing = user_by_email(email)
    if existing is not None:
        if existing.active and mail_limits.allow(existing.email, "already_registered"):
            mailer.queue(existing, "already_registered", SUBJECT_ALREADY, kind="account",
                         login_url=external_url("auth.login"),
                         forgot_url=external_url("auth.forgot_password"),
                         confirm_url=None if existing.email_confirmed else
                         external_url("auth.confirm", token=make_token("confirm", existing)))
        audit.record(None, "user.register_known_address", existing)
        return None
    user = User(email=email, name=name.strip(), password_hash=password_hash,
                locale=locale if locale in LOCALES else DEFAULT_LOCALE)
    db.session.add(user)
    db.session.flush()
    send_confirmation(user)
    audit.record(user, "user.register", user)
    terms.record_consent(user, via="registration")  # the form's consent checkbox
    return user


def _linked_methods(user: User) -> dict:
    """What the confirmation and reset mails say about the ways into the account."""
    return {"methods": identities.sign_in_methods(user),
            "unconfirmed_links": [i.provider for i in identities.identities_of(user)
                                  if i.unconfirmed]}


def send_confirmation(user: User) -> None:
    """The mail with the confirmation link, unless the address had enough of them today."""
    if not mail_limits.allow(user.email, "confirm"):
        return
    mailer.queue(user, "confirm_email", SUBJECT_CONFIRM, kind="account",
                 url=external_url("auth.confirm", token=make_token("confirm", user)),
                 **_linked_methods(user))


def resend_confirmation(email: str) -> None:
    """Queue a new confirmation link if the address has an unconfirmed, active account."""
    user = user_by_email(email)
    if user is None or not user.active or user.email_confirmed:
        return
    send_confirmation(user)
    audit.record(user, "user.confirmation_resent", user)


def user_for_confirmation(token: str) -> User | None:
    """The active user a valid, unused confirmation link belongs to."""
    user = read_token("confirm", token)
    return user if user is not None and user.active else None


def confirm_email(token: str) -> User | None:
    """Mark the address of the token's user confirmed; None for an invalid or used link.

    Sign-in identities linked while the address was unconfirmed are removed: whoever linked
    them has not shown they own the mailbox the link was sent to.
    """
    user = user_for_confirmation(token)
    if user is None:
        return None
    if not user.email_confirmed:
        user.email_confirmed_at = utcnow()
        audit.record(user, "user.confirm_email", user)
        if identities.remove_unconfirmed_identities(user, reason="email_confirmed"):
            user.end_all_sessions("identities_removed")
    return user


# ------------------------------------------------------------------ signing in and out

class LoginRefused(enum.Enum):
    WRONG = "wrong"  # unknown address, wrong password, no password yet, deactivated
    UNCONFIRMED = "unconfirmed"  # right password, address not confirmed yet
    WAIT = "wait"  # back-off after failures (domain/throttle.py): not checked at all


@dataclass
class LoginResult:
    user: User | None
    refused: LoginRefused | None = None
    wait: int = 0  # seconds, for WAIT

    def __bool__(self) -> bool:
        return self.refused is None


def authenticate(email: str, password: str) -> LoginResult:
    """Check the credentials (constant time for unknown addresses) and record the outcome.

    During a back-off (see domain/throttle.py) nothing is checked: the answer is WAIT with
    the seconds left, whatever the password. Failures are security events, also for
    addresses without an account (the typed address is kept, never the password).
    """
    typed = normalise_email(email)[:254]
    wait = throttle.wait_seconds(email)
    if wait:
        audit.record(None, "security.login_delayed", None, email=typed, wait=wait)
        return LoginResult(None, LoginRefused.WAIT, wait=wait)
    user = user_by_email(email)
    ok = verify_password(user, password or "")
    if not ok or user is None or not user.active:
        throttle.failed(email)
        if user is not None:
            audit.record(None, "security.login_failed", user)
        else:
            audit.record(None, "security.login_failed", None, email=typed, unknown=True)
        return LoginResult(None, LoginRefused.WRONG)
    throttle.clear_account(email)
    if not user.email_confirmed:
        audit.record(user, "user.login_refused_unconfirmed", user)
        return LoginResult(user, LoginRefused.UNCONFIRMED)
    return LoginResult(user)


def record_login(user: User, method: str = "password") -> None:
    """A sign-in without an identity provider: roles of a staff provider's groups belong to
    sessions opened through that provider, so they go (see identities.drop_provider_roles)."""
    identities.drop_provider_roles(user)
    user.last_login_at = utcnow()
    audit.record(user, "user.login", user, method=method)


def logout(user: User, token: str | None) -> None:
    """End this session (its row, so every copy of the cookie stops working too); the
    person's other devices stay signed in (they see and end them under "Angemeldete Geräte")."""
    row = sessions.end_by_token(token, "logout")
    audit.record(user, "user.logout", user, session=row.id if row is not None else None)


# ------------------------------------------------------------------ passwords

def request_password_reset(email: str) -> None:
    """Queue a reset link if the address has an active account; silent otherwise."""
    user = user_by_email(email)
    if user is None or not user.active:
        return
    send_reset(user)
    audit.record(user, "user.password_reset_requested", user)


def send_reset(user: User, invited: bool = False) -> None:
    """The mail with a link to set a (new) password; also used to invite staff.

    A reset anyone can ask for counts against the address's mail limit; a staff invitation
    (sent by an admin) does not."""
    if not invited and not mail_limits.allow(user.email, "reset"):
        return
    mailer.queue(user, "reset_password", SUBJECT_RESET, kind="account", invited=invited,
                 url=external_url("auth.reset_password", token=make_token("reset", user)),
                 **_linked_methods(user))


def user_for_reset(token: str) -> User | None:
    """The active user a valid, unused reset link (or staff invitation link) belongs to."""
    user = read_token("reset", token) or read_token("staff-invite", token)
    return user if user is not None and user.active else None


def reset_password(user: User, password: str) -> None:
    """Set the new password from a reset link and end every other session.

    The link reached the mailbox, so the address counts as confirmed too, and sign-in
    identities linked while it was unconfirmed are removed.
    """
    _set_password(user, password)
    identities.remove_unconfirmed_identities(user, reason="password_reset")
    if not user.email_confirmed:
        user.email_confirmed_at = utcnow()
    user.end_all_sessions("password")
    throttle.clear_account(user.email)  # the owner is back in at once, whatever a stranger tried
    audit.record(user, "user.password_reset", user)


def password_wait(user: User) -> int:
    """Seconds before the password of the signed-in person may be checked again (the sign-in
    back-off: the current password on the change form is a guess like any other)."""
    return throttle.wait_seconds(user.email)


def change_password(user: User, current: str, new: str) -> bool:
    """Change the password if `current` is right; ends every session (sign in again after).

    The caller asks `password_wait` first: during a back-off the password is not checked."""
    if not verify_password(user, current or ""):
        throttle.failed(user.email)  # a guess at the password like any other
        audit.record(user, "user.password_change_failed", user)
        return False
    throttle.clear_account(user.email)
    _set_password(user, new)
    user.end_all_sessions("password")  # the caller opens a new one for this browser
    audit.record(user, "user.password_changed", user)
    return True


# ------------------------------------------------------------------ settings

def update_settings(user: User, name: str, locale: str) -> None:
    changed: dict[str, object] = {}
    name = (name or "").strip()
    if name and name != user.name:
        user.name = name
        changed["name"] = True
    if locale in LOCALES and locale != user.locale:
        user.locale = locale
        changed["locale"] = locale
    if changed:
        audit.record(user, "user.settings_changed", user, **changed)


# ------------------------------------------------------------------ proving it is still you

def reauthenticate(user: User, password: str) -> LoginResult:
    """The signed-in person confirms who they are with the password (before a sensitive
    change). The sign-in back-off applies as at the login (domain/throttle.py): during a wait
    nothing is checked; a wrong password counts as a failed sign-in and is audited."""
    wait = throttle.wait_seconds(user.email)
    if wait:
        audit.record(user, "security.reauth_delayed", user, wait=wait)
        return LoginResult(None, LoginRefused.WAIT, wait=wait)
    if not user.active or not verify_password(user, password or ""):
        throttle.failed(user.email)
        audit.record(user, "security.reauth_failed", user, method="password")
        return LoginResult(None, LoginRefused.WRONG)
    throttle.clear_account(user.email)
    audit.record(user, "user.reauthenticated", user, method="password")
    return LoginResult(user)


# ------------------------------------------------------------------ changing the address

SUBJECT_EMAIL_CONFIRM = _l("Neue E-Mail-Adresse für das InnoLab bestätigen")
SUBJECT_EMAIL_REQUESTED = _l("Änderung Ihrer E-Mail-Adresse beim InnoLab beantragt")
SUBJECT_EMAIL_CHANGED = _l("Ihre E-Mail-Adresse beim InnoLab wurde geändert")
EMAIL_CHANGE_MAX_AGE = 24 * 3600
EMAIL_UNCHANGED = _l("Das ist bereits Ihre E-Mail-Adresse.")


class EmailChangeRefused(ValueError):
    """The new address cannot be used (same as now); `reason` is for the person."""

    def __init__(self, reason):
        super().__init__(str(reason))
        self.reason = reason


def _email_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="innolab-email-change")


def make_email_change_token(user: User, new_email: str) -> str:
    """A link for the new address: the account, the new and the current address, and the
    account's fingerprint (address, password), so the link works once and a new password
    makes it worthless."""
    return _email_serializer().dumps({"u": user.id, "n": new_email, "o": user.email,
                                      "f": fingerprint(user)})


@dataclass
class EmailChange:
    user: User
    new_email: str


def read_email_change_token(token: str) -> EmailChange | None:
    """The pending change a valid, unused, unexpired link stands for, else None."""
    try:
        data = _email_serializer().loads(token, max_age=EMAIL_CHANGE_MAX_AGE)
    except (BadSignature, SignatureExpired):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("n"), str):
        return None
    user = db.session.get(User, data.get("u"))
    if (user is None or not user.active or data.get("o") != user.email
            or data.get("f") != fingerprint(user)):
        return None
    return EmailChange(user, data["n"])


def request_email_change(user: User, new_email: str) -> None:
    """Send the confirmation link to the new address, and a notice to the current one.

    The answer is the same whether the new address is free or not: if another account has
    it, the mail to it says so (with no link) instead of asking to confirm. The per-recipient
    mail limits apply to both mails. Raises EmailChangeRefused for the current address.
    """
    new_email = normalise_email(new_email)
    if new_email == normalise_email(user.email):
        raise EmailChangeRefused(EMAIL_UNCHANGED)
    other = user_by_email(new_email)
    if other is not None:
        if mail_limits.allow(new_email, "email_change"):
            mailer.queue(new_email, "email_change_in_use", SUBJECT_EMAIL_CONFIRM,
                         locale=other.locale, kind="account",
                         login_url=external_url("auth.login"),
                         forgot_url=external_url("auth.forgot_password"))
        audit.record(user, "user.email_change_requested", user, in_use=True)
    else:
        if mail_limits.allow(new_email, "email_change"):
            mailer.queue(new_email, "email_change_confirm", SUBJECT_EMAIL_CONFIRM,
                         locale=user.locale, kind="account", name=user.name,
                         url=external_url("auth.confirm_email_change",
                                          token=make_email_change_token(user, new_email)))
        audit.record(user, "user.email_change_requested", user, in_use=False)
    if mail_limits.allow(user.email, "email_change_notice"):
        mailer.queue(user, "email_change_requested", SUBJECT_EMAIL_REQUESTED, kind="account",
                     new_email=new_email, password_url=external_url("auth.change_password"),
                     sessions_url=external_url("auth.sessions_page"))


def confirm_email_change(token: str, keep_session: int | None = None) -> User | None:
    """Take the new address from a confirmation link; None when the link is invalid, used,
    expired or the address is no longer free (checked under the lock and by the unique
    index). The old address gets a notice; every other session of the account ends."""
    change = read_email_change_token(token)
    if change is None:
        return None
    user = change.user
    lock(user)
    change = read_email_change_token(token)  # read again after the lock: used meanwhile?
    if change is None or user_by_email(change.new_email) is not None:
        if change is not None:
            audit.record(user, "user.email_change_refused", user, reason="in_use")
        return None
    old = user.email
    try:
        with db.session.begin_nested():
            user.email = change.new_email
            user.email_confirmed_at = utcnow()
            db.session.flush()
    except IntegrityError:  # taken at this very moment by a registration
        audit.record(user, "user.email_change_refused", user, reason="in_use")
        return None
    user.end_all_sessions("email_changed", keep=keep_session)
    audit.record(user, "user.email_changed", user, old=old, new=user.email)
    mailer.queue(old, "email_changed", SUBJECT_EMAIL_CHANGED, locale=user.locale,
                 kind="account", name=user.name, new_email=user.email)
    return user
