"""Provider endpoints answered in the test: an OpenID provider with realms, and GitHub.

A werkzeug server in a thread on 127.0.0.1. The test decides what each answer holds (a
token for the wrong audience, signed with the wrong key, expired ...); the app under test
talks to it over HTTP exactly as to a real provider.

    realm = fake.realm("partner")            issuer   <url>/realms/partner
    code = realm.issue(params, sub="p-1", email=...)   a code for the authorization request
    realm.id_token_overrides = {"aud": "someone-else"}
"""
from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field

from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

CLIENT_ID = "innolab-test-client"
CLIENT_SECRET = "innolab-test-secret-0123456789"
GITHUB_CLIENT_ID = "innolab-github-client"
GITHUB_CLIENT_SECRET = "innolab-github-secret-0123456789"


def _json(data, status=200) -> Response:
    return Response(json.dumps(data), status=status, mimetype="application/json")


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _basic_auth(request: Request) -> tuple[str | None, str | None]:
    auth = request.authorization
    if auth is not None and auth.type == "basic":
        return auth.username, auth.password
    return request.form.get("client_id"), request.form.get("client_secret")


@dataclass
class Grant:
    """One authorization the test let happen: what the token endpoint will answer."""

    code: str
    client_id: str
    redirect_uri: str
    code_challenge: str
    nonce: str | None
    claims: dict
    used: bool = False


