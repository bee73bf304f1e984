"""Users and their staff roles."""
from __future__ import annotations

import enum
import secrets
from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from ._base import UTCDateTime, utcnow

if TYPE_CHECKING:
    from .organisations import Membership


class Role(str, enum.Enum):
    """Staff roles. A staff member can hold several; partner users hold none."""

    ADMIN = "admin"
    COORDINATOR = "coordinator"
    REVIEWER = "reviewer"
    DECIDER = "decider"
    DPO = "dpo"  # data-protection officer (Datenschutzbeauftragte/r)
    ISO = "iso"  # information-security officer (Informationssicherheitsbeauftragte/r)


ADMIN_SOURCE = "admin"


def provider_source(key: str) -> str:
    return f"provider:{key}"


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class User(UserMixin, Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    locale: Mapped[str] = mapped_column(String(5), default="de")
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    active: Mapped[bool] = mapped_column(default=True)
    # Part of the id kept in the session cookie; a new value ends every session.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The version of the privacy notice and terms the person last agreed to (domain/terms.py);
    # None: the first version, for accounts from before versions were kept and accounts made
    # through an identity provider or an invitation.
    terms_version: Mapped[str | None] = mapped_column(String(20))
    # Set when the person deleted the account (domain/privacy.py): the row stays, anonymised,
    # for the records that must be kept; `pseudonym` is shown where the person appears there.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    pseudonym: Mapped[str | None] = mapped_column(String(16), unique=True)

    role_rows: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    # Flask-Login
    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return self.session_token

    def end_all_sessions(self) -> None:
        self.session_token = new_session_token()

    pending_grants: Mapped[list[PendingRoleGrant]] = relationship(
        back_populates="user", cascade="all, delete-orphan",
        foreign_keys="PendingRoleGrant.user_id",
    )

    @property
    def roles(self) -> set[Role]:
        return {Role(r.role) for r in self.role_rows}

    def has_role(self, *roles: Role) -> bool:
        mine = {r.value for r in self.roles}
        return any(Role(r).value in mine for r in roles)

    @property
    def is_staff(self) -> bool:
        return bool(self.role_rows)

    @property
    def email_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class UserRole(Model):
    __tablename__ = "user_roles"
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Who keeps the role: "admin" (granted in the administration, through an invitation link)
    # or "provider:<key>" (the groups of that staff provider; held only while the person signs
    # in through it, see domain/identities.py).
    source: Mapped[str] = mapped_column(String(60), default=ADMIN_SOURCE,
                                        server_default=ADMIN_SOURCE)

    user: Mapped[User] = relationship(back_populates="role_rows")

    def __init__(self, **kw):
        kw.setdefault("source", ADMIN_SOURCE)
        super().__init__(**kw)

    @property
    def provider_key(self) -> str | None:
        return self.source.split(":", 1)[1] if self.source.startswith("provider:") else None


class PendingRoleGrant(Model):
    """Roles an admin granted that take effect only once the link mailed to the account's
    address is followed by the account holder (a staff invitation)."""

    __tablename__ = "pending_role_grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    roles: Mapped[str] = mapped_column(String(200))  # space-separated role values
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    granted_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(back_populates="pending_grants", foreign_keys=[user_id])
    granted_by: Mapped[User | None] = relationship(foreign_keys=[granted_by_id])

    @property
    def role_values(self) -> list[str]:
        return self.roles.split()
