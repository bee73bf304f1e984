"""Every page each role reaches with the demo data, in a real Chromium, in German and English.

The pages are found as tests/integration/test_every_route.py finds them (tests/routes.py):
the URL map with every matching object of the demo data, requested (in-process, quickly) as a
visitor, as two partners and as each staff role; what answers 200 with HTML is a page of that
role. The
browser loads, per language, every such page at least once (the first role of CRAWL_ORDER
that reaches it) and, for every other role, the first page of each endpoint it reaches (its
menus and buttons differ); INNOLAB_CRAWL_ALL=1 loads every page of every role. Each page is
loaded once and checked

- at 1280 and at 320 CSS px width (WCAG 1.4.10 reflow): the page never scrolls sideways
  (`scrollWidth <= innerWidth`); a wide table scrolls inside its own box
  (`.kern-table-responsive`) and every table of the main content sits in one; at 1280 px the
  tables fit their box;
- at 320 px the main navigation is collapsed behind its „Menü“ button;
- no console error and no Content-Security-Policy violation (htmx's indicator styles once were);
- in English: no text of the German catalogue whose English translation differs is shown
  (outside elements marked `lang="de"`), and text the users entered (titles, descriptions of
  the demo data, all German) sits inside an element marked `lang="de"` (WCAG 3.1.2);
- axe-core (WCAG 2.1 A/AA and the best-practice rule `region`: all content in landmarks), once
  per endpoint at 320 px (test_pages_a11y.py and test_signed_in_pages_a11y.py check the pages
  at 1280 px in both languages and as partner and staff).

One browser, one tab per role, the same tab for every page of that role: a few minutes in all.
"""
from __future__ import annotations

import os
import re
import time
from functools import lru_cache

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import AXE_TAGS, ROOT, _axe_source, format_violations

NARROW, WIDE, HEIGHT = 320, 1280, 900

# (name, e-mail of the demo account or None for a visitor)
ROLES = (
    ("visitor", None),
    ("partner", "partner@innolab.example"),
    ("partner4", "partner4@innolab.example"),
    ("admin", "admin@innolab.example"),
    ("coordinator", "koordination@innolab.example"),
    ("reviewer", "gutachten@innolab.example"),
    ("decider", "entscheidung@innolab.example"),
    ("dpo", "datenschutz@innolab.example"),
    ("iso", "informationssicherheit@innolab.example"),
)

# Not pages: the operations endpoints (the readiness probe answers 503 by design here, see
# test_every_route.py) and the static files.
SKIP_ENDPOINTS = {"ops.readyz", "ops.healthz", "ops.metrics", "static"}

# Text the users entered: these columns hold German in the demo data. (Names of people are
# no language's; the names of organisations and authorities are marked too, but also appear
# in the options of select fields, which cannot mark a part: they are not checked.)
USER_TEXT = {
    "Proposal": ("title", "public_summary", "problem", "solution", "benefit",
                 "personal_data_details", "hosting_location", "security_notes",
                 "decision_rationale"),
    "Challenge": ("title", "summary", "description"),
    "Organisation": ("description",),
    "PilotGoal": ("title", "baseline", "target", "measurement"),
    "Milestone": ("title", "description"),
    "Document": ("title",),
    "DocumentVersion": ("note",),
    "Message": ("body",),
    "TimelineEntry": ("message",),
    "Review": ("comment",),
    "Check": ("comment",),
    "ResultsReport": ("summary", "what_worked", "what_did_not_work", "lessons_learned",
                      "reuse_requirements", "return_comment"),
    "GoalResult": ("value_reached", "comment"),
}
MIN_USER_TEXT = 16  # shorter text nodes may match by chance
MIN_MSGID = 4


# --------------------------------------------------------------------------- the data


@pytest.fixture(scope="module")
def demo(live_app):
    from innolab.demo import seed
    from innolab.extensions import db

    with live_app.test_request_context():
        assert seed() is True
        db.session.remove()
    # The browser keeps the style sheets, scripts and fonts instead of asking again for each
    # of the hundreds of pages.
    live_app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 3600