@dataclass
class Realm:
    name: str
    base: str
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, {"kid": "key-1"}))
    # a key with the same kid that the JWKS does not publish (for "bad signature")
    wrong_key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, {"kid": "key-1"}))
    grants: dict = field(default_factory=dict)
    token_requests: list = field(default_factory=list)
    discovery_overrides: dict = field(default_factory=dict)
    id_token_overrides: dict = field(default_factory=dict)
    sign_with_wrong_key: bool = False
    include_id_token: bool = True

    @property
    def issuer(self) -> str:
        return f"{self.base}/realms/{self.name}"

    def discovery(self) -> dict:
        doc = {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/auth",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "end_session_endpoint": f"{self.issuer}/logout",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "authorization_response_iss_parameter_supported": True,
        }
        doc.update(self.discovery_overrides)
        return {k: v for k, v in doc.items() if v is not None}

    def reset(self) -> None:
        self.grants.clear()
        self.token_requests.clear()
        self.discovery_overrides = {}
        self.id_token_overrides = {}
        self.sign_with_wrong_key = False
        self.include_id_token = True

    def issue(self, params: dict, sub: str, **claims) -> str:
        """The user signed in at the provider: a code for this authorization request."""
        assert params["response_type"] == "code"
        assert params["code_challenge_method"] == "S256"
        code = secrets.token_urlsafe(16)
        self.grants[code] = Grant(code, params["client_id"], params["redirect_uri"],
                                  params["code_challenge"], params.get("nonce"),
                                  {"sub": sub, **claims})
        return code

    def id_token(self, grant: Grant) -> str:
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": grant.client_id, "iat": now, "exp": now + 300,
                  "auth_time": now, **grant.claims}
        if grant.nonce:
            claims["nonce"] = grant.nonce
        claims.update(self.id_token_overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        key = self.wrong_key if self.sign_with_wrong_key else self.key
        return jwt.encode({"alg": "RS256", "kid": "key-1"}, claims, key)

    def token(self, request: Request) -> Response:
        form = request.form
        client_id, secret = _basic_auth(request)
        self.token_requests.append(dict(form))
        if (client_id, secret) != (CLIENT_ID, CLIENT_SECRET):
            return _json({"error": "invalid_client"}, 401)
        grant = self.grants.get(form.get("code", ""))
        if grant is None or grant.used:
            return _json({"error": "invalid_grant"}, 400)
        grant.used = True
        if form.get("redirect_uri") != grant.redirect_uri:
            return _json({"error": "invalid_grant", "error_description": "redirect_uri"}, 400)
        if _challenge(form.get("code_verifier", "")) != grant.code_challenge:
            return _json({"error": "invalid_grant", "error_description": "PKCE"}, 400)
        body = {"access_token": secrets.token_urlsafe(16), "token_type": "Bearer",
                "expires_in": 300}
        if self.include_id_token:
            body["id_token"] = self.id_token(grant)
        return _json(body)

    def handle(self, path: str, request: Request) -> Response:
        if path == "/.well-known/openid-configuration":
            return _json(self.discovery())
        if path == "/jwks":
            return _json({"keys": [self.key.as_dict(private=False)]})
        if path == "/token" and request.method == "POST":
            return self.token(request)
        return _json({"error": "not_found"}, 404)


@dataclass
class FakeGitHub:
    base: str
    grants: dict = field(default_factory=dict)
    tokens: dict = field(default_factory=dict)
    emails_status: int = 200

    @property
    def authorize_url(self) -> str:
        return f"{self.base}/github/login/oauth/authorize"

    @property
    def token_url(self) -> str:
        return f"{self.base}/github/login/oauth/access_token"

    @property
    def api_base_url(self) -> str:
        return f"{self.base}/github/api/"

    def reset(self) -> None:
        self.grants.clear()
        self.tokens.clear()
        self.emails_status = 200

    def issue(self, params: dict, user: dict, emails: list) -> str:
        code = secrets.token_urlsafe(16)
        self.grants[code] = {"params": params, "user": user, "emails": emails, "used": False}
        return code

    def handle(self, path: str, request: Request) -> Response:
        if path == "/login/oauth/access_token" and request.method == "POST":
            client_id, secret = _basic_auth(request)
            if (client_id, secret) != (GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET):
                return _json({"error": "incorrect_client_credentials"})
            grant = self.grants.get(request.form.get("code", ""))
            if grant is None or grant["used"]:
                # GitHub answers errors with status 200
                return _json({"error": "bad_verification_code"})
            grant["used"] = True
            verifier = request.form.get("code_verifier", "")
            if _challenge(verifier) != grant["params"]["code_challenge"]:
                return _json({"error": "bad_verification_code"})
            token = "gho_" + secrets.token_urlsafe(16)
            self.tokens[token] = grant
            return _json({"access_token": token, "token_type": "bearer",
                          "scope": "read:user,user:email"})
        auth = request.headers.get("Authorization", "")
        grant = self.tokens.get(auth.removeprefix("Bearer ").strip())
        if path in ("/api/user", "/api/user/emails") and grant is None:
            return _json({"message": "Bad credentials"}, 401)
        if path == "/api/user":
            return _json(grant["user"])
        if path == "/api/user/emails":
            if self.emails_status != 200:
                return _json({"message": "Resource not accessible"}, self.emails_status)
            return _json(grant["emails"])
        return _json({"message": "Not Found"}, 404)


class FakeProviders:
    """The server; `realm(name)` and `github` hold the answers."""

    def __init__(self):
        self.server = make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.realms: dict[str, Realm] = {}
        self.github = FakeGitHub(self.url)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True,
                                       name="fake-providers")

    def realm(self, name: str) -> Realm:
        if name not in self.realms:
            self.realms[name] = Realm(name, self.url)
        return self.realms[name]

    def reset(self) -> None:
        for realm in self.realms.values():
            realm.reset()
        self.github.reset()

    def _wsgi(self, environ, start_response):
        request = Request(environ)
        path = request.path
        if path.startswith("/realms/"):
            name, _, rest = path[len("/realms/"):].partition("/")
            realm = self.realms.get(name)
            response = realm.handle("/" + rest, request) if realm else _json({}, 404)
        elif path.startswith("/github/"):
            response = self.github.handle(path[len("/github"):], request)
        else:
            response = _json({"error": "not_found"}, 404)
        return response(environ, start_response)

    def start(self) -> FakeProviders:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)
        self.server.server_close()
