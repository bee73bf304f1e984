"""A refused staff action answers at the action's address, which only POST reaches: the
browser's address bar shows the page it belongs to, so a reload shows the page again
instead of "Aktion nicht möglich" (405)."""
from __future__ import annotations

from innolab.models._base import utcnow
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

COORDINATOR = ("kai.koordination@example.org", "Kai Koordination")


def test_after_a_refused_move_the_address_is_the_page_and_a_reload_shows_it(ui, in_db):
    def build():
        from innolab.extensions import db
        from innolab.models import ReviewAssignment
        from tests import factories as f

        f.staff("coordinator", email=COORDINATOR[0], name=COORDINATOR[1])
        p = f.proposal(status="submitted", title="Digitale Vergabeakte")
        db.session.add(ReviewAssignment(no_conflict_confirmed_at=utcnow(),
                                        proposal_id=p.id, reviewer_id=f.staff("reviewer").id))
        db.session.commit()
        return p.id

    proposal_id = in_db(build)
    page = ui.page
    sign_in(ui, COORDINATOR[0])
    own = ui.url_for("review.proposal", proposal_id=proposal_id)
    ui.visit(own)

    def withdraw():  # the partner withdraws while the page is open
        from innolab.extensions import db
        from innolab.models import Proposal

        db.session.get(Proposal, proposal_id).status = "withdrawn"
        db.session.commit()

    in_db(withdraw)
    ui.submit(page.get_by_role("button", name="Begutachtung starten"), status=422)
    expect(page.get_by_text("inzwischen bearbeitet")).to_be_visible()
    assert page.url == ui.url(own)
    response = page.reload()
    assert response is not None and response.status == 200
    assert page.url == ui.url(own)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Digitale Vergabeakte")
    ui.check()
