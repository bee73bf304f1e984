"""Little moves on a page when its fonts and scripts arrive after its first paint.

Until Fira Sans has arrived the pages are drawn in a local font scaled to its metrics (the
fallback faces of static/vendor/fonts/fira-sans.css), and on a narrow screen the menu is closed
from the first paint where scripts will run (innolab.css), not when innolab.js has come.

Each page is loaded in Chromium with its font and script requests held back until the page has
been drawn, then let through; the layout shifts the browser reports (the Layout Instability API
whose sum Lighthouse calls "cumulative layout shift") must stay below 0.05, half of what Core
Web Vitals call good. With KERN's plain `sans-serif`, or the menu closed by the script, the
same pages shifted by 0.13 to 0.29 (docs/performance.md).
"""
from __future__ import annotations

import pytest

# what comes after the first paint: the fonts and the deferred scripts
LATE = ("**/*.woff2*", "**/*.js*")

SHIFTS_JS = """
() => new Promise((done) => {
  let sum = 0;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) if (!entry.hadRecentInput) sum += entry.value;
  }).observe({type: 'layout-shift', buffered: true});
  setTimeout(() => done(sum), 300);
})
"""


@pytest.fixture(scope="module")
def demo(live_app):
    from innolab.demo import seed
    from innolab.extensions import db

    with live_app.test_request_context():
        assert seed() is True
        db.session.remove()


@pytest.mark.parametrize("width", (1280, 390))
@pytest.mark.parametrize("path", ("/", "/pilots", "/challenges", "/login"))
def test_little_moves_when_the_fonts_and_scripts_arrive(browser, live_app, demo, path, width):
    context = browser.new_context(locale="de-DE", base_url=live_app.url,
                                  viewport={"width": width, "height": 900})
    held = []
    for pattern in LATE:
        context.route(pattern, lambda route: held.append(route))
    page = context.new_page()
    page.goto(path, wait_until="commit")  # deferred scripts hold back DOMContentLoaded
    page.wait_for_function(
        "() => performance.getEntriesByName('first-contentful-paint').length > 0")
    page.wait_for_timeout(200)
    # drawn, in the fallback face, while the fonts are still on their way
    assert any(".woff2" in r.request.url for r in held), "the page asks for no web font"
    assert any(".js" in r.request.url for r in held), "the page asks for no script"
    before = page.evaluate(
        "() => [...document.fonts].filter((f) => f.status === 'loaded').map((f) => f.family)")
    assert not any(f.strip('"') == "Fira Sans" for f in before)
    assert any(f.strip('"').startswith("Fira Sans Fallback") for f in before), before
    for route in held:
        route.continue_()
    for pattern in LATE:
        context.unroute(pattern)
    page.wait_for_load_state("load")
    page.evaluate("() => document.fonts.ready")
    page.wait_for_timeout(200)
    after = page.evaluate(
        "() => [...document.fonts].filter((f) => f.status === 'loaded').map((f) => f.family)")
    assert any(f.strip('"') == "Fira Sans" for f in after)
    shift = page.evaluate(SHIFTS_JS)
    context.close()
    assert shift < 0.05, (
        f"{path} at {width} px: layout shift {shift:.3f} when the fonts and scripts arrive")
