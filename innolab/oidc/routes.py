"""Sign in, link and unlink with external providers (authorization code flow with PKCE).

POST /login/external/<provider>           oidc.login    start signing in (button on the login page)
POST /login/external/<provider>/link      oidc.link     start linking (account page, signed in)
GET  /login/external/<provider>/callback  oidc.callback the provider sends the browser back here
POST /login/external/<provider>/unlink    oidc.unlink   remove a linked provider
GET  /login/external/<provider>/sent   oidc.check_mailbox  "please check your mailbox" (a new
     account to confirm, or an address already in use: the same page for both)

Every way out of the callback is an immediate 303 redirect, so the code does not stay in the
address bar, and every failure ends on the sign-in page with a message (never a 500).
"""
from __future__ import annotations

import logging
import secrets
import time

from authlib.common.errors import AuthlibBaseError
from flask import abort, flash, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from joserfc.errors import JoseError
from requests import RequestException

from .. import links
from ..domain import audit, identities
from ..domain.identities import CheckMailbox, SignInRefused
from ..extensions import db, limiter
from ..mfa.flow import begin_sign_in
from ..domain import mfa
from ..models.users import provider_source
from ..web import (
    landing_page, mark_recent_auth, recent_auth_required, redirect_to, render, safe_next,
)
from . import bp
from .client import ProviderUnavailable, client_for, metadata
from .forms import ButtonForm, StartForm

log = logging.getLogger("innolab.oidc")

START_LIMIT = "20/minute"
MAILBOX_SESSION_KEY = "oidc_check_mailbox"


class CallbackRejected(Exception):
    """The provider's answer is not acceptable; the message is for the log (no secrets)."""


def _refused(provider, reason: str) -> None:
    """A refused callback as a security event in the audit log (reason without secrets)."""
    audit.record(None, "security.provider_callback_refused", None, provider=provider.key,
                 reason=reason[:200])
    db.session.commit()


def _provider(key: str) -> identities.Provider:
    provider = identities.get_provider(key)
    if provider is None:
        abort(404)
    return provider


def _home() -> str:
    return url_for("showcase.home")


def _to_login(message: str, category: str = "error"):
    flash(message, category)
    return redirect_to(url_for("auth.login"))


def _to_account(message: str, category: str = "error"):
    flash(message, category)
    return redirect_to(url_for("auth.settings"))


def _absolute(endpoint: str, **values) -> str | None:
    """The redirect URI for the provider (innolab.links: BASE_URL, the request's host only in
    development and tests), or None when production lacks BASE_URL: refuse rather than trust
    the Host header."""
    try:
        return links.external_url(endpoint, **values)
    except links.NoBaseURL:
        return None


def _unavailable_message(provider) -> str:
    return _("Die Anmeldung über %(provider)s ist gerade nicht möglich. Bitte versuchen Sie es "
             "später noch einmal oder melden Sie sich mit Ihrer E-Mail-Adresse und Ihrem "
             "Passwort an.", provider=provider.display_name)


# ------------------------------------------------------------------ start

PENDING_KEPT = 2  # unfinished attempts kept besides the new one (say, a second tab)


def _forget_old_attempts() -> None:
    """Keep the session cookie small: drop all but the newest unfinished attempts."""
    pending = sorted(
        (k for k in session if k.startswith("_state_") and isinstance(session[k], dict)),
        key=lambda k: session[k].get("exp") or 0,
    )
    for key in pending[:-PENDING_KEPT] if len(pending) > PENDING_KEPT else []:
        session.pop(key, None)


# How long ago (seconds) the provider may say the person signed in for a re-authentication:
# it was asked to make them sign in now (prompt=login, max_age=0); a little clock skew only.
REAUTH_AUTH_TIME_SKEW = 120


def _to_reauth(next_url: str | None):
    def back(message: str, category: str = "error"):
        flash(message, category)
        return redirect_to(url_for("auth.reauthenticate", next=next_url or None))
    return back