def _client(live_app, email):
    """A test client of the live app signed in as `email` (as test_every_route does it)."""
    from sqlalchemy import select

    from innolab.extensions import db
    from innolab.models import User
    from innolab.web import RECENT_AUTH_KEY, SECOND_FACTOR_KEY
    from tests import factories
    from tests.client import IsolatedClient

    client = IsolatedClient(live_app, live_app.response_class, use_cookies=True)
    if email is None:
        return client
    with live_app.app_context():
        user = db.session.execute(select(User).where(User.email == email)).scalar_one()
        token = factories.session_token(user)
        db.session.remove()
    with client.session_transaction() as session:
        session["_user_id"] = token
        session["_fresh"] = True
        session[SECOND_FACTOR_KEY] = True
        session[RECENT_AUTH_KEY] = int(time.time())
    return client


def _candidate_urls(live_app) -> list[tuple[str, str]]:
    from innolab.extensions import db
    from tests.routes import route_urls, route_values

    with live_app.test_request_context():
        values = route_values()
        db.session.remove()
    # the ids that exist nowhere answer 404 for everyone
    values = {k: [v for v in vs if v != 999999] for k, vs in values.items()}
    return [(e, u) for e, u in route_urls(live_app, values, "GET") if e not in SKIP_ENDPOINTS]


# The order of the crawl: a role loads the first page of each endpoint it reaches (its menus
# and buttons differ from the other roles') and every page no role before it loaded
# (INNOLAB_CRAWL_ALL=1: every page of every role).
CRAWL_ORDER = ("admin", "coordinator", "partner", "visitor", "partner4", "reviewer", "decider",
               "dpo", "iso")


def _is_page(client, url: str) -> bool:
    response = client.get(url)
    return response.status_code == 200 and response.mimetype == "text/html"


@pytest.fixture(scope="module")
def pages(live_app, demo):
    """{role: (client, the endpoints the role reaches, the (endpoint, path) to load)}.

    Asking the app (in-process) which address is a page of a role is quick, but not free: a
    role asks only until it found its first page of an endpoint, and then only about the
    addresses that no role before it loads anyway."""
    started = time.monotonic()
    every = os.environ.get("INNOLAB_CRAWL_ALL") == "1"
    by_endpoint: dict[str, list[str]] = {}
    for endpoint, url in _candidate_urls(live_app):
        by_endpoint.setdefault(endpoint, []).append(url)
    emails = dict(ROLES)
    loaded: set[str] = set()
    plan = {}
    for role in CRAWL_ORDER:
        client = _client(live_app, emails[role])
        reached, todo = set(), []
        for endpoint, urls in by_endpoint.items():
            for url in urls:
                if (endpoint in reached and url in loaded and not every) \
                        or not _is_page(client, url):
                    continue
                reached.add(endpoint)
                todo.append((endpoint, url))
        loaded |= {u for _e, u in todo}
        plan[role] = (client, reached, todo)
    print(f"{sum(map(len, by_endpoint.values()))} Adressen, {len(loaded)} Seiten, "
          f"{sum(len(t) for _c, _r, t in plan.values())} je Sprache zu laden, "
          f"{time.monotonic() - started:.0f} s")
    return plan


class UserText(str):
    """All text the demo users entered, whitespace folded, one value a line: `t in text` is
    true for a text node that is (part of) such a value and not someone's name (names of
    people belong to no language, and a comment may mention one)."""

    names: frozenset[str] = frozenset()

    def __contains__(self, text) -> bool:
        return text not in self.names and super().__contains__(text)


