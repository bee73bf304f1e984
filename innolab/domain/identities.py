"""Sign-in through external identity providers: configuration, accounts, staff roles.

The providers come from the environment variable OIDC_PROVIDERS (a JSON list, see
docs/authentication.md). Two kinds exist: "oidc" (OpenID Connect with discovery from the
issuer) and "github" (plain OAuth 2 plus GitHub's user API).

Rules kept here (the web layer in innolab/oidc only speaks HTTP):
- A person is found again by (provider, subject) only, never by the email address alone.
- A first sign-in creates an account if the provider's sign-up policy allows it (`signup`,
  `signup_domains`). The address counts as the person's only when the provider is trusted
  for it (`email_trust`: the `email_verified: true` claim, or the operator's explicit
  "always"); otherwise the account cannot be used until the address is confirmed through the
  mailed link, like a local registration, and the identity is marked `unconfirmed` (removed
  again when the address is confirmed or the password is reset).
- When the address already belongs to an account, nothing is created or taken over
  (`EmailInUse`): the address gets a mail, and the page says the same as for an unknown
  address.
- A provider marked `staff` brings the staff roles up to date at every sign-in: the role rows
  it hands out carry `source = "provider:<key>"`; rows granted by an admin are left alone.
  Those rows belong to sessions signed in through that provider: signing in any other way
  removes them (`drop_provider_roles`).
- An identity is unlinked only while another way to sign in remains.

No function here reads the request. The caller commits.
"""
from __future__ import annotations

import json
import logging
import os
import re
from typing import Any
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

from flask import current_app
from flask_babel import get_locale
from innolab.i18n import DEFAULT_LOCALE, LOCALES
from innolab.i18n import lazy_gettext as _l
from innolab.links import external_url
from sqlalchemy import select

from ..extensions import db
from ..models import ADMIN_SOURCE, ExternalIdentity, Role, User, UserRole, provider_source
from ..models._base import utcnow
from . import audit
from .accounts import normalise_email, user_by_email
from .settings import get_setting
from . import registration  # registration imports this module: looked up when called
from . import mailer, plaintext
from . import DomainError
from .locking import lock
from .permissions import ALLOW, deny

KINDS = ("oidc", "github")
SIGNUP_POLICIES = ("open", "link-only")
EMAIL_TRUST = ("claim", "always", "never")
DOMAIN_PATTERN = re.compile(
    r"^(?=.{1,253}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")
GITHUB_DEFAULTS = {
    "authorize_url": "https://github.com/login/oauth/authorize",
    "token_url": "https://github.com/login/oauth/access_token",
    "api_base_url": "https://api.github.com/",
}
DEFAULT_SCOPES = {"oidc": ["openid", "email", "profile"], "github": ["read:user", "user:email"]}
KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}

# Where the session keeps what RP-initiated logout needs (see provider_logout_url).
LOGOUT_SESSION_KEY = "oidc_logout"

EXTENSION = "innolab_identities"

log = logging.getLogger("innolab.oidc")


class ConfigurationError(RuntimeError):
    """OIDC_PROVIDERS cannot be used; the message names the problem (shown at start-up)."""


# ------------------------------------------------------------------ configuration

@dataclass(frozen=True)
class Provider:
    key: str
    kind: str
    client_id: str
    client_secret: str
    display_names: dict = field(default_factory=dict)  # locale -> text
    button_labels: dict = field(default_factory=dict)  # locale -> text
    issuer: str | None = None
    staff: bool = False
    roles_claim: str | None = None
    role_map: dict = field(default_factory=dict)  # group -> tuple of role values
    scopes: tuple = ()
    authorize_url: str | None = None
    token_url: str | None = None
    api_base_url: str | None = None
    signup: str = "open"  # "open" or "link-only" (no new accounts through this provider)
    signup_domains: tuple = ()  # new accounts only for these address domains (empty: any)
    email_trust: str = "claim"  # "claim" (email_verified: true), "always" or "never"

    def trusts_address(self, claims: Claims) -> bool:
        """Does the provider's word prove the person owns the address it reports?"""
        if self.email_trust == "never":
            return False
        if self.email_trust == "always":
            return True
        return claims.email_verified

    def signup_allowed(self, email: str) -> bool:
        if self.signup != "open":
            return False
        if not self.signup_domains:
            return True
        return email.rpartition("@")[2] in self.signup_domains

    @property
    def display_name(self) -> str:
        return _localised(self.display_names) or self.key

    @property
    def button_label(self) -> str:
        label = _localised(self.button_labels)
        if label:
            return label
        return str(_l("Mit %(name)s anmelden", name=self.display_name))

    @property
    def managed_roles(self) -> set[str]:
        """The roles this provider's mapping hands out (and so may also take away)."""
        return {role for roles in self.role_map.values() for role in roles}

    @property
    def discovery_url(self) -> str:
        return (self.issuer or "").rstrip("/") + "/.well-known/openid-configuration"


