"""End to end against a real OpenID provider: oidc-provider on Node 22, Chromium, live app.

The provider's development login form takes any password; the login name is the account
id, whose claims (email, name, groups) come from the accounts file the fixture writes.
The app offers "Keycloak des Landes" (partners) and "ZDMV-Anmeldung" (staff, groups ->
roles), both clients of the same provider.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from innolab.extensions import db
from innolab.models import AuditEvent, ExternalIdentity, User

from .conftest import CHROMIUM, BrowserThread, unavailable

pytestmark = pytest.mark.browser

AXE_JS = Path(__file__).resolve().parents[2] / "static" / "vendor" / "axe" / "axe.min.js"
TIMEOUT_MS = 15_000
LAND = "Mit Keycloak des Landes anmelden"
STAFF = "Anmeldung für Beschäftigte des ZDMV"


@pytest.fixture(scope="module")
def browser_thread(live):
    if not os.path.exists(CHROMIUM):
        unavailable("Chromium fehlt (/usr/bin/chromium)")
    thread = BrowserThread()
    thread.start()
    yield thread
    thread.stop()


@pytest.fixture
def new_page(browser_thread, live):
    """new_page() -> a tab in a fresh browser context (own cookies at the app and provider)."""
    contexts = []

    def _only_loopback(route):
        # The provider's pages ask for web fonts; nothing leaves this machine.
        if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            route.abort()

    def _new():
        context = browser_thread.browser.new_context(locale="de-DE")
        context.route("**/*", _only_loopback)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.server_errors = []
        page.on("response", lambda r: r.status >= 500 and page.server_errors.append(r.url))
        return page

    yield _new
    browser_thread.run(lambda: [context.close() for context in contexts])


def _query(live, fn):
    with live.app.app_context():
        try:
            return fn()
        finally:
            db.session.remove()


def _user(live, email) -> User | None:
    return _query(live, lambda: db.session.execute(
        select(User).where(User.email == email)).scalar_one_or_none())


def _identities(live, user_id) -> list[tuple[str, str]]:
    return _query(live, lambda: [(i.provider, i.subject) for i in db.session.execute(
        select(ExternalIdentity).where(ExternalIdentity.user_id == user_id)).scalars()])


def _axe(page, selector=None):
    """WCAG 2.1 AA check of our own markup (where axe-core is installed)."""
    if not AXE_JS.exists():
        return
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate("() => {\n" + AXE_JS.read_text(encoding="utf-8") + "\n;return true; }")
    violations = page.evaluate(
        "([sel]) => window.axe.run(sel ? document.querySelector(sel) : document, {runOnly: "
        "{type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
        ".then(r => r.violations.map(v => v.id + ': ' + v.help))", [selector])
    assert violations == [], f"axe auf {page.url}: {violations}"


def _press(page, live, label):
    """Press the provider's button on the sign-in page."""
    page.goto(live.url + "/login")
    _axe(page, "section[aria-labelledby='oidc-login-heading']")
    page.get_by_role("button", name=label).click()
    page.wait_for_url(re.compile(re.escape(live.provider.issuer) + ".*"))


def _at_provider(page, live, login):
    """Sign in with the development form and agree; wait until we are back at the app."""
    for _ in range(6):
        page.wait_for_load_state("load")
        if page.url.startswith(live.url):
            break
        if page.locator("input[name=login]").count():
            page.fill("input[name=login]", login)
            page.fill("input[name=password]", "beliebig")
            page.get_by_role("button", name="Sign-in").click()
        elif page.get_by_role("button", name="Continue").count():
            page.get_by_role("button", name="Continue").click()
        page.wait_for_load_state("load")
    page.wait_for_url(re.compile(re.escape(live.url) + ".*"))
    page.wait_for_load_state("load")
    assert page.server_errors == []


def _sign_in(page, live, label, login):
    _press(page, live, label)
    _at_provider(page, live, login)


def _main_text(page) -> str:
    return page.locator("main").inner_text()


