"""Browser tests: a live InnoLab server, Debian's Chromium through Playwright, axe-core checks.

Every page a test loads is checked with axe-core (WCAG 2.1 A and AA). The helpers make that
the easy path: `ui.visit(path)` and `ui.submit(locator)` (a click that loads a new page) both
run axe on the page they arrive at, `ui.check()` does it after an htmx swap. A page that was
loaded but never checked fails the test at its end.

The live app has its own database (a fresh SQLite file, or the PostgreSQL database
`<test database>_browser` next to TEST_DATABASE_URL), real CSRF protection and no rate limits.
"""
from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
AXE_JS = ROOT / "static" / "vendor" / "axe" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
TIMEOUT_MS = 10_000


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.path)).parent == here:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Remember each phase's result on the item, so fixtures can tell a failed test."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def _unavailable(message: str):
    """Missing tools fail the run on CI and skip it on a developer's machine."""
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


# --------------------------------------------------------------------------- isolation


@pytest.fixture(autouse=True)
def _clean_tables():
    """Replaces the top-level autouse clean-up: the live app has its own database."""
    yield


# --------------------------------------------------------------------------- the database


def _postgres_admin_url(test_url: str) -> tuple[str, str]:
    """(URL of the `postgres` maintenance database, URL of the browser database)."""
    from sqlalchemy.engine import make_url

    url = make_url(test_url)
    if url.drivername in ("postgres", "postgresql+psycopg", "postgresql+psycopg2"):
        url = url.set(drivername="postgresql")
    admin = url.set(database="postgres").render_as_string(hide_password=False)
    browser = url.set(database=browser_db(url.database)).render_as_string(hide_password=False)
    return admin, browser


def browser_db(test_db: str | None) -> str:
    """The live app's database, named after the test database: two runs against different
    test databases (e.g. two checkouts) never drop each other's."""
    return f"{test_db or 'test'}_browser"


def _postgres(admin_url: str, statement: str) -> None:
    import psycopg

    # CREATE/DROP DATABASE cannot run inside a transaction.
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(statement)


