"""Second factors: authenticator apps (TOTP), passkeys (WebAuthn), recovery codes, the policy.

Rules kept here (the web layer in innolab/mfa only speaks HTTP):
- The policy (`mfa_policy`, an admin setting) says which staff must use a second factor:
  `all_staff` (the default), `admins`, or `delegated` (a sign-in through the staff provider
  counts when its ID token shows the configured `acr`/`amr`/`auth_time`; any other way in
  still needs the platform's own factor, as with `all_staff`). Partners may switch it on for
  themselves; whoever has a factor is asked for it at every sign-in.
- A TOTP secret is stored encrypted with a key derived from SECRET_KEY; a code is accepted
  once (the time step of the last code is kept) and only in the window around now.
- Recovery codes: ten, shown once, stored as HMACs, each usable once; new ones replace all.
- The last factor cannot be removed while the policy requires one. Every change is audited
  (`mfa.*`) and the person gets a mail.
- Wrong codes count in the sign-in back-off (domain/throttle.py), under a key of their own,
  so a right password does not reset them.

No function here reads the request: the caller passes the relying party (RP ID, origin).
The caller commits.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import logging
import os
import secrets
import time
from dataclasses import dataclass, field

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from innolab.i18n import lazy_gettext as _l
from innolab.links import external_url
from markupsafe import Markup
from sqlalchemy import delete, func, select
from webauthn import (
    generate_authentication_options, generate_registration_options, options_to_json,
    verify_authentication_response, verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria, AuthenticatorTransport, PublicKeyCredentialDescriptor,
    ResidentKeyRequirement, UserVerificationRequirement,
)

from ..extensions import db
from ..models import RecoveryCode, Role, SecondFactor, User
from ..models._base import utcnow
from ..models.mfa import KIND_TOTP, KIND_WEBAUTHN
from . import DomainError, audit, mailer, settings, throttle
from .locking import lock, lock_query

log = logging.getLogger("innolab.mfa")

# ------------------------------------------------------------------ the policy

POLICY_SETTING = "mfa_policy"
ALL_STAFF, ADMINS, DELEGATED = "all_staff", "admins", "delegated"
POLICIES = (ALL_STAFF, ADMINS, DELEGATED)
DEFAULT_POLICY = ALL_STAFF
POLICY_LABELS = {
    ALL_STAFF: _l("Für alle Mitarbeitenden (jede Rolle) erforderlich"),
    ADMINS: _l("Nur für die Administration erforderlich"),
    DELEGATED: _l("Dem Identitätsanbieter für Beschäftigte überlassen (bei Anmeldung darüber)"),
}


def policy() -> str:
    chosen = settings.get_setting(POLICY_SETTING)
    return chosen if chosen in POLICIES else DEFAULT_POLICY


def set_policy(actor: User, value: str) -> bool:
    """Store the policy (audited as a setting change); returns whether it changed."""
    if value not in POLICIES:
        raise DomainError(_l("Bitte wählen Sie eine der angebotenen Regeln."))
    return settings.set_setting(actor, POLICY_SETTING, value)


def required_for(user: User) -> bool:
    """Must this person use a second factor (whatever way they sign in)?"""
    if not getattr(user, "is_staff", False):
        return False
    if policy() == ADMINS:
        return user.has_role(Role.ADMIN)
    return True


# ------------------------------------------------------------------ delegated to the provider

@dataclass(frozen=True)
class Assurance:
    """What a staff provider's ID token must show under the `delegated` policy."""

    acr_values: str = ""               # sent as acr_values
    required_acr: tuple = ()           # the token's acr must be one of these
    required_amr: tuple = ()           # any of these must be in the token's amr
    max_age: int | None = None         # sent as max_age; auth_time must be this recent
    broken: str | None = None          # a setting that cannot be used: every sign-in refused

    @property
    def configured(self) -> bool:
        return bool(self.required_acr or self.required_amr or self.max_age is not None
                    or self.broken)


def _provider_setting(key: str, name: str) -> str:
    variable = f"OIDC_{key.upper().replace('-', '_')}_{name}"
    value = current_app.config.get(variable)
    if value is None:
        value = os.environ.get(variable, "")
    return str(value).strip()