def _back_for(data: dict | None):
    intent = (data or {}).get("intent")
    if intent == "link":
        return _to_account
    if intent == "reauth":
        return _to_reauth(data.get("next") if data else None)
    return _to_login


def _start(provider: identities.Provider, **data):
    back = _back_for(data)
    try:
        metadata(provider)
    except ProviderUnavailable as exc:
        log.warning("Sign-in at %s not started: %s", provider.key, exc)
        return back(_unavailable_message(provider))
    redirect_uri = _absolute("oidc.callback", provider=provider.key)
    if redirect_uri is None:
        log.error("Sign-in at %s refused: set BASE_URL in production",
                  provider.key)
        return back(_unavailable_message(provider))
    client = client_for(provider)
    # 256 bits each; Authlib's own defaults are shorter. Both are used once (see callback).
    state = secrets.token_urlsafe(32)
    params = {"state": state}
    if provider.kind == "oidc":
        params["nonce"] = secrets.token_urlsafe(32)
        if data.get("intent") == "login":
            params.update(mfa.authorization_params(provider))  # acr_values, max_age
        elif data.get("intent") == "reauth":
            # The provider must ask again, not answer from its own session (OIDC Core 3.1.2.1).
            params["prompt"] = "login"
            params["max_age"] = "0"
    try:
        created = client.create_authorization_url(redirect_uri, **params)
    except Exception as exc:  # metadata fetched just before; anything else is a provider fault
        log.warning("Sign-in at %s not started: %s", provider.key, type(exc).__name__)
        return back(_unavailable_message(provider))
    stored = {"redirect_uri": redirect_uri, "code_verifier": created["code_verifier"], **data}
    if provider.kind == "oidc":
        stored["nonce"] = created["nonce"]
    _forget_old_attempts()
    client.framework.set_state_data(session, created["state"], stored)
    return redirect_to(created["url"])


@bp.post("/<provider>")
@limiter.limit(START_LIMIT)
def login(provider):
    provider = _provider(provider)
    form = StartForm()
    target = safe_next(form.next.data, landing_page())
    if current_user.is_authenticated:
        return redirect_to(target)
    return _start(provider, intent="login", next=target)


@bp.post("/<provider>/link")
@login_required
@recent_auth_required
@limiter.limit(START_LIMIT)
def link(provider):
    provider = _provider(provider)
    return _start(provider, intent="link", user=current_user.id)


@bp.post("/<provider>/reauth")
@login_required
@limiter.limit(START_LIMIT)
def reauth(provider):
    """Confirm who one is by signing in at a linked provider again (re-authentication)."""
    provider = _provider(provider)
    target = safe_next(request.form.get("next"), url_for("auth.settings"))
    return _start(provider, intent="reauth", user=current_user.id, next=target,
                  started=int(time.time()))


# ------------------------------------------------------------------ callback

def _claims(provider: identities.Provider, stored: dict) -> tuple[identities.Claims, dict]:
    """Exchange the code and read who signed in. Raises on anything not acceptable."""
    client = client_for(provider)
    code = request.args.get("code")
    if not code:
        raise CallbackRejected("no code")
    if provider.kind == "oidc":
        data = metadata(provider)
        # RFC 9207: the issuer of the response, checked before the code goes anywhere.
        iss = request.args.get("iss")
        if ((data.get("authorization_response_iss_parameter_supported") or iss is not None)
                and iss != provider.issuer):
            raise CallbackRejected("iss parameter missing or different")
        token = client.fetch_access_token(redirect_uri=stored["redirect_uri"], code=code,
                                          code_verifier=stored["code_verifier"])
        if "id_token" not in token:
            raise CallbackRejected("no ID token")
        userinfo = client.parse_id_token(
            token, nonce=stored["nonce"],
            claims_options={
                "iss": {"essential": True, "value": provider.issuer},
                "aud": {"essential": True, "value": provider.client_id},
                "exp": {"essential": True},
                "sub": {"essential": True},
            },
        )
        return identities.claims_from_oidc(provider, dict(userinfo)), {
            "id_token": token["id_token"], "end_session_endpoint": data.get("end_session_endpoint"),
            "assurance": {k: userinfo.get(k) for k in ("acr", "amr", "auth_time")},
            "auth_time": userinfo.get("auth_time")}
    token = client.fetch_access_token(redirect_uri=stored["redirect_uri"], code=code,
                                      code_verifier=stored["code_verifier"])
    headers = {"Accept": "application/vnd.github+json"}
    user = client.get("user", token=token, headers=headers)
    user.raise_for_status()
    emails = client.get("user/emails", token=token, headers=headers)
    emails_json = emails.json() if emails.ok else []
    return identities.claims_from_github(user.json(), emails_json), {}