@pytest.fixture(scope="module")
def user_text(live_app, demo) -> UserText:
    from sqlalchemy import select

    from innolab import models
    from innolab.extensions import db

    values = []
    with live_app.app_context():
        for model, columns in USER_TEXT.items():
            for row in db.session.execute(select(getattr(models, model))).scalars():
                values += [_fold(getattr(row, c) or "") for c in columns]
        names = frozenset(db.session.execute(select(models.User.name)).scalars())
        db.session.remove()
    text = UserText("\n".join(v for v in values if v))
    text.names = names
    return text


@lru_cache(maxsize=1)
def german_msgids() -> frozenset[str]:
    """The German msgids whose English translation is different (and long enough to mean
    something), without placeholders: shown as they are, they are German text."""
    from babel.messages.pofile import read_po

    path = ROOT / "innolab" / "translations" / "en" / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as f:
        catalogue = read_po(f)
    out = set()
    for message in catalogue:
        if not message.id or message.pluralizable or "%(" in message.id or "%" in message.id:
            continue
        german, english = _fold(message.id), _fold(message.string or "")
        if len(german) >= MIN_MSGID and english and english != german:
            out.add(german)
    return frozenset(out)


def _fold(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


# --------------------------------------------------------------------------- in the page

# What one page looks like at the current width.
MEASURE = """() => {
  const vw = window.innerWidth, doc = document.documentElement;
  const describe = (el) => {
    const cls = (el.className && typeof el.className === 'string')
      ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
    return el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + cls + ' „'
      + (el.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 50) + '“ right='
      + Math.round(el.getBoundingClientRect().right);
  };
  const out = {scrollWidth: doc.scrollWidth, innerWidth: vw, culprits: [], unwrapped: [],
               overfull: [], nav: null, lang: doc.getAttribute('lang'),
               csp: window.__innolabCsp || []};
  if (doc.scrollWidth > vw) {
    for (const el of document.body.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (r.right <= vw + 0.5 || el.closest('.kern-table-responsive')) continue;
      const childOut = Array.from(el.children).some(
        (c) => c.getBoundingClientRect().right > vw + 0.5);
      if (!childOut) out.culprits.push(describe(el));
      if (out.culprits.length >= 6) break;
    }
  }
  for (const t of document.querySelectorAll('main table')) {
    if (!t.closest('.kern-table-responsive')) out.unwrapped.push(describe(t));
  }
  for (const box of document.querySelectorAll('main .kern-table-responsive')) {
    if (box.scrollWidth > box.clientWidth + 1) out.overfull.push(
      describe(box) + ' scrollWidth=' + box.scrollWidth + ' clientWidth=' + box.clientWidth);
  }
  const toggle = document.querySelector('.site-nav__toggle');
  const list = document.querySelector('.site-nav__list');
  if (list) {
    out.nav = {
      toggleShown: !!toggle && toggle.getClientRects().length > 0,
      expanded: toggle ? toggle.getAttribute('aria-expanded') : null,
      listShown: list.getClientRects().length > 0,
    };
  }
  return out;
}"""

# The text of the page that is not marked German: text nodes and the names in attributes.
TEXTS = """() => {
  const out = new Set();
  const german = (el) => {
    const marked = el && el.closest('[lang]');
    return !!marked && marked.getAttribute('lang').toLowerCase().startsWith('de');
  };
  const options = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest('script, style, template, noscript')) continue;
    const text = node.textContent.replace(/\\s+/g, ' ').trim();
    if (text && !german(parent)) (parent.closest('option') ? options : out).add(text);
  }
  for (const el of document.querySelectorAll(
      '[aria-label], [placeholder], [title], img[alt], [aria-description]')) {
    if (german(el)) continue;
    for (const a of ['aria-label', 'placeholder', 'title', 'alt', 'aria-description']) {
      const v = el.getAttribute(a);
      if (v && v.trim()) out.add(v.replace(/\\s+/g, ' ').trim());
    }
  }
  // the window's title cannot mark a part's language: for the check of the interface only
  const title = document.title.replace(/\\s+/g, ' ').trim().split(' – ').map((p) => p.trim());
  return {texts: Array.from(out), options: Array.from(options), title: title};
}"""

HTMX_BUSY = ".htmx-request, .htmx-settling, .htmx-swapping"
NEXT_FRAME = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"

CSP_LISTENER = """
window.__innolabCsp = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__innolabCsp.push(e.violatedDirective + ' ' + (e.blockedURI || '') + ' '
    + (e.sourceFile || '') + ':' + (e.lineNumber || ''));
});
"""


class Crawler:
    """One tab of one role; loads pages and collects what is wrong with them."""

    def __init__(self, browser, live_app, role, client):
        self.base = live_app.url
        self.role = role
        self.context = browser.new_context(locale="de-DE", base_url=live_app.url,
                                           viewport={"width": WIDE, "height": HEIGHT})
        self.context.add_init_script(CSP_LISTENER)
        # the test client's session cookie signs the browser in as the same person
        session = client.get_cookie(live_app.config["SESSION_COOKIE_NAME"])
        if session is not None:
            self.context.add_cookies([{"name": session.key, "value": session.value,
                                       "url": live_app.url}])
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.console: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.console.append(f"JavaScript-Fehler: {exc}"))
        if not hasattr(live_app, "_axe_seen"):
            live_app._axe_seen = set()
        self.axe_seen = live_app._axe_seen

    def _console(self, msg):
        if msg.type == "error":
            self.console.append(f"console.error: {msg.text}")

    def close(self):
        self.context.close()

    def load(self, path: str):
        response = self.page.goto(self.base + path, wait_until="load")
        self.settle()
        return response

    def settle(self):
        """Wait for the requests htmx makes on load (if any) and their swaps."""
        if self.page.evaluate(f"() => !!document.querySelector('{HTMX_BUSY}')"):
            self.page.wait_for_function(f"() => !document.querySelector('{HTMX_BUSY}')")

    def resize(self, width: int):
        self.page.set_viewport_size({"width": width, "height": HEIGHT})

    def problems_of(self, endpoint: str, path: str, lang: str, msgids, user_text) -> list[str]:
        """Load `path` and check it at both widths: at the width the tab has (the last page
        left it there), then at the other one (one resize per page)."""
        page = self.page
        where = f"[{self.role}, {lang}] {path}"
        self.console.clear()
        response = self.load(path)
        if response is None or response.status != 200:
            return [f"{where}: Status {response and response.status}"]
        problems = []
        first = page.viewport_size["width"]
        for width in (first, NARROW if first == WIDE else WIDE):
            if width != page.viewport_size["width"]:
                self.resize(width)
            m = page.evaluate(MEASURE)
            problems += _layout(where, width, m)
            if width == WIDE:
                problems += [f"{where} @{WIDE}: Tabelle breiter als ihr Kasten: {o}"
                             for o in m["overfull"]]
                continue
            nav = m["nav"]
            if nav and not (nav["toggleShown"] and nav["expanded"] == "false"
                            and not nav["listShown"]):
                problems.append(f"{where} @{NARROW}: Navigation nicht eingeklappt: {nav}")
            if lang == "en":
                problems += _language(where, page.evaluate(TEXTS), msgids, user_text)
            if endpoint not in self.axe_seen:  # axe is slow: once per endpoint
                self.axe_seen.add(endpoint)
                page.evaluate(NEXT_FRAME)  # the resize observers have run
                violations = _axe(page)
                if violations:
                    problems.append(f"{where} @{NARROW}: "
                                    + format_violations(page.url, violations))
        if m["lang"] != lang:
            problems.append(f"{where}: <html lang> ist {m['lang']!r}, nicht {lang}")
        problems += [f"{where}: CSP: {c}" for c in m["csp"]]
        problems += [f"{where}: {c}" for c in self.console]
        return problems