def test_first_sign_in_creates_the_account(live, new_page):
    live.provider.update_account("anna", email="anna@example.org", email_verified=True,
                                 name="Anna Beispiel", locale="de-DE")
    page = new_page()
    _sign_in(page, live, LAND, "anna")
    assert urlsplit(page.url).path == "/tasks/"
    assert "code=" not in page.url and "state=" not in page.url
    assert "Willkommen beim InnoLab! Ihr Konto wurde angelegt." in _main_text(page)
    user = _user(live, "anna@example.org")
    assert user.name == "Anna Beispiel" and user.email_confirmed and user.password_hash is None
    assert _identities(live, user.id) == [("land", "anna")]
    assert page.get_by_role("button", name="Abmelden").count() == 1


def test_second_sign_in_finds_the_same_account(live, new_page):
    live.provider.update_account("anna", email="anna@example.org", email_verified=True,
                                 name="Anna Beispiel")
    _sign_in(new_page(), live, LAND, "anna")
    first = _user(live, "anna@example.org")
    # the provider now sends another address: the account is found by the subject
    live.provider.update_account("anna", email="anna.neu@example.org")
    page = new_page()
    _sign_in(page, live, LAND, "anna")
    assert "Sie sind angemeldet." in _main_text(page)
    assert _user(live, "anna.neu@example.org") is None
    assert _user(live, "anna@example.org").id == first.id


def test_staff_roles_follow_the_groups_at_every_sign_in(live, new_page):
    live.provider.update_account("rolf", email="rolf@zdmv.example", email_verified=True,
                                 name="Rolf Referent",
                                 groups=["innolab-reviewers", "innolab-coordinators"])
    page = new_page()
    _sign_in(page, live, STAFF, "rolf")
    user = _user(live, "rolf@zdmv.example")
    assert {r.value for r in user.roles} == {"reviewer", "coordinator"}
    assert page.get_by_role("link", name="Begutachtung").count() == 1

    live.provider.update_account("rolf", groups=["innolab-reviewers"])
    _sign_in(new_page(), live, STAFF, "rolf")
    assert {r.value for r in _user(live, "rolf@zdmv.example").roles} == {"reviewer"}

    live.provider.update_account("rolf", groups=[])
    page = new_page()
    _sign_in(page, live, STAFF, "rolf")
    assert _user(live, "rolf@zdmv.example").roles == set()
    assert page.get_by_role("link", name="Begutachtung").count() == 0
    actions = _query(live, lambda: [(e.action, e.details["role"]) for e in db.session.execute(
        select(AuditEvent).where(AuditEvent.object_id == user.id,
                                 AuditEvent.action.like("user.role_%"))
        .order_by(AuditEvent.id)).scalars()])
    assert actions == [("user.role_granted", "coordinator"), ("user.role_granted", "reviewer"),
                       ("user.role_revoked", "coordinator"), ("user.role_revoked", "reviewer")]


def _local_sign_in(page, live, email, password):
    page.goto(live.url + "/login")
    page.get_by_label("E-Mail-Adresse").fill(email)
    page.get_by_label("Passwort", exact=True).fill(password)
    page.get_by_role("button", name="Anmelden", exact=True).click()
    page.wait_for_load_state("load")
    assert page.get_by_role("button", name="Abmelden").count() == 1, _main_text(page)


def _account_page(page, live):
    page.goto(live.url + "/account")