@pytest.fixture(scope="module")
def live_database(tmp_path_factory):
    from sqlalchemy.engine import make_url

    test_url = os.environ.get("TEST_DATABASE_URL")
    if not test_url:
        yield "sqlite:///" + str(tmp_path_factory.mktemp("browser-db") / "browser.sqlite")
        return
    admin, browser = _postgres_admin_url(test_url)
    name = make_url(browser).database
    _postgres(admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    _postgres(admin, f"CREATE DATABASE {name}")
    yield browser
    _postgres(admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# --------------------------------------------------------------------------- the live server


class _ErrorLog(logging.Handler):
    """Collects what the app logs as errors (the 500 handler logs the traceback)."""

    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.records: list[str] = []

    def emit(self, record):
        try:
            self.records.append(self.format(record))
        except Exception:  # pragma: no cover - never break the server over logging
            self.records.append(record.getMessage())


@pytest.fixture(scope="module")
def live_app(live_database, tmp_path_factory):
    """The app served by werkzeug on 127.0.0.1 (a free port) in a thread; `live_app.url`."""
    from werkzeug.serving import make_server

    from innolab import create_app
    from innolab.config import _database_url as normalise
    from innolab.extensions import db

    app = create_app({
        "TESTING": False,
        "SECRET_KEY": "browser-test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": normalise(live_database),
        "WTF_CSRF_ENABLED": True,
        "RATELIMIT_ENABLED": False,
        "UPLOAD_FOLDER": str(tmp_path_factory.mktemp("browser-uploads")),
        "SMTP_HOST": "",
        "SERVER_NAME": None,
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
        "TRUSTED_HOSTS": None,
        "PROXY_FIX": False,
        "MFA_ENFORCE_ENROLMENT": False,  # the passkey test switches it on
    })
    with app.app_context():
        db.drop_all()
        db.create_all()

    errors = _ErrorLog()
    errors.setFormatter(logging.Formatter("%(name)s: %(message)s"))
    logging.getLogger().addHandler(errors)

    server = make_server("127.0.0.1", 0, app, threaded=True)
    app.url = f"http://127.0.0.1:{server.server_port}"
    app.config["BASE_URL"] = app.url  # links in mails point to the live server
    app.error_log = errors
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield app
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        logging.getLogger().removeHandler(errors)
        with app.app_context():
            db.session.remove()
            db.drop_all()
            db.engine.dispose()


# --------------------------------------------------------------------------- set-up data


@pytest.fixture(scope="module")
def make(live_app):
    """make(factory_name, *args, **kw) runs a tests.factories function in the live database.

    Returns the object's id (objects do not outlive the app context)."""
    from tests import factories

    def _make(name, *args, **kw):
        with live_app.app_context():
            obj = getattr(factories, name)(*args, **kw)
            return obj.id

    return _make


@pytest.fixture(scope="module")
def staff_account(live_app):
    """staff_account(*roles, email=..., name=...) -> (email, password), like `create-admin`."""
    from tests import factories

    def _staff(*roles, email, name):
        with live_app.app_context():
            factories.staff(*roles, email=email, name=name)
        return email, factories.PASSWORD

    return _staff


@pytest.fixture(scope="module")
def in_db(live_app):
    """in_db(fn) runs fn() in the live app's context and returns its result (for reading)."""

    def _run(fn):
        from innolab.extensions import db

        with live_app.app_context():
            try:
                return fn()
            finally:
                db.session.remove()

    return _run


def sign_in(ui, email: str, password: str | None = None) -> None:
    """Sign in through the real login form (no page asked for: it ends on the landing page)."""
    from playwright.sync_api import expect

    from tests.factories import PASSWORD

    ui.visit(ui.url_for("auth.login"))
    page = ui.page
    page.get_by_label("E-Mail-Adresse").fill(email)
    page.get_by_label("Passwort", exact=True).fill(password or PASSWORD)
    ui.submit(page.locator("main").get_by_role("button", name="Anmelden"))
    expect(page.get_by_role("button", name="Abmelden")).to_be_visible()


# --------------------------------------------------------------------------- mail


@dataclass(frozen=True)
class Mail:
    recipient: str
    subject: str
    body: str

    def links(self) -> list[str]:
        return re.findall(r"https?://[^\s<>\"')\]]+", self.body)

    def link(self, containing: str) -> str:
        found = [u for u in self.links() if containing in u]
        assert found, f"Kein Link mit {containing!r} in der Mail „{self.subject}“:\n{self.body}"
        return found[0]


@pytest.fixture(scope="module")
def mails(live_app):
    """mails(recipient=None) -> the mails queued in the live app's outbox, oldest first."""
    from sqlalchemy import select

    from innolab.extensions import db
    from innolab.models import OutboxMail

    def _mails(recipient: str | None = None) -> list[Mail]:
        with live_app.app_context():
            q = select(OutboxMail).order_by(OutboxMail.id)
            if recipient:
                q = q.where(OutboxMail.recipient == recipient.lower())
            rows = db.session.execute(q).scalars().all()
            result = [Mail(m.recipient, m.subject, m.body_text) for m in rows]
            db.session.remove()
            return result

    return _mails


@pytest.fixture(scope="module")
def mail_link(mails):
    """mail_link(recipient, containing) -> the link from the newest mail that has one."""

    def _link(recipient: str, containing: str, timeout: float = 5.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            for mail in reversed(mails(recipient)):
                found = [u for u in mail.links() if containing in u]
                if found:
                    return found[0]
            if time.monotonic() > deadline:
                summary = "\n---\n".join(f"{m.subject}\n{m.body}" for m in mails(recipient))
                pytest.fail(f"Keine Mail an {recipient} mit einem Link auf {containing!r}. "
                            f"Mails:\n{summary or '(keine)'}")
            time.sleep(0.1)

    return _link


# --------------------------------------------------------------------------- browser


@pytest.fixture(scope="session")
def browser():
    if not os.path.exists(CHROMIUM):
        _unavailable("Chromium nicht installiert: apt-get install chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright nicht installiert: .venv/bin/pip install -e '.[test]'")
    if not AXE_JS.exists():
        _unavailable(f"axe-core fehlt ({AXE_JS.relative_to(ROOT)}): make setup")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def format_violations(url: str, violations: list[dict]) -> str:
    lines = [f"axe: {len(violations)} Verstoß/Verstöße gegen WCAG 2.1 AA auf {url}"]
    for v in violations:
        lines.append(f"- [{v.get('impact')}] {v['id']}: {v['help']} ({v.get('helpUrl', '')})")
        for node in v.get("nodes", [])[:8]:
            target = " ".join(str(t) for t in node.get("target", []))
            summary = (node.get("failureSummary") or "").replace("\n", " | ")
            lines.append(f"    at {target}: {node.get('html', '')[:160]}")
            if summary:
                lines.append(f"       {summary[:300]}")
        if len(v.get("nodes", [])) > 8:
            lines.append(f"    ... und {len(v['nodes']) - 8} weitere Stellen")
    return "\n".join(lines)


class UI:
    """One browser tab with the checks every page must pass.

    visit(path)        load a page, expect a status < 400 (or `status=`), run axe
    submit(locator)    click something that loads a new page, same checks
    check()            run axe on the current page (after an htmx swap, say)
    """

    def __init__(self, page, live_app, name: str):
        self.page = page
        self.app = live_app
        self.base = live_app.url
        self.name = name
        self.loads: list[list] = []  # [url, checked]
        self.problems: list[str] = []  # CSP violations, script errors, 5xx answers
        page.set_default_timeout(TIMEOUT_MS)
        page.on("load", lambda: self.loads.append([page.url, False]))
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"JavaScript-Fehler: {exc}"))
        page.on("response", self._response)
        # window.confirm (static/js/confirm.js without <dialog> support): "yes"
        page.on("dialog", lambda dialog: dialog.accept())

    # -- listeners
    def _console(self, msg):
        text = msg.text
        if msg.type == "error" and ("Content Security Policy" in text or "Refused to" in text):
            self.problems.append(f"CSP: {text}")

    def _response(self, response):
        if response.status >= 500 and response.url.startswith(self.base):
            self.problems.append(f"{response.status} für {response.request.method} {response.url}")

    # -- navigation
    def url(self, path: str) -> str:
        return path if path.startswith("http") else self.base + path

    def url_for(self, endpoint: str, **values) -> str:
        """The path of an endpoint (the endpoint names are the contract, not the URLs)."""
        from flask import url_for

        with self.app.test_request_context():
            return url_for(endpoint, **values)

    def visit(self, path: str, status: int | None = None, axe: bool = True):
        response = self.page.goto(self.url(path))
        self._expect_status(response, status, f"GET {path}")
        if axe:
            self.check()
        return response

    def submit(self, locator, status: int | None = None, axe: bool = True):
        """Click a button or link that loads a new page (form post, redirect, HX-Redirect)."""
        with self.page.expect_navigation(wait_until="load") as nav:
            locator.click()
        response = nav.value
        self._expect_status(response, status, f"nach Klick auf {locator}")
        if axe:
            self.check()
        return response

    def submit_confirmed(self, locator, status: int | None = None, axe: bool = True):
        """Click a button of an irreversible step: the confirmation dialog opens
        (static/js/confirm.js; axe checks the page with it open), its confirm button sends
        the form, the new page is checked as with `submit`."""
        locator.click()
        dialog = self.page.locator("#confirm-dialog")
        dialog.wait_for(state="visible")
        if axe:
            self.check()
        with self.page.expect_navigation(wait_until="load") as nav:
            dialog.locator("[data-confirm-ok]").click()
        response = nav.value
        self._expect_status(response, status, f"nach Bestätigung von {locator}")
        if axe:
            self.check()
        return response

    def _expect_status(self, response, status, what):
        self.assert_no_problems()
        if response is None:
            return
        if status is None:
            assert response.status < 400, (
                f"{what}: Status {response.status} auf {response.url}\n{self._page_text()}"
            )
        else:
            assert response.status == status, (
                f"{what}: Status {response.status} statt {status} auf {response.url}\n"
                f"{self._page_text()}"
            )

    def _page_text(self) -> str:
        try:
            return self.page.locator("main").inner_text(timeout=1000)[:1500]
        except Exception:
            return ""

    # -- checks
    def assert_no_problems(self):
        if self.problems:
            server = "\n".join(self.app.error_log.records[-3:])
            problems, self.problems = self.problems, []
            pytest.fail(f"[{self.name}] Probleme auf {self.page.url}:\n" + "\n".join(problems)
                        + (f"\nServer-Log:\n{server}" if server else ""))

    def check(self, context: str | None = None):
        """Run axe-core (WCAG 2.1 A/AA) on the current page and fail on any violation."""
        from playwright.sync_api import Error as PlaywrightError

        for attempt in range(3):
            self.page.wait_for_load_state("load")
            self.assert_no_problems()
            try:
                result = self._axe_run(context)
                break
            except PlaywrightError as exc:
                # A navigation still under way replaced the document (a click right after an
                # htmx history push): check the page it lands on instead.
                if "Execution context was destroyed" not in str(exc) or attempt == 2:
                    raise
        if self.loads:
            self.loads[-1][1] = True
        if result:
            pytest.fail(f"[{self.name}] " + format_violations(self.page.url, result),
                        pytrace=False)

    def _axe_run(self, context: str | None) -> list:
        if not self.page.evaluate("() => typeof window.axe === 'object'"):
            # evaluate() goes through the DevTools protocol, not a <script>: the page's
            # Content-Security-Policy (no inline scripts) does not apply to it.
            self.page.evaluate(_axe_source())
        options = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
        return self.page.evaluate(
            "([ctx, options]) =>"
            " window.axe.run(ctx ? document.querySelector(ctx) : document, options)"
            ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
            " helpUrl: v.helpUrl, nodes: v.nodes.map(n => ({target: n.target, html: n.html,"
            " failureSummary: n.failureSummary}))})))",
            [context, options],
        )

    def unchecked(self) -> list[str]:
        return [url for url, checked in self.loads if not checked]

    # -- htmx
    def wait_for_htmx(self):
        """Wait until htmx has no request in flight and has settled the swap."""
        self.page.wait_for_function(
            "() => !document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping')"
        )


_AXE_SOURCE: str | None = None


def _axe_source() -> str:
    global _AXE_SOURCE
    if _AXE_SOURCE is None:
        # Wrapped in a function so evaluate() runs it as a script body.
        _AXE_SOURCE = "() => {\n" + AXE_JS.read_text(encoding="utf-8") + "\n;return true; }"
    return _AXE_SOURCE


@pytest.fixture
def new_ui(browser, live_app, request):
    """new_ui(name, locale="de-DE") -> a UI in a fresh browser context (own cookies)."""
    contexts = []
    uis = []

    def _new(name: str = "Browser", locale: str = "de-DE") -> UI:
        context = browser.new_context(locale=locale, base_url=live_app.url,
                                      viewport={"width": 1280, "height": 900},
                                      accept_downloads=True)
        contexts.append(context)
        ui = UI(context.new_page(), live_app, name)
        uis.append(ui)
        return ui

    yield _new
    call = getattr(request.node, "rep_call", None)
    if call is not None and call.failed:
        _keep_evidence(request.node, uis)
    missed = {ui.name: ui.unchecked() for ui in uis if ui.unchecked()}
    for context in contexts:
        context.close()
    if missed and call is not None and call.passed:
        pytest.fail("Seiten ohne axe-Prüfung geladen: " + json.dumps(missed, ensure_ascii=False))


def _keep_evidence(node, uis) -> None:
    """After a failure: a screenshot and the HTML of every open tab in test-results/."""
    folder = ROOT / "test-results"
    folder.mkdir(exist_ok=True)
    def safe(text: str) -> str:
        return re.sub(r"[^\w.-]+", "_", text)

    stem = safe(node.nodeid.split("::", 1)[-1])[:80]
    for n, ui in enumerate(uis, 1):
        name = f"{stem}-{n}-{safe(ui.name)}"
        try:
            ui.page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
            (folder / f"{name}.html").write_text(ui.page.content(), encoding="utf-8")
            print(f"[{ui.name}] {ui.page.url} -> test-results/{name}.png")
        except Exception as exc:  # the page may be gone; the failure itself matters more
            print(f"[{ui.name}] no evidence kept: {exc}")


@pytest.fixture
def ui(new_ui) -> UI:
    return new_ui("Besucherin")