def assurance(provider) -> Assurance:
    """The settings OIDC_<KEY>_ACR_VALUES, _REQUIRED_ACR, _REQUIRED_AMR, _MAX_AGE."""
    max_age = _provider_setting(provider.key, "MAX_AGE")
    broken = None
    try:
        seconds = int(max_age) if max_age else None
    except ValueError:
        log.error("OIDC_%s_MAX_AGE must be a whole number of seconds, got %r",
                  provider.key.upper(), max_age)
        seconds, broken = None, "MAX_AGE is not a whole number"
    return Assurance(
        broken=broken,
        acr_values=_provider_setting(provider.key, "ACR_VALUES"),
        required_acr=tuple(_provider_setting(provider.key, "REQUIRED_ACR").split()),
        required_amr=tuple(_provider_setting(provider.key, "REQUIRED_AMR").replace(",", " ")
                           .split()),
        max_age=seconds,
    )


def delegated_to(provider) -> bool:
    """Does the policy leave the second factor to this provider (and can it be checked)?"""
    return (provider is not None and getattr(provider, "staff", False)
            and policy() == DELEGATED and assurance(provider).configured)


def authorization_params(provider) -> dict:
    """What to add to the authorization request of `provider` (acr_values, max_age)."""
    if provider is None or not getattr(provider, "staff", False) or policy() != DELEGATED:
        return {}
    wanted = assurance(provider)
    params: dict = {}
    if wanted.acr_values:
        params["acr_values"] = wanted.acr_values
    if wanted.max_age is not None:
        params["max_age"] = str(wanted.max_age)
    return params


ASSURANCE_MISSING = _l("Die Anmeldung über %(provider)s hat keinen zweiten Faktor bestätigt. "
                       "Für Beschäftigte ist er vorgeschrieben. Bitte melden Sie sich erneut "
                       "an und bestätigen Sie die Anmeldung dort mit Ihrem zweiten Faktor "
                       "(etwa Ihrer Authenticator-App oder Ihrem Sicherheitsschlüssel).")


def check_assurance(provider, claims: dict, now: float | None = None) -> str | None:
    """None when the ID token's claims show what the configuration asks; else why not (for
    the audit log, never a token)."""
    wanted = assurance(provider)
    if wanted.broken:
        return wanted.broken
    acr = claims.get("acr")
    amr = claims.get("amr")
    amr = [amr] if isinstance(amr, str) else amr if isinstance(amr, list) else []
    if wanted.required_acr and acr not in wanted.required_acr:
        return f"acr {str(acr)[:60]!r} not in {list(wanted.required_acr)}"
    if wanted.required_amr and not set(wanted.required_amr) & {str(a) for a in amr}:
        return f"amr {[str(a)[:20] for a in amr][:8]} has none of {list(wanted.required_amr)}"
    if wanted.max_age is not None:
        auth_time = claims.get("auth_time")
        now = time.time() if now is None else now
        if not isinstance(auth_time, (int, float)) or isinstance(auth_time, bool):
            return "no auth_time"
        if now - auth_time > wanted.max_age + 60:  # a minute for clocks apart
            return f"auth_time {int(now - auth_time)} s ago, max_age {wanted.max_age}"
    return None


def refuse_assurance(provider, reason: str) -> None:
    audit.record(None, "security.provider_assurance_missing", None, provider=provider.key,
                 reason=reason[:200])


# ------------------------------------------------------------------ keys

def _secret_key() -> bytes:
    return str(current_app.config["SECRET_KEY"]).encode()


@functools.lru_cache(maxsize=16)
def _derive(secret: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"innolab-second-factors",
                info=purpose).derive(secret)


def _key(purpose: str) -> bytes:
    return _derive(_secret_key(), purpose.encode())


def _fernet(purpose: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_key(purpose)))


def encrypt_secret(secret: str) -> str:
    return _fernet("totp-secret").encrypt(secret.encode()).decode()


def decrypt_secret(token: str) -> str:
    return _fernet("totp-secret").decrypt(token.encode()).decode()


# ------------------------------------------------------------------ refusals

class MfaRefused(DomainError):
    """A change or a code that cannot be accepted; `reason` is for the person."""