def _language(where, found, msgids, user_text) -> list[str]:
    out = []
    texts = found["texts"]
    german = sorted(t for t in texts + found["options"] + found["title"] if t in msgids)
    if german:
        out.append(f"{where}: deutsche Texte der Oberfläche: {german[:8]}")
    unmarked = sorted(t for t in texts
                      if len(t) >= MIN_USER_TEXT and t not in msgids and t in user_text)
    if unmarked:
        out.append(f"{where}: Nutzertext ohne lang=\"de\": {unmarked[:5]}")
    return out


def _layout(where, width, m) -> list[str]:
    out = []
    if m["scrollWidth"] > m["innerWidth"]:
        out.append(f"{where} @{width}: scrollWidth {m['scrollWidth']} > {m['innerWidth']}; "
                   f"zu breit: {m['culprits']}")
    out += [f"{where} @{width}: Tabelle ohne Scroll-Kasten: {t}" for t in m["unwrapped"]]
    return out


def _axe(page) -> list[dict]:
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(_axe_source())
    options = {"runOnly": {"type": "tag", "values": AXE_TAGS},
               "rules": {"region": {"enabled": True}}, "resultTypes": ["violations"]}
    return page.evaluate(
        "(options) => window.axe.run(document, options).then(r => r.violations.map(v => ({"
        "id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,"
        " nodes: v.nodes.map(n => ({target: n.target, html: n.html,"
        " failureSummary: n.failureSummary}))})))", options)


