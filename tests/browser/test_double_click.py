"""A second click on a button that is already sending its form sends nothing more.

The request of the first click (confirmed in the dialog) is held back (as on a slow line)
while the decider clicks „Bewilligen“ again; only one request reaches the server, and the
page then shows the decision once.
"""
from __future__ import annotations

from playwright.sync_api import expect

from tests.browser.conftest import sign_in

DECIDER = ("dora.entscheidung@example.org", "Dora Entscheidung")


def _set_up(in_db) -> int:
    def build():
        from tests import factories as f

        f.staff("decider", email=DECIDER[0], name=DECIDER[1])
        p = f.proposal(status="in_review", title="Digitale Akteneinsicht")
        f.ready_for_decision(p, f.staff("reviewer"), f.staff("iso"))
        return p.id

    return in_db(build)


def test_second_click_on_approve_sends_no_second_request(ui, in_db):
    proposal_id = _set_up(in_db)
    page = ui.page
    sign_in(ui, DECIDER[0])
    ui.visit(ui.url_for("review.proposal", proposal_id=proposal_id))

    held = []
    act = ui.url(ui.url_for("review.act", proposal_id=proposal_id))
    page.route(act, lambda route: held.append(route))
    page.get_by_label("Begründung der Bewilligung").fill("Überzeugt in allen Punkten.")
    button = page.get_by_role("button", name="Bewilligen")
    button.scroll_into_view_if_needed()  # the mouse clicks where the button is on the screen
    box = button.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.click(x, y)  # the mouse, not a locator: nothing waits for the held page
    dialog = page.locator("#confirm-dialog")  # an irreversible step asks first
    expect(dialog).to_be_visible()
    dialog.locator("[data-confirm-ok]").click(no_wait_after=True)  # its page is held
    page.wait_for_timeout(300)
    page.mouse.click(x, y)  # the form is sending: this click neither sends nor asks
    page.wait_for_timeout(500)

    assert len(held) == 1, f"{len(held)} Anfragen statt einer"
    with page.expect_navigation(wait_until="load"):
        held[0].continue_()
    expect(page.get_by_text("Der Vorschlag wurde bewilligt")).to_be_visible()
    ui.check()

    def approvals():
        from innolab.extensions import db
        from innolab.models import TimelineEntry

        return db.session.query(TimelineEntry).filter_by(proposal_id=proposal_id,
                                                         action="approve").count()

    assert in_db(approvals) == 1