WRONG_CODE = _l("Der Code ist nicht richtig oder schon verwendet. Bitte geben Sie den aktuellen "
                "Code aus Ihrer App oder einen unbenutzten Wiederherstellungscode ein.")
SETUP_EXPIRED = _l("Die Einrichtung hat zu lange gedauert. Bitte beginnen Sie noch einmal; "
                   "löschen Sie dazu den eben angelegten Eintrag in Ihrer App.")
PASSKEY_FAILED = _l("Der Passkey konnte nicht bestätigt werden. Bitte versuchen Sie es noch "
                    "einmal oder verwenden Sie einen Code.")
LAST_FACTOR = _l("Dies ist Ihr einziger zweiter Faktor. Für Ihr Konto ist ein zweiter Faktor "
                 "vorgeschrieben; richten Sie zuerst einen anderen ein, bevor Sie diesen "
                 "entfernen.")
NOT_YOURS = _l("Diesen Faktor gibt es in Ihrem Konto nicht (mehr).")
NO_FACTOR = _l("Sie haben noch keinen zweiten Faktor eingerichtet.")


# ------------------------------------------------------------------ reading

def factors(user: User) -> list[SecondFactor]:
    return list(db.session.execute(
        select(SecondFactor).where(SecondFactor.user_id == user.id)
        .order_by(SecondFactor.created_at, SecondFactor.id)).scalars())


def has_factor(user: User) -> bool:
    return db.session.execute(
        select(func.count()).select_from(SecondFactor)
        .where(SecondFactor.user_id == user.id)).scalar_one() > 0


def passkeys(user: User) -> list[SecondFactor]:
    return [f for f in factors(user) if f.kind == KIND_WEBAUTHN]


def remaining_codes(user: User) -> int:
    return db.session.execute(
        select(func.count()).select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))).scalar_one()


def factor_of(user: User, factor_id: int) -> SecondFactor:
    factor = db.session.get(SecondFactor, factor_id)
    if factor is None or factor.user_id != user.id:
        raise MfaRefused(NOT_YOURS)
    return factor


def kind_label(kind: str) -> str:
    return str(_l("Authenticator-App") if kind == KIND_TOTP else _l("Passkey"))


def _clean_name(name: str | None, kind: str) -> str:
    name = "".join(ch for ch in (name or "") if ch.isprintable()).strip()[:100]
    return name or kind_label(kind)


# ------------------------------------------------------------------ notices

SUBJECT_ADDED = _l("Ein zweiter Faktor wurde hinzugefügt")
SUBJECT_REMOVED = _l("Ein zweiter Faktor wurde entfernt")
SUBJECT_CODES = _l("Neue Wiederherstellungscodes für Ihr Konto")
SUBJECT_RESET = _l("Ihre zweiten Faktoren wurden zurückgesetzt")


def _notify(user: User, subject, what: str, **context) -> None:
    mailer.queue(user, "mfa_changed", subject, kind="account", what=what,
                 security_url=external_url("mfa.security"), **context)


# ------------------------------------------------------------------ TOTP

TOTP_ISSUER = "InnoLab ZDMV"
SETUP_MAX_AGE = 30 * 60  # seconds between showing the QR code and the first code


def new_totp_secret() -> str:
    return pyotp.random_base32(length=32)


def setup_token(user: User, secret: str) -> str:
    """The secret being set up, sealed for the form (bound to the account, expires)."""
    return _fernet("totp-setup").encrypt(f"{user.id}:{secret}".encode()).decode()


def secret_from_setup(user: User, token: str | None) -> str | None:
    try:
        plain = _fernet("totp-setup").decrypt((token or "").encode(), ttl=SETUP_MAX_AGE).decode()
    except (InvalidToken, ValueError):
        return None
    owner, _, secret = plain.partition(":")
    return secret if owner == str(user.id) and secret else None


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=TOTP_ISSUER)


def qr_svg(data: str, title: str) -> Markup:
    """The QR code as inline SVG (made here, no image from elsewhere)."""
    svg = segno.make(data, error="m").svg_inline(scale=5, border=2, title=title,
                                                  svgclass="totp-qr", lineclass=None, light="#fff")
    return Markup(svg)