def test_link_sign_in_with_it_and_unlink(live, new_page):
    from tests import factories

    with live.app.app_context():
        lena_id = factories.user(email="lena@example.org", name="Lena Lokal").id
    live.provider.update_account("lena-kc", email="lena@land.example", email_verified=True,
                                 name="Lena aus dem Land")
    page = new_page()
    _local_sign_in(page, live, "lena@example.org", factories.PASSWORD)
    link_label = "Mit Keycloak des Landes verknüpfen"
    _account_page(page, live)
    _axe(page, "section[aria-labelledby='oidc-linked-heading']")
    page.get_by_role("button", name=link_label).click()
    _at_provider(page, live, "lena-kc")
    assert "Keycloak des Landes ist jetzt mit Ihrem Konto verknüpft" in _main_text(page)
    assert _identities(live, lena_id) == [("land", "lena-kc")]

    # a new browser signs in with the linked provider: Lena's account
    other = new_page()
    _sign_in(other, live, LAND, "lena-kc")
    assert "Sie sind angemeldet." in _main_text(other)
    _account_page(other, live)
    assert "lena@land.example" in _main_text(other)
    other.get_by_role("button", name="Verknüpfung mit Keycloak des Landes trennen").click()
    other.wait_for_load_state("load")
    assert "Die Verknüpfung mit Keycloak des Landes wurde getrennt." in _main_text(other)
    assert _identities(live, lena_id) == []
    assert _user(live, "lena@land.example") is None


def test_existing_address_is_not_taken_over(live, new_page):
    from tests import factories

    with live.app.app_context():
        olga_id = factories.user(email="olga@example.org", name="Olga Original").id
    live.provider.update_account("fake-olga", email="olga@example.org", email_verified=True,
                                 name="Nicht Olga")
    page = new_page()
    _sign_in(page, live, LAND, "fake-olga")
    # the same answer as for an unknown address: a mail went to the address
    assert urlsplit(page.url).path == "/login/external/land/sent"
    assert page.get_by_role("heading", level=1).inner_text() == "Bitte prüfen Sie Ihr Postfach"
    _axe(page)
    assert page.get_by_role("button", name="Abmelden").count() == 0
    assert _identities(live, olga_id) == []
    assert _user(live, "olga@example.org").name == "Olga Original"


def test_cancelling_at_the_provider_comes_back_with_a_message(live, new_page):
    page = new_page()
    _press(page, live, LAND)
    page.get_by_role("link", name="[ Cancel ]").click()
    page.wait_for_url(re.compile(re.escape(live.url) + ".*"))
    page.wait_for_load_state("load")
    assert urlsplit(page.url).path == "/login"
    assert "Die Anmeldung über Keycloak des Landes wurde abgebrochen." in _main_text(page)
    assert page.server_errors == []


def test_sign_out_ends_the_session_at_the_provider_too(live, new_page):
    live.provider.update_account("paul", email="paul@example.org", email_verified=True,
                                 name="Paul Partner")
    page = new_page()
    _sign_in(page, live, LAND, "paul")
    page.get_by_role("button", name="Abmelden").click()
    page.wait_for_url(re.compile(re.escape(live.provider.issuer) + ".*"))
    page.get_by_role("button", name="Yes, sign me out").click()
    page.wait_for_url(re.compile(re.escape(live.url) + ".*"))
    assert urlsplit(page.url).path == "/"
    assert page.get_by_role("button", name="Abmelden").count() == 0
    # signed out at the provider as well: it asks for the login again
    _press(page, live, LAND)
    page.wait_for_load_state("load")
    assert page.locator("input[name=login]").count() == 1


def _outbox_link(live, email, route) -> str:
    from innolab.models import OutboxMail

    bodies = _query(live, lambda: [m.body_text for m in db.session.execute(
        select(OutboxMail).where(OutboxMail.recipient == email)
        .order_by(OutboxMail.id)).scalars()])
    url = [re.search(rf"https?://\S+{route}\S+", b) for b in bodies]
    return [u.group(0) for u in url if u][-1]