# --------------------------------------------------------------------------- the tests


@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize("role", [r for r, _ in ROLES])
def test_every_page_reflows_and_speaks_one_language(browser, live_app, pages, user_text,
                                                    role, lang):
    client, reached, urls = pages[role]
    assert reached, f"{role}: keine Seiten gefunden"
    crawler = Crawler(browser, live_app, role, client)
    msgids = german_msgids()
    problems = []
    started = time.monotonic()
    try:
        for endpoint, url in urls:
            problems += crawler.problems_of(endpoint, _in(lang, url), lang, msgids, user_text)
    finally:
        crawler.close()
    print(f"[{role}, {lang}] {len(urls)} Seiten von {len(reached)} Endpunkten geladen, "
          f"{time.monotonic() - started:.0f} s")
    assert not problems, f"{len(problems)} Probleme:\n" + "\n".join(problems)


def test_the_crawl_reaches_the_known_offenders(pages):
    """The pages testers found too wide are among the crawled ones."""
    reached = {e for _client, endpoints, _todo in pages.values() for e in endpoints}
    assert {"admin.audit", "admin.users", "challenges.index", "api.docs", "showcase.pilot",
            "pilots.workspace", "proposals.versions", "review.inbox", "results.edit"} <= reached




def _in(lang: str, url: str) -> str:
    """The page in `lang`: a link may name its language (?lang=en wins for that page)."""
    return url if lang == "de" else url + ("&" if "?" in url else "?") + f"lang={lang}"


@pytest.fixture
def crawler(browser, live_app, pages):
    client, _reached, _todo = pages["admin"]
    crawler = Crawler(browser, live_app, "admin", client)
    yield crawler
    crawler.close()


FOCUSED = """() => { const el = document.activeElement; const style = getComputedStyle(el);
  return {toggle: el.classList.contains('site-nav__toggle'), text: el.textContent.trim(),
          visible: el.matches(':focus-visible'), outline: style.outlineStyle,
          outlineWidth: parseFloat(style.outlineWidth)}; }"""


