"""The Authlib clients of one app, and the provider metadata checks Authlib leaves to us."""
from __future__ import annotations

import logging
from urllib.parse import urlsplit

from authlib.integrations.flask_client import OAuth
from flask import current_app

from ..domain import identities
from ..web.security import FORM_ACTION_SOURCES

log = logging.getLogger("innolab.oidc")

EXTENSION = "innolab_oauth"
HTTP_TIMEOUT = 10  # seconds for every call to a provider

# ID tokens signed with these only; never "none" and no shared-secret algorithms.
SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384",
                      "ES512", "EdDSA", "Ed25519")


class ProviderUnavailable(Exception):
    """The provider cannot be used right now (unreachable, or its metadata is wrong)."""


def init_app(app) -> None:
    providers = identities.load_providers(app)
    oauth = OAuth(app)
    for provider in providers.values():
        client_kwargs = {
            "scope": " ".join(provider.scopes),
            "code_challenge_method": "S256",
            "default_timeout": HTTP_TIMEOUT,
        }
        if provider.kind == "oidc":
            oauth.register(provider.key, client_id=provider.client_id,
                           client_secret=provider.client_secret,
                           server_metadata_url=provider.discovery_url,
                           client_kwargs=client_kwargs)
        else:
            oauth.register(provider.key, client_id=provider.client_id,
                           client_secret=provider.client_secret,
                           authorize_url=provider.authorize_url,
                           access_token_url=provider.token_url,
                           api_base_url=provider.api_base_url,
                           client_kwargs=client_kwargs)
    app.extensions[EXTENSION] = oauth
    # Tokens, codes and PKCE verifiers are logged by Authlib at DEBUG only: never below INFO.
    authlib_log = logging.getLogger("authlib")
    if authlib_log.getEffectiveLevel() < logging.INFO:
        authlib_log.setLevel(logging.INFO)

    app.jinja_env.globals["oidc_providers"] = identities.providers
    app.jinja_env.globals["oidc_linked"] = identities.linked_overview
    if providers:
        log.info("External sign-in providers: %s", ", ".join(providers))

        app.extensions.setdefault(FORM_ACTION_SOURCES, []).append(provider_origins)


def client_for(provider: identities.Provider):
    return current_app.extensions[EXTENSION].create_client(provider.key)


def metadata(provider: identities.Provider) -> dict:
    """The provider's discovery document, checked: issuer equal, safe signing algorithms."""
    client = client_for(provider)
    if provider.kind != "oidc":
        return {}
    try:
        data = client.load_server_metadata()
    except Exception as exc:  # unreachable, not JSON, HTTP error
        raise ProviderUnavailable(f"discovery failed: {type(exc).__name__}") from exc
    if data.get("issuer") != provider.issuer:
        client.server_metadata.pop("_loaded_at", None)  # ask again next time
        raise ProviderUnavailable("issuer in the discovery document differs from the configuration")
    for needed in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not data.get(needed):
            client.server_metadata.pop("_loaded_at", None)
            raise ProviderUnavailable(f"discovery document lacks {needed}")
    advertised = data.get("id_token_signing_alg_values_supported") or ["RS256"]
    data["id_token_signing_alg_values_supported"] = [
        alg for alg in advertised if alg in SIGNING_ALGORITHMS] or ["RS256"]
    return data


def _origin(url: str | None) -> str | None:
    parts = urlsplit(url or "")
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return None


def provider_origins() -> list[str]:
    """Where our forms may lead: the sign-in button and the sign-out form answer with a
    redirect to the provider, and browsers check `form-action` against every redirect."""
    origins: list[str] = []
    oauth = current_app.extensions.get(EXTENSION)
    for provider in identities.providers():
        candidates = [provider.issuer, provider.authorize_url]
        if provider.kind == "oidc" and oauth is not None:
            known = oauth.create_client(provider.key).server_metadata
            candidates += [known.get("authorization_endpoint"), known.get("end_session_endpoint")]
        for origin in map(_origin, candidates):
            if origin and origin not in origins:
                origins.append(origin)
    return origins