def test_pre_hijack_with_an_unverified_address_ends_at_the_password_reset(live, new_page):
    """The attacker's provider account reports the victim's address as unverified."""
    live.provider.update_account("mallory-kc", email="vera@example.org", email_verified=False,
                                 name="Mallory")
    attacker = new_page()
    _sign_in(attacker, live, LAND, "mallory-kc")
    assert urlsplit(attacker.url).path == "/login/external/land/sent"
    assert attacker.get_by_role("heading", level=1).inner_text() == "Bitte prüfen Sie Ihr Postfach"
    _axe(attacker)
    assert attacker.get_by_role("button", name="Abmelden").count() == 0
    vera = _user(live, "vera@example.org")
    assert not vera.email_confirmed and _identities(live, vera.id) == [("land", "mallory-kc")]

    # the real owner asks for a new password; the mail names the linked provider
    owner = new_page()
    owner.goto(live.url + "/password/forgot")
    owner.get_by_label("E-Mail-Adresse").fill("vera@example.org")
    owner.get_by_role("button", name="Link anfordern").click()
    owner.wait_for_load_state("load")
    owner.goto(_outbox_link(live, "vera@example.org", "/password/reset/"))
    owner.get_by_label("Passwort", exact=True).fill("veras-eigenes-Passwort-1")
    owner.get_by_label("Passwort wiederholen").fill("veras-eigenes-Passwort-1")
    owner.get_by_role("button", name="Passwort speichern").click()
    owner.wait_for_load_state("load")
    assert owner.get_by_role("button", name="Abmelden").count() == 1
    assert _identities(live, vera.id) == []

    # the attacker signs in through the provider again: no way into Vera's account
    again = new_page()
    _sign_in(again, live, LAND, "mallory-kc")
    assert urlsplit(again.url).path == "/login/external/land/sent"
    assert again.get_by_role("button", name="Abmelden").count() == 0
    assert _identities(live, vera.id) == []


def test_staff_provider_roles_are_not_kept_by_signing_in_with_a_password(live, new_page):
    from tests import factories

    live.provider.update_account("sina", email="sina@zdmv.example", email_verified=True,
                                 name="Sina Staff", groups=["innolab-coordinators"])
    _sign_in(new_page(), live, STAFF, "sina")
    sina = _user(live, "sina@zdmv.example")
    assert {r.value for r in sina.roles} == {"coordinator"}
    with live.app.app_context():
        db.session.get(User, sina.id).password_hash = factories._password_hash()
        db.session.commit()
        db.session.remove()
    # the group is taken away at the provider; Sina uses the password instead
    live.provider.update_account("sina", groups=[])
    page = new_page()
    _local_sign_in(page, live, "sina@zdmv.example", factories.PASSWORD)
    assert _user(live, "sina@zdmv.example").roles == set()
    assert page.get_by_role("link", name="Begutachtung").count() == 0


# ------------------------------------------------------- second factor left to the staff provider


@pytest.fixture
def delegated(live):
    """The policy `delegated`, the staff provider asked for acr_values and checked for amr."""
    from innolab.domain import mfa, settings

    config = {"OIDC_ZDMV_ACR_VALUES": "urn:innolab:acr:mfa",
              "OIDC_ZDMV_REQUIRED_AMR": "otp hwk"}
    live.app.config.update(config)
    with live.app.app_context():
        settings.set_setting(None, mfa.POLICY_SETTING, mfa.DELEGATED)
        db.session.commit()
    yield
    for key in config:
        live.app.config.pop(key, None)
    with live.app.app_context():
        settings.set_setting(None, mfa.POLICY_SETTING, mfa.ALL_STAFF)
        db.session.commit()


def _authorization_requests(page, live) -> list[str]:
    seen: list[str] = []
    page.on("request", lambda r: r.url.startswith(live.provider.issuer + "/auth")
            and seen.append(r.url))
    return seen


def test_delegated_second_factor_shown_by_the_provider_signs_in(live, new_page, delegated):
    live.provider.update_account("mara", email="mara@zdmv.example", email_verified=True,
                                 name="Mara Mehrfaktor", groups=["innolab-reviewers"],
                                 amr=["pwd", "otp"], acr="urn:innolab:acr:mfa")
    page = new_page()
    requests = _authorization_requests(page, live)
    _sign_in(page, live, STAFF, "mara")
    assert "acr_values=urn%3Ainnolab%3Aacr%3Amfa" in requests[0]
    assert "/login/second-factor" not in page.url
    assert "Ihr Konto wurde angelegt." in _main_text(page)
    assert page.get_by_role("button", name="Abmelden").count() == 1
    assert page.get_by_role("link", name="Begutachtung").count() == 1
    page.goto(live.url + "/account")  # no enrolment asked: the provider's factor counts
    assert urlsplit(page.url).path == "/account"


