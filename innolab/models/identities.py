"""Sign-in identities at external providers (OpenID Connect, GitHub) linked to an account."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from ._base import UTCDateTime, utcnow

if TYPE_CHECKING:
    from .users import User


class ExternalIdentity(Model):
    """One account at one provider. A person is found again by (provider, subject) only."""

    __tablename__ = "external_identities"
    __table_args__ = (
        UniqueConstraint("provider", "subject"),
        # one identity per provider and account: a second one is linked only after unlinking
        UniqueConstraint("user_id", "provider"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(40))  # the key in OIDC_PROVIDERS
    subject: Mapped[str] = mapped_column(String(255))  # `sub` claim, or GitHub's numeric id
    email: Mapped[str | None] = mapped_column(String(254))  # as the provider said at link time
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Linked while the account's address was not confirmed: whoever linked it has not shown
    # they own the mailbox, so it is removed when the address is confirmed or the password
    # is reset through a mailed link.
    unconfirmed: Mapped[bool] = mapped_column(default=False, server_default=false())

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<ExternalIdentity {self.provider} of user {self.user_id}>"
