"""Second factors of an account (TOTP apps, passkeys) and its recovery codes."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from ._base import UTCDateTime, utcnow

KIND_TOTP = "totp"
KIND_WEBAUTHN = "webauthn"


class SecondFactor(Model):
    """One second factor of a person: an authenticator app (TOTP) or a passkey (WebAuthn).

    The TOTP secret is stored encrypted (a key derived from SECRET_KEY, domain/mfa.py);
    `totp_last_step` is the time step of the last code accepted, so a code works once.
    A passkey keeps its credential id (base64url), public key (COSE), signature counter and
    the transports the browser reported.
    """

    __tablename__ = "second_factors"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(100))
    totp_secret: Mapped[str | None] = mapped_column(Text)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    credential_id: Mapped[str | None] = mapped_column(String(1400), unique=True)
    public_key: Mapped[bytes | None] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    transports: Mapped[str | None] = mapped_column(String(200))  # space-separated
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def transport_list(self) -> list[str]:
        return (self.transports or "").split()


class RecoveryCode(Model):
    """A one-time code for signing in without the factor; only its HMAC is stored."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