def test_delegated_sign_in_without_the_factor_is_refused(live, new_page, delegated):
    live.provider.update_account("paul", email="paul@zdmv.example", email_verified=True,
                                 name="Paul Passwort", groups=["innolab-reviewers"],
                                 amr=["pwd"])
    page = new_page()
    _sign_in(page, live, STAFF, "paul")
    assert urlsplit(page.url).path == "/login"
    assert "hat keinen zweiten Faktor bestätigt" in _main_text(page)
    assert page.get_by_role("button", name="Abmelden").count() == 0
    assert _user(live, "paul@zdmv.example") is None  # nothing of the sign-in was kept
    events = _query(live, lambda: [e.details for e in db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "security.provider_assurance_missing")
    ).scalars()])
    assert events and events[-1]["provider"] == "zdmv" and "amr" in events[-1]["reason"]


def _forget_proof_of_identity(page, live):
    """As if the sign-in were long ago: drop the time of the last proof from the (signed)
    session cookie of the browser."""
    from innolab.web import RECENT_AUTH_KEY

    # Every answer of the app renews the cookie: a request still under way (the favicon, say)
    # would bring the proof back.
    page.wait_for_load_state("networkidle")
    signer = live.app.session_interface.get_signing_serializer(live.app)
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "session"]
    data = signer.loads(cookie["value"])
    data.pop(RECENT_AUTH_KEY, None)
    page.context.add_cookies([{"name": "session", "value": signer.dumps(data),
                               "domain": cookie["domain"], "path": cookie["path"],
                               "httpOnly": True, "sameSite": "Lax"}])


def test_confirming_identity_signs_in_at_the_provider_again(live, new_page):
    live.provider.update_account("rita", email="rita@example.org", email_verified=True,
                                 name="Rita Reauth")
    page = new_page()
    _sign_in(page, live, LAND, "rita")
    _forget_proof_of_identity(page, live)
    page.goto(live.url + "/account/email")
    assert urlsplit(page.url).path == "/account/confirm-identity"
    _axe(page)
    page.get_by_role("button", name="Erneut über Keycloak des Landes anmelden").click()
    page.wait_for_url(re.compile(re.escape(live.provider.issuer) + ".*"))
    page.wait_for_load_state("load")
    # the provider still has its own session, but was told to ask again (prompt=login)
    assert page.locator("input[name=login]").count() == 1
    _at_provider(page, live, "rita")
    assert urlsplit(page.url).path == "/account/email"
    assert page.get_by_role("heading", level=1).inner_text() == "E-Mail-Adresse ändern"
    user = _user(live, "rita@example.org")
    events = _query(live, lambda: [e.details for e in db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "user.reauthenticated",
                                 AuditEvent.actor_id == user.id)).scalars()])
    assert events == [{"method": "provider:land"}]


def test_confirming_identity_with_another_provider_account_is_refused(live, new_page):
    live.provider.update_account("rudi", email="rudi@example.org", email_verified=True,
                                 name="Rudi Richtig")
    live.provider.update_account("fremd", email="fremd@example.org", email_verified=True,
                                 name="Jemand Fremdes")
    page = new_page()
    _sign_in(page, live, LAND, "rudi")
    _forget_proof_of_identity(page, live)
    page.goto(live.url + "/account/email")
    page.get_by_role("button", name="Erneut über Keycloak des Landes anmelden").click()
    page.wait_for_url(re.compile(re.escape(live.provider.issuer) + ".*"))
    _at_provider(page, live, "fremd")
    assert urlsplit(page.url).path == "/account/confirm-identity"
    assert "mit einem anderen Konto angemeldet" in _main_text(page)
    page.goto(live.url + "/account/email")
    assert urlsplit(page.url).path == "/account/confirm-identity"
