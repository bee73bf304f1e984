"""Nothing our pages use was pruned from KERN's CSS (scripts/purge-kern.mjs).

Each representative page is loaded twice in Chromium, once as served (the pruned
`vendor/kern/kern.pruned.css`) and once with that address answered by KERN's full bundle
(`vendor/kern/kern.min.css`, kept beside it for this test), and the computed style of every
element and of its ::before and ::after – every property the browser computes – must be the
same. The pages: the home page, the pilots with a search swapped in by htmx, a pilot, the
challenges, the sign-in page empty, with field errors and with a refused password, the
coordinators' inbox and a proposal with the confirmation dialog open and an irreversible
step's form, the new-challenge form with errors, at 1280 and at 320 CSS px (the narrow
layout's menu opened).
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ROOT

FULL_PATH = ROOT / "static" / "vendor" / "kern" / "kern.min.css"
FULL = FULL_PATH.read_bytes() if FULL_PATH.exists() else b""
PRUNED_ADDRESS = re.compile(r"/static/vendor/kern/kern\.pruned\.css(\?.*)?$")
COORDINATOR = "koordination@innolab.example"
WIDTHS = (1280, 320)

# Every computed property of every element (and ::before, ::after), as one JSON-able list.
STYLES_JS = """
() => {
  const path = (el) => {
    const parts = [];
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      const i = e.parentElement ? [...e.parentElement.children].indexOf(e) : 0;
      parts.unshift(e.tagName.toLowerCase() + ':' + i);  // ids may be random
    }
    return parts.join('>');
  };
  const names = [...getComputedStyle(document.body)].sort();  // custom ones: page order
  const out = {};
  for (const el of document.body.querySelectorAll('*')) {
    for (const pseudo of [null, '::before', '::after']) {
      const cs = getComputedStyle(el, pseudo);
      if (pseudo && (cs.content === 'none' || cs.content === 'normal')) continue;
      out[path(el) + (pseudo || '')] = names.map((n) => cs.getPropertyValue(n)).join('\u0001');
    }
  }
  const body = getComputedStyle(document.body);
  out['body'] = names.map((n) => body.getPropertyValue(n)).join('\u0001');
  return [names, out];
}
"""


@pytest.fixture(scope="module")
def demo(live_app):
    from innolab.demo import seed
    from innolab.extensions import db

    with live_app.test_request_context():
        assert seed() is True
        db.session.remove()


def _full_bundle(route):
    route.fulfill(status=200, content_type="text/css", body=FULL)


class Twins:
    """Two tabs that do the same: one with the pruned CSS, one with the full bundle."""

    def __init__(self, browser, live_app, width):
        self.base = live_app.url
        self.app = live_app
        self.contexts = []
        self.pages = []
        for full in (False, True):
            context = browser.new_context(locale="de-DE", base_url=live_app.url,
                                          viewport={"width": width, "height": 900},
                                          reduced_motion="reduce")
            if full:
                context.route(PRUNED_ADDRESS, _full_bundle)
            self.contexts.append(context)
            self.pages.append(context.new_page())
        self.width = width

    def url_for(self, endpoint, **values):
        from flask import url_for

        with self.app.test_request_context():
            return url_for(endpoint, **values)

    def do(self, action):
        for page in self.pages:
            action(page)
            page.wait_for_load_state("load")
            # htmx's triggers wait up to 400 ms (the search's keyup); then its request
            page.wait_for_timeout(500)
            page.wait_for_load_state("networkidle")
            page.wait_for_function(
                "() => !document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping')")

    def compare(self, what):
        (names, pruned), (_names, full) = (page.evaluate(STYLES_JS) for page in self.pages)
        assert pruned.keys() == full.keys(), f"{what}: different elements"
        missing = sorted(set(_names) - set(names))
        assert names == _names, (
            f"{what} at {self.width} px: properties set by the full bundle only (a rule our "
            f"pages use was dropped): {missing[:20]}; set by the pruned one only: "
            f"{sorted(set(names) - set(_names))[:20]}")
        differences = []
        for element, values in pruned.items():
            if full[element] == values:
                continue
            for name, mine, theirs in zip(names, values.split("\x01"),
                                          full[element].split("\x01"), strict=True):
                if mine != theirs:
                    differences.append(f"{element} {name}: pruned {mine!r}, full {theirs!r}")
        assert not differences, (
            f"{what} at {self.width} px: {len(differences)} computed styles differ with the "
            "pruned KERN CSS (a rule our pages use was dropped; see SAFELIST in "
            "scripts/purge-kern.mjs):\n" + "\n".join(differences[:40]))
        return len(pruned)

    def close(self):
        for context in self.contexts:
            context.close()


@pytest.fixture
def twins(browser, live_app, demo):
    made = []

    def _make(width):
        t = Twins(browser, live_app, width)
        made.append(t)
        return t

    yield _make
    for t in made:
        t.close()


def _open_menu(page):
    toggle = page.get_by_role("button", name="Menü")
    if toggle.count() and toggle.first.is_visible():
        toggle.first.click()


def _pilot_path(in_db):
    from sqlalchemy import select

    from innolab.extensions import db
    from innolab.models import Proposal

    return in_db(lambda: db.session.scalars(
        select(Proposal.id).where(Proposal.published_at.is_not(None)).order_by(Proposal.id)
    ).first())


@pytest.mark.parametrize("width", WIDTHS)
def test_the_pruned_css_styles_the_visitors_pages_as_the_full_bundle(twins, in_db, width):
    assert FULL, "static/vendor/kern/kern.min.css missing: make setup"
    pilot = _pilot_path(in_db)
    t = twins(width)
    checked = 0
    for endpoint, values in (("showcase.home", {}), ("showcase.pilots", {}),
                             ("showcase.pilot", {"proposal_id": pilot}),
                             ("showcase.challenges", {}), ("auth.login", {})):
        path = t.url_for(endpoint, **values)
        t.do(lambda page, path=path: page.goto(path))
        if width < 600:
            t.do(_open_menu)
        checked += t.compare(path)
    # the search of the pilots, swapped in by htmx
    pilots, login = t.url_for("showcase.pilots"), t.url_for("auth.login")
    t.do(lambda page: page.goto(pilots))
    t.do(lambda page: page.get_by_role("searchbox").first.fill("KI"))
    t.do(lambda page: page.get_by_role("searchbox").first.press("Enter"))
    checked += t.compare("/pilots, search")
    # the sign-in form: field errors, then a refused password (an alert)
    t.do(lambda page: page.goto(login))
    t.do(lambda page: page.locator("main").get_by_role("button", name="Anmelden").click())
    checked += t.compare("/login with field errors")

    def refused(page):
        page.get_by_label("E-Mail-Adresse").fill(COORDINATOR)
        page.get_by_label("Passwort", exact=True).fill("falsch-falsch-falsch")
        page.locator("main").get_by_role("button", name="Anmelden").click()

    t.do(refused)
    expect(t.pages[0].locator(".kern-alert, .kern-error").first).to_be_visible()
    checked += t.compare("/login, password refused")
    assert checked > 500  # elements and pseudo-elements compared


@pytest.mark.parametrize("width", WIDTHS)
def test_the_pruned_css_styles_the_staff_pages_and_the_dialog_as_the_full_bundle(twins, width):
    from innolab.demo import DEMO_PASSWORD

    t = twins(width)
    login, inbox = t.url_for("auth.login"), t.url_for("review.inbox")
    new_challenge = t.url_for("challenges.new")

    def sign_in(page):
        page.goto(login)
        page.get_by_label("E-Mail-Adresse").fill(COORDINATOR)
        page.get_by_label("Passwort", exact=True).fill(DEMO_PASSWORD)
        page.locator("main").get_by_role("button", name="Anmelden").click()
        page.wait_for_url(lambda url: "/login" not in url)

    t.do(sign_in)
    t.do(lambda page: page.goto(inbox))
    t.compare("inbox")
    # the first proposal of the inbox with a step that asks for confirmation
    links = t.pages[0].locator("main a[href*='/staff/review/proposals/']")
    addresses = [links.nth(i).get_attribute("href") for i in range(links.count())]
    for address in addresses:
        t.do(lambda page, address=address: page.goto(address))
        if t.pages[0].locator("main [data-confirm]").count():
            break
    else:
        pytest.fail("no proposal of the demo data has a step that asks for confirmation")
    t.compare("proposal, staff view")

    def confirm_dialog(page):
        page.locator("main [data-confirm]").first.click()
        page.locator("#confirm-dialog").wait_for(state="visible")

    t.do(confirm_dialog)
    t.compare("proposal, confirmation dialog open")
    # a form with errors: a new challenge sent empty
    t.do(lambda page: page.goto(new_challenge))
    t.compare("new challenge")
    t.do(lambda page: page.locator("main form button[type=submit]").last.click())
    expect(t.pages[0].locator("[aria-invalid=true]").first).to_be_attached()
    t.compare("new challenge with errors")
