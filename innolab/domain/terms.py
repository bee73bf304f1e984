"""Versions of the privacy notice and terms, and who agreed to which.

The version in force is a platform setting an admin moves on when the text changes in a way
people must agree to again (`publish_new_version`, with a summary of what changed). Everyone
whose agreed version is older is asked once before going on (`needs_consent`; the web layer
sends them to the consent page). Registration records the version in force. Every consent is
kept (`TermsConsent`) for the person's data export and as evidence.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from innolab.i18n import lazy_gettext as _l

from ..extensions import db
from ..models import TermsConsent, User
from ..models._base import utcnow
from . import DomainError, audit, settings

VERSION_SETTING = "terms.version"
SUMMARY_SETTING = "terms.summary"
FIRST_VERSION = "1"


def current_version() -> str:
    return settings.get_setting(VERSION_SETTING) or FIRST_VERSION


def changes_summary() -> str:
    return settings.get_setting(SUMMARY_SETTING) or ""


def agreed_version(user: User) -> str:
    return user.terms_version or FIRST_VERSION


def needs_consent(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and \
        agreed_version(user) != current_version()


def record_consent(user: User, via: str = "consent_page") -> None:
    version = current_version()
    user.terms_version = version
    db.session.add(TermsConsent(user_id=user.id, version=version))
    audit.record(user, "consent.terms", user, version=version, via=via)


def publish_new_version(actor, summary: str) -> str:
    """Put a new version in force; everyone is asked to agree again. Returns the version."""
    summary = (summary or "").strip()
    if not summary:
        raise DomainError(_l("Bitte beschreiben Sie kurz, was sich geändert hat."))
    old = current_version()
    version = str(int(old) + 1) if old.isdigit() else utcnow().strftime("%Y%m%d%H%M")
    settings.set_setting(actor, VERSION_SETTING, version)
    settings.set_setting(actor, SUMMARY_SETTING, summary[:500])
    return version


@dataclass(frozen=True)
class Standing:
    version: str
    summary: str
    agreed: int
    accounts: int


def standing() -> Standing:
    """For the admin: the version in force and how many active accounts agreed to it."""
    version = current_version()
    active = User.active.is_(True)
    agreed_clause = func.coalesce(User.terms_version, FIRST_VERSION) == version
    accounts = db.session.execute(select(func.count()).where(active)).scalar_one()
    agreed = db.session.execute(select(func.count()).where(active, agreed_clause)).scalar_one()
    return Standing(version, changes_summary(), agreed, accounts)


def history(user: User) -> list[TermsConsent]:
    return list(db.session.execute(
        select(TermsConsent).where(TermsConsent.user_id == user.id)
        .order_by(TermsConsent.given_at)).scalars())