def _localised(texts: dict) -> str | None:
    if not texts:
        return None
    try:
        locale = str(get_locale() or "de")
    except Exception:  # outside a request
        locale = "de"
    return texts.get(locale) or texts.get("de") or next(iter(texts.values()))


def _texts(value, what: str, key: str) -> dict:
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        return {"de": value}
    if isinstance(value, dict) and all(isinstance(v, str) and v for v in value.values()):
        return dict(value)
    raise ConfigurationError(f"OIDC_PROVIDERS: {what} of {key!r} must be a text or "
                             f"an object of texts by language")


def _check_url(value: str, what: str, key: str) -> str:
    parts = urlsplit(value or "")
    if parts.scheme == "https" and parts.netloc:
        return value
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return value  # a provider on this machine (tests, local development)
    raise ConfigurationError(
        f"OIDC_PROVIDERS: {what} of {key!r} must be an https URL, got {value!r}")


def parse_providers(raw) -> list[Provider]:
    """Read the JSON list (text or already parsed); a clear ConfigurationError on any mistake."""
    if raw is None or raw == "" or raw == []:
        return []
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise ConfigurationError(f"OIDC_PROVIDERS is not valid JSON: {exc}") from exc
    if not isinstance(raw, list):
        raise ConfigurationError("OIDC_PROVIDERS must be a JSON list of provider objects")
    providers: list[Provider] = []
    seen: set[str] = set()
    for entry in raw:
        provider = _parse_one(entry)
        if provider.key in seen:
            raise ConfigurationError(f"OIDC_PROVIDERS: the key {provider.key!r} is used twice")
        seen.add(provider.key)
        providers.append(provider)
    return providers


