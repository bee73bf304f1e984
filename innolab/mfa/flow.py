"""The second step of signing in, shared by every way in (password, reset link, provider).

`begin_sign_in(user, method, next)` replaces a direct `start_session`: a person without a
second factor is signed in at once; a person with one is not signed in yet – the session
holds only a pending state (who, how, when; nothing else of the visit) and the browser goes
to the page "Zweiter Faktor". That state lasts PENDING_SECONDS and ends with the sign-in.
"""
from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import flash, session, url_for
from flask_babel import gettext as _

from .. import links
from ..domain import accounts, identities, registration
from ..domain import mfa as domain
from ..extensions import db
from ..models import User
from ..web import SECOND_FACTOR_KEY, landing_page, redirect_to, start_session

PENDING_KEY = "innolab_mfa_pending"
PENDING_SECONDS = 5 * 60
WEBAUTHN_KEY = "innolab_webauthn"  # {purpose: challenge} of the ceremony under way


def relying_party() -> domain.RelyingParty:
    """The WebAuthn RP ID and origin: BASE_URL's (the request's host only in development
    and tests, see innolab.links)."""
    base = urlsplit(links.base_url())
    return domain.RelyingParty(id=base.hostname or "localhost",
                               origin=f"{base.scheme}://{base.netloc}")


def begin_sign_in(user: User, method: str, target: str, *, provider=None,
                  id_claims: dict | None = None, logout: dict | None = None,
                  message: str | None = None):
    """Sign `user` in, or first ask for the second factor. Commits; returns the response.

    `provider` and `id_claims` (acr, amr, auth_time of the ID token) for a sign-in through a
    provider: under the `delegated` policy a staff provider's token must show the configured
    assurance, else the sign-in is refused (a security event) and nothing of it is kept.
    `logout` is what RP-initiated logout needs (kept once the session starts)."""
    delegated = provider is not None and domain.delegated_to(provider)
    if delegated:
        why = domain.check_assurance(provider, id_claims or {})
        if why is not None:
            db.session.rollback()  # nothing of this sign-in stays (roles, last sign-in …)
            domain.refuse_assurance(provider, why)
            db.session.commit()
            flash(str(domain.ASSURANCE_MISSING % {"provider": provider.display_name}), "error")
            return redirect_to(url_for("auth.login"))
    if not delegated and domain.has_factor(user):
        lang = session.get("lang")
        session.clear()
        if lang:
            session["lang"] = lang
        session[PENDING_KEY] = {"user": user.id, "token": accounts.fingerprint(user),
                                "method": method, "at": int(time.time()), "next": target,
                                "logout": logout, "message": message}
        db.session.commit()
        return redirect_to(url_for("mfa.challenge"))
    _start(user, method, second_factor=delegated, logout=logout)
    db.session.commit()
    flash(message or _("Sie sind angemeldet."), "success")
    return redirect_to(target)


def _start(user: User, method: str, *, second_factor: bool, logout: dict | None) -> None:
    start_session(user, method, second_factor=second_factor)
    if not method.startswith("provider:"):
        # a provider's sign-in was recorded when its answer came (identities.sign_in)
        registration.record_login(user, method=method)
    if logout:
        provider = identities.get_provider(logout.get("provider") or "")
        if provider is not None:
            identities.remember_for_logout(session, provider, logout.get("id_token"),
                                           logout.get("endpoint"))


def pending() -> tuple[User, dict] | None:
    """The person half-way through signing in, if the state is fresh and still theirs."""
    state = session.get(PENDING_KEY)
    if not isinstance(state, dict):
        return None
    at = state.get("at")
    if not isinstance(at, int) or not 0 <= time.time() - at <= PENDING_SECONDS:
        return None
    user = db.session.get(User, state.get("user"))
    # A password reset or a changed address since then ends the attempt, as deactivation does.
    if user is None or not user.active or accounts.fingerprint(user) != state.get("token"):
        return None
    return user, state


def drop_pending() -> None:
    session.pop(PENDING_KEY, None)
    session.pop(WEBAUTHN_KEY, None)


def finish_sign_in(user: User, state: dict):
    """The second factor was shown: the session starts (counted as second-factor)."""
    _start(user, state.get("method") or "password", second_factor=True,
           logout=state.get("logout"))
    db.session.commit()
    flash(state.get("message") or _("Sie sind angemeldet."), "success")
    return redirect_to(state.get("next") or landing_page())


def mark_second_factor() -> None:
    """This session has now shown a second factor (a factor set up or confirmed in it)."""
    session[SECOND_FACTOR_KEY] = True


def keep_challenge(purpose: str, challenge: str) -> None:
    kept = session.get(WEBAUTHN_KEY)
    kept = dict(kept) if isinstance(kept, dict) else {}
    kept[purpose] = challenge
    session[WEBAUTHN_KEY] = kept


def take_challenge(purpose: str) -> str | None:
    """The challenge of the ceremony, used once."""
    kept = session.get(WEBAUTHN_KEY)
    if not isinstance(kept, dict):
        return None
    kept = dict(kept)
    challenge = kept.pop(purpose, None)
    session[WEBAUTHN_KEY] = kept
    return challenge if isinstance(challenge, str) else None