def grouped_secret(secret: str) -> str:
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def _normalise_code(code: str | None) -> str:
    return "".join(ch for ch in (code or "").lower() if ch.isalnum())


def _totp_step(secret: str, code: str, last_step: int | None, now: float) -> int | None:
    """The time step whose code `code` is (now, one before or after), if not used yet."""
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = int(now // totp.interval)
    for step in (current - 1, current, current + 1):
        if last_step is not None and step <= last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def add_totp(user: User, name: str | None, secret: str, code: str,
             now: float | None = None) -> tuple[SecondFactor, list[str] | None]:
    """Save the app after its first code proved it is set up; the new recovery codes when
    the person had none (shown once), else None. Raises MfaRefused."""
    lock(user)
    step = _totp_step(secret, _normalise_code(code), None, time.time() if now is None else now)
    if step is None:
        audit.record(user, "mfa.totp_setup_failed", user)
        raise MfaRefused(WRONG_CODE)
    factor = SecondFactor(user_id=user.id, kind=KIND_TOTP, name=_clean_name(name, KIND_TOTP),
                          totp_secret=encrypt_secret(secret), totp_last_step=step)
    return factor, _added(user, factor)


def _added(user: User, factor: SecondFactor) -> list[str] | None:
    first = not has_factor(user)
    db.session.add(factor)
    db.session.flush()
    audit.record(user, "mfa.factor_added", user, factor=factor.id, kind=factor.kind,
                 name=factor.name)
    _notify(user, SUBJECT_ADDED, "added", factor_name=factor.name,
            factor_kind=kind_label(factor.kind))
    if first or remaining_codes(user) == 0:
        return _new_codes(user)
    return None


# ------------------------------------------------------------------ recovery codes

CODE_COUNT = 10
CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


def _code_hash(code: str) -> str:
    return hmac.new(_key("recovery-code"), _normalise_code(code).encode(),
                    hashlib.sha256).hexdigest()


def _new_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id)
                       .execution_options(synchronize_session=False))
    codes = []
    for _ in range(CODE_COUNT):
        raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
        codes.append(f"{raw[:4]}-{raw[4:8]}-{raw[8:]}")
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_code_hash(raw)))
    audit.record(user, "mfa.recovery_codes_generated", user, count=CODE_COUNT)
    return codes


def regenerate_codes(user: User) -> list[str]:
    """Ten new codes; every old one stops working. Shown once (the caller shows them)."""
    lock(user)
    if not has_factor(user):
        raise MfaRefused(NO_FACTOR)
    codes = _new_codes(user)
    _notify(user, SUBJECT_CODES, "codes")
    return codes


# ------------------------------------------------------------------ passkeys (WebAuthn)

RP_NAME = "InnoLab des ZDMV"


@dataclass(frozen=True)
class RelyingParty:
    """Who the browser talks to: the RP ID (a host name) and the origin."""

    id: str
    origin: str


def _user_handle(user: User) -> bytes:
    """A stable handle for the authenticator that tells nothing about the person."""
    return hmac.new(_key("webauthn-user"), str(user.id).encode(), hashlib.sha256).digest()


def _descriptor(factor: SecondFactor) -> PublicKeyCredentialDescriptor:
    transports = []
    for value in factor.transport_list:
        try:
            transports.append(AuthenticatorTransport(value))
        except ValueError:
            continue
    return PublicKeyCredentialDescriptor(id=base64url_to_bytes(factor.credential_id or ""),
                                         transports=transports or None)


def registration_options(user: User, rp: RelyingParty) -> tuple[str, str]:
    """(options as JSON for navigator.credentials.create, the challenge to keep)."""
    options = generate_registration_options(
        rp_id=rp.id, rp_name=RP_NAME, user_name=user.email, user_id=_user_handle(user),
        user_display_name=user.name,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED),
        exclude_credentials=[_descriptor(f) for f in passkeys(user)],
    )
    return options_to_json(options), bytes_to_base64url(options.challenge)


