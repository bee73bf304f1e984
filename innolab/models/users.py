"""Users and their staff roles."""
from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, UniqueConstraint, update
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model, db
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


class User(UserMixin, Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    locale: Mapped[str] = mapped_column(String(5), default="de")
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    active: Mapped[bool] = mapped_column(default=True)
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

    def use_session_token(self, token: str) -> None:
        """The raw token of the session this object was signed in or loaded with (set by
        web.start_session and the user loader): what Flask-Login keeps in the cookie."""
        self._login_token: str | None = token

    def get_id(self) -> str:
        token = getattr(self, "_login_token", None)
        if not token:
            raise RuntimeError("no session token: sign in with web.start_session")
        return token

    def __eq__(self, other):  # UserMixin compares get_id(); one person is one row
        if isinstance(other, User):
            return self is other or (self.id is not None and self.id == other.id)
        return NotImplemented

    __hash__ = object.__hash__

    def end_all_sessions(self, reason: str = "ended", keep: int | None = None) -> None:
        """End every session of this person on every device (but the session `keep`)."""
        stmt = (update(UserSession)
                .where(UserSession.user_id == self.id, UserSession.ended_at.is_(None))
                .values(ended_at=utcnow(), end_reason=reason[:30])
                .execution_options(synchronize_session=False))
        if keep is not None:
            stmt = stmt.where(UserSession.id != keep)
        db.session.execute(stmt)

    pending_grants: Mapped[list[PendingRoleGrant]] = relationship(
        back_populates="user", cascade="all, delete-orphan",
        foreign_keys="PendingRoleGrant.user_id",
    )

    @property
    def roles(self) -> set[Role]:
        return {Role(r.role) for r in self.role_rows}

    def has_role(self, *roles: Role) -> bool:
        # asked many times a page (every permission check): the stored values, no Role set
        mine = {r.role for r in self.role_rows}
        return any(Role(r).value in mine for r in roles)

    @property
    def is_staff(self) -> bool:
        return bool(self.role_rows)

    @property
    def email_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    def __repr__(self) -> str:
        return f"<User {self.id} {self.email}>"


class UserSession(Model):
    """One signed-in browser: what the person sees under "Angemeldete Geräte" and can end.

    The cookie holds the random token (as Flask-Login's id); the table only its SHA-256, so a
    copy of the table signs nobody in. See domain/sessions.py.
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    # why it ended: logout, ended (by the person), others, password, idle, expired, admin …
    end_reason: Mapped[str | None] = mapped_column(String(30))
    method: Mapped[str] = mapped_column(String(60), default="password")
    second_factor: Mapped[bool] = mapped_column(default=False)
    client_address: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(300))

    user: Mapped[User] = relationship()


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