def _parse_one(entry) -> Provider:
    if not isinstance(entry, dict):
        raise ConfigurationError("OIDC_PROVIDERS: every provider must be a JSON object")
    key = entry.get("key")
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        raise ConfigurationError(
            f"OIDC_PROVIDERS: key {key!r} must be 1-40 lower-case letters, digits, - or _")
    known = {"key", "kind", "client_id", "client_secret", "display_name", "button_label",
             "issuer", "staff", "roles_claim", "role_map", "scopes", "authorize_url",
             "token_url", "api_base_url", "signup", "signup_domains", "email_trust"}
    unknown = set(entry) - known
    if unknown:
        raise ConfigurationError(
            f"OIDC_PROVIDERS: unknown setting(s) {sorted(unknown)} for {key!r}")
    kind = entry.get("kind", "oidc")
    if kind not in KINDS:
        raise ConfigurationError(f"OIDC_PROVIDERS: kind of {key!r} must be one of {KINDS}")
    client_id = entry.get("client_id")
    client_secret = entry.get("client_secret")
    if not isinstance(client_id, str) or not client_id:
        raise ConfigurationError(f"OIDC_PROVIDERS: client_id of {key!r} is missing")
    if not isinstance(client_secret, str) or not client_secret:
        raise ConfigurationError(f"OIDC_PROVIDERS: client_secret of {key!r} is missing")

    issuer = entry.get("issuer")
    urls = {}
    if kind == "oidc":
        if not isinstance(issuer, str) or not issuer:
            raise ConfigurationError(f"OIDC_PROVIDERS: issuer of {key!r} is missing")
        _check_url(issuer, "issuer", key)
        for name in ("authorize_url", "token_url", "api_base_url"):
            if entry.get(name):
                raise ConfigurationError(
                    f"OIDC_PROVIDERS: {name} is for kind github; {key!r} uses discovery")
    else:
        if issuer:
            raise ConfigurationError(f"OIDC_PROVIDERS: issuer is for kind oidc, not {key!r}")
        for name, default in GITHUB_DEFAULTS.items():
            urls[name] = _check_url(entry.get(name) or default, name, key)
        if not urls["api_base_url"].endswith("/"):
            urls["api_base_url"] += "/"

    staff = entry.get("staff", False)
    if not isinstance(staff, bool):
        raise ConfigurationError(f"OIDC_PROVIDERS: staff of {key!r} must be true or false")
    roles_claim = entry.get("roles_claim")
    raw_map = entry.get("role_map") or {}
    if not isinstance(raw_map, dict):
        raise ConfigurationError(f"OIDC_PROVIDERS: role_map of {key!r} must be an object")
    valid_roles = {r.value for r in Role}
    role_map: dict[str, tuple[str, ...]] = {}
    for group, roles in raw_map.items():
        roles = [roles] if isinstance(roles, str) else roles
        if not isinstance(roles, list) or not roles:
            raise ConfigurationError(f"OIDC_PROVIDERS: role_map[{group!r}] of {key!r} is empty")
        for role in roles:
            if role not in valid_roles:
                raise ConfigurationError(
                    f"OIDC_PROVIDERS: role {role!r} in role_map of {key!r} is not one of "
                    f"{sorted(valid_roles)}")
        role_map[str(group)] = tuple(roles)
    if role_map and not staff:
        raise ConfigurationError(
            f"OIDC_PROVIDERS: {key!r} has a role_map but is not marked \"staff\": true")
    if staff and role_map and not roles_claim:
        raise ConfigurationError(
            f"OIDC_PROVIDERS: roles_claim of staff provider {key!r} is missing")
    if roles_claim is not None and (not isinstance(roles_claim, str) or not roles_claim):
        raise ConfigurationError(f"OIDC_PROVIDERS: roles_claim of {key!r} must be a claim name")

    scopes = entry.get("scopes") or DEFAULT_SCOPES[kind]
    if isinstance(scopes, str):
        scopes = scopes.split()
    if not isinstance(scopes, list) or not all(isinstance(s, str) and s for s in scopes):
        raise ConfigurationError(f"OIDC_PROVIDERS: scopes of {key!r} must be a list of texts")
    if kind == "oidc" and "openid" not in scopes:
        scopes = ["openid", *scopes]

    signup = entry.get("signup", "open")
    if signup not in SIGNUP_POLICIES:
        raise ConfigurationError(
            f"OIDC_PROVIDERS: signup of {key!r} must be one of {SIGNUP_POLICIES}")
    domains = entry.get("signup_domains") or []
    if isinstance(domains, str):
        domains = [domains]
    if not isinstance(domains, list) or not all(
            isinstance(d, str) and DOMAIN_PATTERN.match(d.strip().lower().lstrip("@"))
            for d in domains):
        raise ConfigurationError(
            f"OIDC_PROVIDERS: signup_domains of {key!r} must be a list of domain names "
            f"such as \"zdmv.de\"")
    email_trust = entry.get("email_trust", "claim")
    if email_trust not in EMAIL_TRUST:
        raise ConfigurationError(
            f"OIDC_PROVIDERS: email_trust of {key!r} must be one of {EMAIL_TRUST}")
    if kind == "github" and email_trust == "always":
        raise ConfigurationError(
            f"OIDC_PROVIDERS: email_trust \"always\" is not possible for GitHub ({key!r}); "
            f"only its verified primary address counts")

    return Provider(
        key=key, signup=signup, email_trust=email_trust,
        signup_domains=tuple(d.strip().lower().lstrip("@") for d in domains), kind=kind,
        client_id=client_id, client_secret=client_secret,
        display_names=_texts(entry.get("display_name"), "display_name", key) or {"de": key},
        button_labels=_texts(entry.get("button_label"), "button_label", key),
        issuer=issuer if kind == "oidc" else None, staff=staff, roles_claim=roles_claim,
        role_map=role_map, scopes=tuple(scopes), **urls,
    )