def _transports(credential: str) -> str:
    try:
        data = json.loads(credential)
        values = data.get("response", {}).get("transports") or []
    except (ValueError, AttributeError):
        return ""
    known = {t.value for t in AuthenticatorTransport}
    return " ".join(v for v in values if isinstance(v, str) and v in known)[:200]


def add_passkey(user: User, name: str | None, credential: str, challenge: str | None,
                rp: RelyingParty) -> tuple[SecondFactor, list[str] | None]:
    """Verify the registration ceremony and save the passkey. Raises MfaRefused."""
    lock(user)
    if not challenge:
        raise MfaRefused(PASSKEY_FAILED)
    try:
        verified = verify_registration_response(
            credential=credential, expected_challenge=base64url_to_bytes(challenge),
            expected_rp_id=rp.id, expected_origin=rp.origin)
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        log.info("Passkey registration refused: %s", type(exc).__name__)
        audit.record(user, "mfa.passkey_setup_failed", user, reason=type(exc).__name__)
        raise MfaRefused(PASSKEY_FAILED) from exc
    credential_id = bytes_to_base64url(verified.credential_id)
    if db.session.execute(select(SecondFactor.id).where(
            SecondFactor.credential_id == credential_id)).first() is not None:
        raise MfaRefused(_l("Dieser Passkey ist bereits eingerichtet."))
    factor = SecondFactor(user_id=user.id, kind=KIND_WEBAUTHN,
                          name=_clean_name(name, KIND_WEBAUTHN), credential_id=credential_id,
                          public_key=verified.credential_public_key,
                          sign_count=verified.sign_count, transports=_transports(credential))
    return factor, _added(user, factor)


def authentication_options(user: User, rp: RelyingParty) -> tuple[str, str] | None:
    """(options as JSON for navigator.credentials.get, the challenge), None without passkey."""
    keys = passkeys(user)
    if not keys:
        return None
    options = generate_authentication_options(
        rp_id=rp.id, allow_credentials=[_descriptor(f) for f in keys],
        user_verification=UserVerificationRequirement.PREFERRED)
    return options_to_json(options), bytes_to_base64url(options.challenge)


def _check_passkey(user: User, credential: str, challenge: str | None,
                   rp: RelyingParty) -> SecondFactor | None:
    if not challenge or not credential:
        return None
    try:
        credential_id = json.loads(credential).get("id")
    except (ValueError, AttributeError):
        return None
    if not isinstance(credential_id, str):
        return None
    found = lock_query(select(SecondFactor).where(SecondFactor.user_id == user.id,
                                                  SecondFactor.kind == KIND_WEBAUTHN,
                                                  SecondFactor.credential_id == credential_id))
    if not found:
        return None
    factor = found[0]
    try:
        verified = verify_authentication_response(
            credential=credential, expected_challenge=base64url_to_bytes(challenge),
            expected_rp_id=rp.id, expected_origin=rp.origin,
            credential_public_key=factor.public_key or b"",
            credential_current_sign_count=factor.sign_count or 0)
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        log.info("Passkey assertion refused: %s", type(exc).__name__)
        return None
    factor.sign_count = verified.new_sign_count
    factor.last_used_at = utcnow()
    return factor


# ------------------------------------------------------------------ proving the factor

@dataclass
class Proof:
    """The outcome of a code or passkey: `ok`, else `wait` seconds (back-off) or wrong."""

    ok: bool
    wait: int = 0
    kind: str | None = None  # "totp", "webauthn", "recovery"
    codes_left: int | None = None
    extra: dict = field(default_factory=dict)


def _throttle_subject(user: User) -> str:
    # Not an address (no @), so it never meets an account's counter of password failures.
    return f"second-factor:{user.id}"


def _check_code(user: User, code: str, now: float) -> str | None:
    normal = _normalise_code(code)
    if not normal:
        return None
    if len(normal) == 6 and normal.isdigit():
        for factor in lock_query(select(SecondFactor).where(
                SecondFactor.user_id == user.id, SecondFactor.kind == KIND_TOTP)):
            try:
                secret = decrypt_secret(factor.totp_secret or "")
            except InvalidToken:
                log.error("TOTP secret of factor %s cannot be read (SECRET_KEY changed?)",
                          factor.id)
                continue
            step = _totp_step(secret, normal, factor.totp_last_step, now)
            if step is not None:
                factor.totp_last_step = step
                factor.last_used_at = utcnow()
                return KIND_TOTP
        return None
    rows = lock_query(select(RecoveryCode).where(RecoveryCode.user_id == user.id,
                                                 RecoveryCode.code_hash == _code_hash(normal),
                                                 RecoveryCode.used_at.is_(None)))
    if rows:
        rows[0].used_at = utcnow()
        return "recovery"
    return None