@bp.get("/<provider>/callback")
def callback(provider):
    provider = _provider(provider)
    client = client_for(provider)
    state = request.args.get("state")
    stored = client.framework.get_state_data(session, state) if state else None
    if state:
        client.framework.clear_state_data(session, state)  # single use, whatever follows
    back = _back_for(stored)

    error = request.args.get("error")
    if error:
        log.info("Provider %s answered with error %r", provider.key, error[:64])
        if error != "access_denied":  # a person who cancelled is no security event
            _refused(provider, f"provider error {error[:64]!r}")
        if error == "access_denied":
            return back(_("Die Anmeldung über %(provider)s wurde abgebrochen.",
                          provider=provider.display_name), "info")
        return back(_("%(provider)s hat die Anmeldung nicht bestätigt. Bitte versuchen Sie es "
                      "noch einmal.", provider=provider.display_name))
    if stored is None:
        log.warning("Callback of %s with an unknown or used state", provider.key)
        _refused(provider, "unknown or used state")
        return _to_login(_("Die Anmeldung ist abgelaufen oder wurde schon verwendet. Bitte "
                           "versuchen Sie es noch einmal."))

    try:
        claims, logout_data = _claims(provider, stored)
    except ProviderUnavailable as exc:
        log.warning("Sign-in at %s failed: %s", provider.key, exc)
        return back(_unavailable_message(provider))
    except (CallbackRejected, AuthlibBaseError, JoseError, RequestException, ValueError,
            KeyError, TypeError) as exc:
        # The class name only: messages may quote tokens or codes.
        # JOSE errors name the claim that failed; they never quote the token.
        detail = f" ({str(exc)[:200]})" if isinstance(exc, (CallbackRejected, JoseError)) else ""
        log.warning("Sign-in at %s rejected: %s%s", provider.key, type(exc).__name__, detail)
        _refused(provider, f"{type(exc).__name__}{detail}")
        return back(_("Die Anmeldung über %(provider)s konnte nicht bestätigt werden. Bitte "
                      "versuchen Sie es noch einmal.", provider=provider.display_name))

    if stored.get("intent") == "link":
        return _finish_link(provider, stored, claims)
    if stored.get("intent") == "reauth":
        return _finish_reauth(provider, stored, claims, logout_data)
    return _finish_login(provider, stored, claims, logout_data)


def _finish_reauth(provider, stored, claims, logout_data):
    """The same person, through the same linked identity, has just signed in at the provider."""
    back = _back_for(stored)
    if not current_user.is_authenticated or current_user.id != stored.get("user"):
        return _to_login(_("Bitte melden Sie sich an."))
    user = current_user._get_current_object()
    identity = identities.identity_for(provider.key, claims.subject)
    reason = None
    if identity is None or identity.user_id != user.id:
        reason = "other_identity"
    elif provider.kind == "oidc":
        auth_time = logout_data.get("auth_time")
        if not isinstance(auth_time, (int, float)) or \
                auth_time < stored.get("started", 0) - REAUTH_AUTH_TIME_SKEW:
            reason = "not_asked_again"  # the provider answered from an older sign-in
    if reason is not None:
        audit.record(user, "security.reauth_failed", user, method=provider_source(provider.key),
                     reason=reason)
        db.session.commit()
        if reason == "other_identity":
            return back(_("Sie haben sich bei %(provider)s mit einem anderen Konto angemeldet "
                          "als dem, das mit Ihrem InnoLab-Konto verknüpft ist.",
                          provider=provider.display_name))
        return back(_("%(provider)s hat nicht bestätigt, dass Sie sich gerade erneut angemeldet "
                      "haben. Bitte versuchen Sie es noch einmal.",
                      provider=provider.display_name))
    mark_recent_auth()
    audit.record(user, "user.reauthenticated", user, method=provider_source(provider.key))
    db.session.commit()
    return redirect_to(safe_next(stored.get("next"), url_for("auth.settings")))