@pytest.mark.parametrize("lang,name", [("de", "Menü"), ("en", "Menu")])
def test_navigation_collapses_on_narrow_screens_and_opens_with_the_keyboard(crawler, lang,
                                                                           name):
    page = crawler.page
    crawler.load(_in(lang, "/"))
    page.set_viewport_size({"width": NARROW, "height": 844})
    toggle = page.locator(".site-nav__toggle")
    links = page.locator(".site-nav__list")
    expect(toggle).to_be_visible()
    expect(toggle).to_have_accessible_name(name)
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_have_attribute("aria-controls", "site-nav-list")
    expect(links).to_be_hidden()
    # collapsed, the header leaves most of a phone's screen to the page (it took 490 of 844 px)
    header = page.locator("header.site-header").bounding_box()
    assert header["height"] < 0.4 * 844, header

    for _ in range(12):  # skip link, brand, Leichte Sprache, Gebärdensprache, language, menu
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused["toggle"]:
            break
    assert focused["toggle"], f"Menü-Knopf nicht mit Tab erreichbar: {focused}"
    assert focused["visible"] and focused["outline"] != "none" and focused["outlineWidth"] >= 2, \
        f"Fokus am Menü-Knopf nicht sichtbar: {focused}"

    page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(links).to_be_visible()
    page.keyboard.press("Tab")
    first = page.evaluate("() => document.activeElement.closest('#site-nav-list') !== null")
    assert first, "Nach dem Menü-Knopf kommt nicht der erste Link der Navigation"
    assert page.evaluate(MEASURE)["scrollWidth"] <= NARROW

    page.keyboard.press("Escape")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(toggle).to_be_focused()
    expect(links).to_be_hidden()
    page.keyboard.press("Space")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    page.keyboard.press("Space")
    expect(toggle).to_have_attribute("aria-expanded", "false")

    # wide again: no button, the whole navigation shown
    page.set_viewport_size({"width": WIDE, "height": HEIGHT})
    expect(toggle).to_be_hidden()
    expect(links).to_be_visible()
    assert not crawler.console, crawler.console


def test_navigation_without_javascript_stays_open(browser, live_app, demo):
    context = browser.new_context(locale="de-DE", java_script_enabled=False,
                                  viewport={"width": NARROW, "height": 844})
    try:
        page = context.new_page()
        page.goto(live_app.url + "/")
        expect(page.locator(".site-nav__toggle")).to_be_hidden()
        expect(page.locator(".site-nav__list")).to_be_visible()
        expect(page.locator(".site-nav__list").get_by_role("link", name="Piloten")).to_be_visible()
        assert page.evaluate(MEASURE)["scrollWidth"] <= NARROW
    finally:
        context.close()


def test_a_wide_table_scrolls_in_its_box_and_the_keyboard_reaches_it(crawler):
    """At 320 px the audit log is wider than the screen: its box scrolls (not the page), is a
    tab stop named by the caption while it does, and is none once the table fits."""
    page = crawler.page
    crawler.load("/admin/audit")
    box = page.locator("main .kern-table-responsive").first
    page.set_viewport_size({"width": NARROW, "height": HEIGHT})
    page.evaluate(NEXT_FRAME)
    assert page.evaluate(MEASURE)["scrollWidth"] <= NARROW
    assert box.evaluate("b => b.scrollWidth > b.clientWidth")
    expect(box).to_have_attribute("tabindex", "0")
    expect(box).to_have_attribute("role", "region")
    caption = box.locator("caption")
    if caption.count():
        expect(box).to_have_accessible_name(caption.inner_text().strip())
    box.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => document.querySelector('main .kern-table-responsive')"
                           ".scrollLeft > 0")
    page.set_viewport_size({"width": 2400, "height": HEIGHT})
    page.evaluate(NEXT_FRAME)
    if not box.evaluate("b => b.scrollWidth > b.clientWidth + 1"):
        expect(box).not_to_have_attribute("tabindex", "0")


def test_the_language_checks_find_what_they_look_for(crawler, user_text):
    """The checks of the English pages are not blind: the German start page, passed off as
    English (where nothing is marked German, as the page is German), shows German texts of
    the interface and German text of users to them."""
    crawler.load("/")
    crawler.page.evaluate("() => document.documentElement.setAttribute('lang', 'en')")
    texts = crawler.page.evaluate(TEXTS)["texts"]
    assert "Zum Inhalt springen" in german_msgids() and "Zum Inhalt springen" in texts
    assert any(len(t) >= MIN_USER_TEXT and t in user_text for t in texts)