def prove(user: User, *, code: str | None = None, credential: str | None = None,
          challenge: str | None = None, rp: RelyingParty | None = None,
          purpose: str = "sign_in", now: float | None = None) -> Proof:
    """Check a code (TOTP or recovery code) or a passkey assertion of `user`.

    During the back-off nothing is checked (the answer is the wait). A failure counts in the
    back-off and is a security event; success clears the counter and is audited."""
    subject = _throttle_subject(user)
    wait = throttle.wait_seconds(subject)
    if wait:
        audit.record(user, "security.mfa_delayed", user, wait=wait, purpose=purpose)
        return Proof(False, wait=wait)
    kind = None
    if credential and rp is not None:
        factor = _check_passkey(user, credential, challenge, rp)
        kind = KIND_WEBAUTHN if factor is not None else None
    elif code:
        kind = _check_code(user, code, time.time() if now is None else now)
    if kind is None:
        throttle.failed(subject)
        audit.record(user, "security.mfa_failed", user, method="passkey" if credential else "code",
                     purpose=purpose)
        return Proof(False)
    throttle.clear_account(subject)
    left = remaining_codes(user) if kind == "recovery" else None
    audit.record(user, "mfa.verified", user, kind=kind, purpose=purpose,
                 **({"codes_left": left} if left is not None else {}))
    return Proof(True, kind=kind, codes_left=left)


# ------------------------------------------------------------------ rename, remove

def rename(user: User, factor_id: int, name: str) -> SecondFactor:
    lock(user)
    factor = factor_of(user, factor_id)
    before = factor.name
    factor.name = _clean_name(name, factor.kind)
    if factor.name != before:
        audit.record(user, "mfa.factor_renamed", user, factor=factor.id, before=before,
                     after=factor.name)
    return factor


def can_remove(user: User) -> bool:
    """May the person remove a factor now (not the last one while one is required)?"""
    return not required_for(user) or len(factors(user)) > 1


def remove(user: User, factor_id: int) -> str:
    """Remove one factor; with the last one the recovery codes go too. Returns its name."""
    lock(user)
    factor = factor_of(user, factor_id)
    mine = factors(user)
    if len(mine) == 1 and required_for(user):
        raise MfaRefused(LAST_FACTOR)
    name, kind = factor.name, factor.kind
    db.session.delete(factor)
    if len(mine) == 1:
        db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id)
                           .execution_options(synchronize_session=False))
    audit.record(user, "mfa.factor_removed", user, factor=factor_id, kind=kind, name=name,
                 last=len(mine) == 1)
    _notify(user, SUBJECT_REMOVED, "removed", factor_name=name, factor_kind=kind_label(kind))
    return name


# ------------------------------------------------------------------ admin recovery

def admin_reset(actor: User, user: User, reason: str) -> int:
    """An admin removes every factor and recovery code of `user` (after checking who is
    asking through a second channel) and ends the person's sessions. Returns how many factors
    were removed. The person sets up a factor again at the next sign-in."""
    reason = " ".join((reason or "").split())[:500]
    if not reason:
        raise MfaRefused(_l("Bitte geben Sie den Grund an."))
    lock(user)
    count = len(factors(user))
    db.session.execute(delete(SecondFactor).where(SecondFactor.user_id == user.id)
                       .execution_options(synchronize_session=False))
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id)
                       .execution_options(synchronize_session=False))
    user.end_all_sessions()
    throttle.clear_account(_throttle_subject(user))
    audit.record(actor, "mfa.admin_reset", user, factors=count, reason=reason,
                 email=user.email)
    _notify(user, SUBJECT_RESET, "reset", admin_name=actor.name, reason=reason)
    return count
