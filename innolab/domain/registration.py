"""Local accounts: register, confirm the address, sign in, reset and change the password.

No function here ever tells its caller whether an address is known when the answer would
reach someone who has not proven they own it: registering, resending the confirmation and
asking for a reset behave the same for known and unknown addresses (mails differ, pages
do not). The caller commits.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass

from innolab.i18n import DEFAULT_LOCALE, LOCALES
from innolab.i18n import lazy_gettext as _l
from innolab.links import external_url

from ..extensions import db
from ..models import User
from ..models._base import utcnow
from . import audit, mail_limits, mailer, passwords, terms, throttle
from .accounts import (
    hash_password, make_token, normalise_email, read_token, user_by_email,
    verify_password,
)
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
            user.end_all_sessions()
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


def logout(user: User) -> None:
    """End the user's sessions on every device (a copied cookie stops working)."""
    user.end_all_sessions()
    audit.record(user, "user.logout", user)


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
    user.end_all_sessions()
    throttle.clear_account(user.email)  # the owner is back in at once, whatever a stranger tried
    audit.record(user, "user.password_reset", user)


def change_password(user: User, current: str, new: str) -> bool:
    """Change the password if `current` is right; ends every session (sign in again after)."""
    if not verify_password(user, current or ""):
        audit.record(user, "user.password_change_failed", user)
        return False
    _set_password(user, new)
    user.end_all_sessions()
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