def _finish_login(provider, stored, claims, logout_data):
    try:
        result = identities.sign_in(provider, claims, str(get_locale() or "de"))
    except CheckMailbox:
        # A new account waiting for its confirmation, or an address that already has an
        # account (its owner got a mail): the same answer, so it tells nobody which it was.
        db.session.commit()
        session[MAILBOX_SESSION_KEY] = provider.key
        return redirect_to(url_for("oidc.check_mailbox", provider=provider.key))
    except SignInRefused as exc:
        db.session.commit()  # the audit event (nothing else was changed)
        return _to_login(str(exc.reason))
    # nothing of the anonymous session survives (but the language); a second factor first
    return begin_sign_in(
        result.user, provider_source(provider.key), safe_next(stored.get("next"), landing_page()),
        provider=provider, id_claims=logout_data.get("assurance"),
        logout={"provider": provider.key, "id_token": logout_data.get("id_token"),
                "endpoint": logout_data.get("end_session_endpoint")},
        message=_("Willkommen beim InnoLab! Ihr Konto wurde angelegt.") if result.created
        else None)


def _finish_link(provider, stored, claims):
    if not current_user.is_authenticated or current_user.id != stored.get("user"):
        return _to_login(_("Bitte melden Sie sich an und verknüpfen Sie den Anbieter erneut."))
    user = current_user._get_current_object()
    try:
        identities.link(user, provider, claims)
    except SignInRefused as exc:
        db.session.commit()  # the audit event
        return _to_account(str(exc.reason))
    db.session.commit()
    return _to_account(_("%(provider)s ist jetzt mit Ihrem Konto verknüpft. Sie können sich "
                         "künftig auch darüber anmelden.", provider=provider.display_name),
                       "success")


# ------------------------------------------------------------------ unlink, conflict page

@bp.post("/<provider>/unlink")
@login_required
def unlink(provider):
    ButtonForm()  # CSRF is checked for every POST by CSRFProtect
    configured = identities.get_provider(provider)
    name = configured.display_name if configured else provider
    user = current_user._get_current_object()
    try:
        identities.unlink(user, provider)
    except SignInRefused as exc:
        return _to_account(str(exc.reason))
    data = session.get(identities.LOGOUT_SESSION_KEY)
    if isinstance(data, dict) and data.get("provider") == provider:
        session.pop(identities.LOGOUT_SESSION_KEY)
    db.session.commit()
    return _to_account(_("Die Verknüpfung mit %(provider)s wurde getrennt.", provider=name),
                       "success")


@bp.get("/<provider>/sent")
def check_mailbox(provider):
    provider = _provider(provider)
    if session.get(MAILBOX_SESSION_KEY) != provider.key:
        return redirect_to(url_for("auth.login"))
    return render(
        "auth/sent.html", title=_("Bitte prüfen Sie Ihr Postfach"),
        text=_("Wir haben Ihnen eine E-Mail an die Adresse geschickt, die %(provider)s uns "
               "übermittelt hat. Bitte folgen Sie dem Link darin, um fortzufahren. Sollte die "
               "E-Mail nicht ankommen, sehen Sie bitte auch im Spam-Ordner nach.",
               provider=provider.display_name))