def _bool(value, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def load_providers(app) -> dict[str, Provider]:
    """Parse the configuration once per app (config key or environment variable)."""
    raw = app.config.get("OIDC_PROVIDERS")
    if raw is None:
        raw = os.environ.get("OIDC_PROVIDERS", "")
    providers = {p.key: p for p in parse_providers(raw)}
    app.extensions[EXTENSION] = providers
    app.config["STAFF_LOCAL_LOGIN"] = _bool(
        app.config.get("STAFF_LOCAL_LOGIN", os.environ.get("STAFF_LOCAL_LOGIN")), True)
    return providers


def providers() -> list[Provider]:
    """The configured providers, in configuration order (none when the blueprint is off)."""
    return list(current_app.extensions.get(EXTENSION, {}).values())


def get_provider(key: str) -> Provider | None:
    return current_app.extensions.get(EXTENSION, {}).get(key)


# ------------------------------------------------------------------ claims

@dataclass
class Claims:
    """What a provider told us about the person, normalised for both kinds."""

    subject: str
    email: str | None = None
    email_verified: bool = False
    name: str | None = None
    locale: str | None = None
    groups: list[str] = field(default_factory=list)
    # The token says the groups are too many to list (Entra ID's overage: `_claim_names`
    # names the claim, or `hasgroups`): the groups are unknown, not empty.
    groups_incomplete: bool = False


def _claim_path(data: dict, path: str):
    """`groups` or a dotted path such as Keycloak's `realm_access.roles`."""
    if path in data:
        return data[path]
    value: Any = data
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _groups(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        # Keycloak's group mapper may send full paths ("/innolab-reviewers").
        return [str(v) for v in value if isinstance(v, (str, int))]
    return []


def _clean_text(value, limit: int) -> str | None:
    if not isinstance(value, str):
        return None
    value = "".join(ch for ch in value if ch.isprintable()).strip()
    return value[:limit] or None


def _clean_name(value, limit: int) -> str | None:
    """A name as a provider sends it, made what a name typed into a form may be: one line,
    no control characters or bidi overrides, no web address or domain-like word (they are
    dropped, not refused: the person did not type them here)."""
    if not isinstance(value, str):
        return None
    return plaintext.clean_name(_clean_text(value, 1000) or "", limit) or None


def _locale(value) -> str | None:
    if not isinstance(value, str) or len(value) < 2:
        return None
    lang = value[:2].lower()
    return lang if lang in LOCALES else None


def claims_from_oidc(provider: Provider, data: dict) -> Claims:
    """From the validated ID token's claims."""
    subject = data.get("sub")
    if not isinstance(subject, str) or not subject or len(subject) > 255:
        raise ValueError("no usable subject")
    name = _clean_name(data.get("name"), 200)
    if not name:
        parts = [_clean_name(data.get(k), 100) for k in ("given_name", "family_name")]
        name = " ".join(p for p in parts if p) or _clean_name(data.get("preferred_username"), 200)
    verified = data.get("email_verified")
    incomplete = False
    if provider.roles_claim:
        claim_names = data.get("_claim_names")
        incomplete = (isinstance(claim_names, dict) and provider.roles_claim in claim_names) \
            or data.get("hasgroups") in (True, "true")
    return Claims(
        groups_incomplete=incomplete,
        subject=subject,
        email=_clean_text(data.get("email"), 254),
        email_verified=verified is True
        or (isinstance(verified, str) and verified.lower() == "true"),
        name=name,
        locale=_locale(data.get("locale")),
        groups=_groups(_claim_path(data, provider.roles_claim)) if provider.roles_claim else [],
    )


def claims_from_github(user: dict, emails) -> Claims:
    """From GET /user and GET /user/emails of GitHub's API."""
    subject = user.get("id")
    if not isinstance(subject, int) or isinstance(subject, bool):
        raise ValueError("no usable GitHub id")
    # Only the primary address counts, and only when GitHub has verified it; another verified
    # address of the GitHub account says nothing about the address the account is known by.
    email, verified = None, False
    if isinstance(emails, list):
        rows = [e for e in emails if isinstance(e, dict) and isinstance(e.get("email"), str)
                and e.get("primary") is True]
        if rows:
            email, verified = rows[0]["email"], rows[0].get("verified") is True
    if email is None:
        email = user.get("email") if isinstance(user.get("email"), str) else None  # unverified
    return Claims(
        subject=str(subject),
        email=_clean_text(email, 254),
        email_verified=verified,
        name=_clean_name(user.get("name"), 200) or _clean_name(user.get("login"), 200),
    )


# ------------------------------------------------------------------ refusals

class SignInRefused(Exception):
    """The sign-in cannot go on; `reason` is for the person."""

    def __init__(self, reason):
        super().__init__(str(reason))
        self.reason = reason


class CheckMailbox(SignInRefused):
    """Nobody is signed in; a mail went (or may have gone) to the address the provider gave.

    The same answer whether the address has an account or not: a new account that waits for
    its confirmation, an address already in use (`EmailInUse`), or an identity whose account
    is not confirmed yet.
    """

    def __init__(self, provider: Provider, email: str):
        super().__init__(_l("Bitte prüfen Sie Ihr Postfach."))
        self.provider = provider
        self.email = email


class EmailInUse(CheckMailbox):
    """The provider's address belongs to an account not linked to this identity."""


class LinkRefused(SignInRefused):
    pass


class UnlinkRefused(SignInRefused):
    pass


DEACTIVATED = _l("Ihr Konto ist gesperrt. Bitte wenden Sie sich an das InnoLab-Team.")
NO_EMAIL = _l("Der Anbieter hat keine gültige E-Mail-Adresse übermittelt. Ohne E-Mail-Adresse "
              "können wir kein Konto für Sie anlegen.")
SIGNUP_CLOSED = _l("Über %(provider)s können keine neuen Konten angelegt werden. Wenn Sie "
                   "bereits ein Konto beim InnoLab haben, melden Sie sich damit an und "
                   "verknüpfen Sie %(provider)s unter „Mein Konto“.")
SIGNUP_DOMAIN = _l("Über %(provider)s können nur Konten für bestimmte E-Mail-Adressen angelegt "
                   "werden. Bitte registrieren Sie sich mit E-Mail-Adresse und Passwort.")
STAFF_PROVIDER_ONLY = _l("Mitarbeiterinnen und Mitarbeiter des ZDMV melden sich bitte über "
                         "die Anmeldung für Beschäftigte an.")


# ------------------------------------------------------------------ lookups

def identity_for(provider_key: str, subject: str) -> ExternalIdentity | None:
    return db.session.execute(
        select(ExternalIdentity).where(ExternalIdentity.provider == provider_key,
                                       ExternalIdentity.subject == subject)
    ).scalar_one_or_none()


def identities_of(user: User) -> list[ExternalIdentity]:
    return list(db.session.execute(
        select(ExternalIdentity).where(ExternalIdentity.user_id == user.id)
        .order_by(ExternalIdentity.created_at, ExternalIdentity.id)
    ).scalars())


def _own_identity(user: User, provider_key: str) -> ExternalIdentity | None:
    return db.session.execute(
        select(ExternalIdentity).where(ExternalIdentity.user_id == user.id,
                                       ExternalIdentity.provider == provider_key)
    ).scalar_one_or_none()


# ------------------------------------------------------------------ local passwords for staff

STAFF_LOCAL_LOGIN_SETTING = "staff_local_login"


def staff_local_login_enabled() -> bool:
    """Whether staff may use local passwords: the admin's setting, else STAFF_LOCAL_LOGIN."""

    chosen = get_setting(STAFF_LOCAL_LOGIN_SETTING)
    if chosen is not None:
        return _bool(chosen, True)
    value = current_app.config.get("STAFF_LOCAL_LOGIN")
    if value is None:
        value = os.environ.get("STAFF_LOCAL_LOGIN")
    return _bool(value, True)


def staff_provider_configured() -> bool:
    return any(p.staff for p in providers())


def local_login_allowed(user: User | None) -> bool:
    """May this account sign in with its local password? (The auth login view asks.)

    With STAFF_LOCAL_LOGIN=false, staff sign in only through a provider marked staff.
    """
    if user is None or not getattr(user, "is_staff", False):
        return True
    return staff_local_login_enabled()


def external_login_allowed(user: User, provider: Provider) -> bool:
    """With local passwords off for staff, staff also use the staff provider only."""
    if provider.staff or not user.is_staff:
        return True
    return staff_local_login_enabled()


# ------------------------------------------------------------------ signing in

@dataclass
class SignInResult:
    user: User
    created: bool = False


def sign_in(provider: Provider, claims: Claims, fallback_locale: str = "de") -> SignInResult:
    """The account for this identity, created on the first sign-in. Raises SignInRefused.

    `CheckMailbox` (a SignInRefused) means: nobody is signed in, a mail went to the address
    (a new account to confirm, an address in use, an account still unconfirmed). The caller
    commits in every case.
    """
    identity = identity_for(provider.key, claims.subject)
    if identity is not None:
        user = db.session.get(User, identity.user_id)
        if user is None or not user.active:
            audit.record(None, "user.login_refused_deactivated", user, method="external",
                         provider=provider.key)
            raise SignInRefused(DEACTIVATED)
        if not user.email_confirmed:
            # Like a local account: not usable before the address is confirmed.

            registration.send_confirmation(user)
            audit.record(user, "user.login_refused_unconfirmed", user, method="external",
                         provider=provider.key)
            raise CheckMailbox(provider, user.email)
        result = SignInResult(user)
    else:
        user = _create_account(provider, claims, fallback_locale)
        identity = _add_identity(user, provider, claims)
        if not user.email_confirmed:
            registration.send_confirmation(user)  # after linking: the mail names the provider
            raise CheckMailbox(provider, user.email)
        result = SignInResult(user, created=True)
    user = result.user
    sync_staff_roles(user, provider, claims)
    if not external_login_allowed(user, provider):
        audit.record(user, "user.login_refused_staff_provider_only", user, provider=provider.key)
        raise SignInRefused(STAFF_PROVIDER_ONLY)
    drop_provider_roles(user, keep=provider.key)
    now = utcnow()
    identity.last_login_at = now
    user.last_login_at = now
    audit.record(user, "user.login", user, method="external", provider=provider.key)
    return result


def _create_account(provider: Provider, claims: Claims, fallback_locale: str) -> User:
    email = normalise_email(claims.email or "")
    if not email or len(email) > 254 or not EMAIL_PATTERN.match(email):
        audit.record(None, "user.external_signup_refused", None, provider=provider.key,
                     reason="no_email")
        raise SignInRefused(NO_EMAIL)
    # The sign-up policy first: its answer is the same for known and unknown addresses.
    if not provider.signup_allowed(email):
        reason = "link_only" if provider.signup != "open" else "domain"
        audit.record(None, "user.external_signup_refused", None, provider=provider.key,
                     reason=reason)
        message = SIGNUP_CLOSED if reason == "link_only" else SIGNUP_DOMAIN
        raise SignInRefused(message % {"provider": provider.display_name})
    existing = user_by_email(email)
    if existing is not None:
        # Never taken over: the owner gets a mail; the page is the one of a new account.
        if existing.active:
            mailer.queue(existing, "external_known_address",
                         _l("Anmeldeversuch über %(provider)s beim InnoLab",
                            provider=provider.display_name),
                         kind="account", provider=provider.display_name,
                         login_url=external_url("auth.login"),
                         forgot_url=external_url("auth.forgot_password"),
                         account_url=external_url("auth.settings"))
        audit.record(None, "user.external_signup_email_in_use", existing, provider=provider.key)
        raise EmailInUse(provider, email)
    trusted = provider.trusts_address(claims)
    user = User(
        email=email,
        name=claims.name or email.split("@", 1)[0],
        password_hash=None,
        locale=claims.locale or (fallback_locale if fallback_locale in LOCALES else DEFAULT_LOCALE),
        email_confirmed_at=utcnow() if trusted else None,
    )
    db.session.add(user)
    db.session.flush()
    audit.record(user, "user.register_external", user, provider=provider.key,
                 email_verified=claims.email_verified, address_trusted=trusted)
    return user


def _add_identity(user: User, provider: Provider, claims: Claims) -> ExternalIdentity:
    identity = ExternalIdentity(user_id=user.id, provider=provider.key, subject=claims.subject,
                                email=normalise_email(claims.email or "") or None,
                                unconfirmed=not user.email_confirmed)
    db.session.add(identity)
    db.session.flush()
    return identity


def sign_in_methods(user: User) -> list[str]:
    """The ways into the account, as the mails name them (password, then providers)."""
    methods = [str(_l("Passwort"))] if user.password_hash else []
    for identity in identities_of(user):
        provider = get_provider(identity.provider)
        methods.append(provider.display_name if provider else identity.provider)
    return methods


def remove_unconfirmed_identities(user: User, reason: str) -> list[str]:
    """The address was just proven (confirmation or reset link): identities linked before
    that were linked by someone who may not own the mailbox, so they go (with their roles)."""
    removed = []
    for identity in identities_of(user):
        if identity.unconfirmed:
            _remove_identity(user, identity)
            audit.record(None, "user.identity_removed", user, provider=identity.provider,
                         reason=reason)
            removed.append(identity.provider)
    return removed


def _remove_identity(user: User, identity: ExternalIdentity) -> None:
    db.session.delete(identity)
    source = provider_source(identity.provider)
    for row in [r for r in user.role_rows if r.source == source]:
        user.role_rows.remove(row)
        audit.record(None, "user.role_revoked", user, role=row.role,
                     source=f"unlink:{identity.provider}")
    db.session.flush()


def admin_remove_identity(actor: User, user: User, identity_id: int) -> str:
    """An admin removes a linked identity (and the roles it brought). Returns its provider."""

    lock(user)
    identity = db.session.get(ExternalIdentity, identity_id)
    if identity is None or identity.user_id != user.id:
        raise DomainError(NOT_LINKED)
    _remove_identity(user, identity)
    user.end_all_sessions("admin")  # a session opened through it ends too
    audit.record(actor, "user.identity_removed", user, provider=identity.provider,
                 reason="admin", email=user.email)
    return identity.provider


# ------------------------------------------------------------------ linking

ALREADY_ELSEWHERE = _l("Dieses Konto bei %(provider)s ist bereits mit einem anderen "
                       "InnoLab-Konto verknüpft.")
OTHER_SUBJECT = _l("Mit Ihrem Konto ist bereits ein anderes Konto bei %(provider)s verknüpft. "
                   "Trennen Sie es zuerst, wenn Sie es ersetzen möchten.")
LAST_METHOD = _l("Diese Verknüpfung kann nicht getrennt werden, weil Sie sich sonst nicht mehr "
                 "anmelden könnten. Legen Sie zuerst ein Passwort fest oder verknüpfen Sie "
                 "einen anderen Anbieter.")
NOT_LINKED = _l("Dieser Anbieter ist nicht mit Ihrem Konto verknüpft.")


def link(user: User, provider: Provider, claims: Claims) -> SignInResult:
    """Link the identity to the signed-in account. Raises LinkRefused."""
    identity = identity_for(provider.key, claims.subject)
    if identity is not None and identity.user_id != user.id:
        audit.record(user, "user.identity_link_refused", user, provider=provider.key,
                     reason="linked_elsewhere")
        raise LinkRefused(ALREADY_ELSEWHERE % {"provider": provider.display_name})
    if identity is None:
        own = _own_identity(user, provider.key)
        if own is not None:
            audit.record(user, "user.identity_link_refused", user, provider=provider.key,
                         reason="other_subject")
            raise LinkRefused(OTHER_SUBJECT % {"provider": provider.display_name})
        identity = _add_identity(user, provider, claims)
        audit.record(user, "user.identity_linked", user, provider=provider.key)
    identity.last_login_at = utcnow()
    # The person has just signed in at the provider: its groups count for this session too.
    sync_staff_roles(user, provider, claims)
    return SignInResult(user)


def other_ways_to_sign_in(user: User, provider_key: str) -> bool:
    """Would the account still have a way in without this provider's identity?"""
    if user.password_hash and local_login_allowed(user):
        return True
    for identity in identities_of(user):
        if identity.provider == provider_key:
            continue
        provider = get_provider(identity.provider)
        if provider is not None and external_login_allowed(user, provider):
            return True
    return False


def can_unlink(user: User, provider_key: str):
    """A Permission (truthy or carrying the reason) for the account page and the view."""

    if _own_identity(user, provider_key) is None:
        return deny(NOT_LINKED)
    if not other_ways_to_sign_in(user, provider_key):
        return deny(LAST_METHOD)
    return ALLOW


def unlink(user: User, provider_key: str) -> None:
    """Remove the identity (and the staff roles its mapping handed out). Raises UnlinkRefused."""
    allowed = can_unlink(user, provider_key)
    if not allowed:
        raise UnlinkRefused(allowed.reason)
    # The provider no longer keeps its roles up to date, so they go with it.
    identity = _own_identity(user, provider_key)
    if identity is not None:  # can_unlink found it
        _remove_identity(user, identity)
    audit.record(user, "user.identity_unlinked", user, provider=provider_key)


# ------------------------------------------------------------------ staff roles

def mapped_roles(provider: Provider, groups: list[str]) -> set[str]:
    wanted: set[str] = set()
    for group in groups:
        for candidate in (group, group.lstrip("/")):
            wanted.update(provider.role_map.get(candidate, ()))
    return wanted


def sync_staff_roles(user: User, provider: Provider, claims: Claims) -> tuple[list[str], list[str]]:
    """Bring the role rows of this staff provider up to date; audit every change.

    Only rows with `source = "provider:<key>"` are added or removed; a role an admin granted
    stays. When the token says the groups did not fit into it (overage), nothing is taken
    away: the roles stay as they are and a warning goes to the log and the audit log.
    """
    if not provider.staff or not provider.role_map:
        return [], []
    source = provider_source(provider.key)
    if claims.groups_incomplete:
        log.warning("Sign-in at %s: the token does not list the groups (overage); the roles "
                    "of user %s are kept as they are", provider.key, user.id)
        audit.record(None, "user.roles_claim_incomplete", user, provider=provider.key,
                     kept=sorted(r.role for r in user.role_rows if r.source == source))
        return [], []
    wanted = mapped_roles(provider, claims.groups)
    have = {r.role for r in user.role_rows}
    added = sorted(wanted - have)
    removed = sorted(r.role for r in user.role_rows if r.source == source and r.role not in wanted)
    for role in added:
        user.role_rows.append(UserRole(role=role, source=source))
        audit.record(None, "user.role_granted", user, role=role, source=source)
    for row in [r for r in user.role_rows if r.source == source and r.role in removed]:
        user.role_rows.remove(row)
        audit.record(None, "user.role_revoked", user, role=row.role, source=source)
    if added or removed:
        db.session.flush()
    return added, removed


def drop_provider_roles(user: User, keep: str | None = None) -> list[str]:
    """The person signed in another way than through a staff provider: the roles that
    provider's groups handed out are not theirs in this session, so they go (audited).
    They come back at the next sign-in through the staff provider."""
    keep_source = provider_source(keep) if keep else None
    removed = []
    for row in [r for r in user.role_rows
                if r.source != ADMIN_SOURCE and r.source != keep_source]:
        user.role_rows.remove(row)
        audit.record(None, "user.role_revoked", user, role=row.role, source=row.source,
                     reason="signed_in_otherwise")
        removed.append(row.role)
    if removed:
        db.session.flush()
    return sorted(removed)


# ------------------------------------------------------------------ signing out at the provider

def remember_for_logout(session, provider: Provider, id_token: str | None,
                        end_session_endpoint: str | None) -> None:
    """Keep what RP-initiated logout needs in the (signed) session."""
    session.pop(LOGOUT_SESSION_KEY, None)
    if provider.kind == "oidc" and id_token and end_session_endpoint:
        session[LOGOUT_SESSION_KEY] = {"provider": provider.key, "id_token": id_token,
                                       "endpoint": end_session_endpoint}


def provider_logout_url(session, post_logout_redirect_uri: str | None = None) -> str | None:
    """Where to send the browser to end the session at the provider too, or None.

    Call it in the logout view BEFORE session.clear(); redirect there instead of home.
    Without `post_logout_redirect_uri` the site's home page is used (BASE_URL based).
    """
    data = session.get(LOGOUT_SESSION_KEY)
    if not isinstance(data, dict):
        return None
    provider = get_provider(data.get("provider", ""))
    endpoint = data.get("endpoint")
    if provider is None or not endpoint or not data.get("id_token"):
        return None
    if post_logout_redirect_uri is None:
        post_logout_redirect_uri = external_url("showcase.home")
    params = {"id_token_hint": data["id_token"], "client_id": provider.client_id,
              "post_logout_redirect_uri": post_logout_redirect_uri}
    separator = "&" if urlsplit(endpoint).query else "?"
    return endpoint + separator + urlencode(params)


# ------------------------------------------------------------------ for the account page

@dataclass
class LinkedRow:
    key: str
    name: str
    identity: ExternalIdentity | None
    configured: bool
    can_unlink: object = None


def linked_overview(user: User) -> list[LinkedRow]:
    """Every configured provider (linked or not), then linked ones no longer configured."""
    mine = {i.provider: i for i in identities_of(user)}
    rows = []
    for provider in providers():
        identity = mine.pop(provider.key, None)
        rows.append(LinkedRow(provider.key, provider.display_name, identity, True,
                              can_unlink(user, provider.key) if identity else None))
    for key, identity in mine.items():
        rows.append(LinkedRow(key, key, identity, False, can_unlink(user, key)))
    return rows
