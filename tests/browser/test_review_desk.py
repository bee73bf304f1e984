"""The review desk with the keyboard only: Tab to the criteria, arrow keys through each 1-5
scale, the running total follows, "Gutachten abschließen" opens the confirmation dialog,
Escape cancels it (nothing sent, the focus back on the button), Enter confirms, and the review
is completed. axe-core checks the desk and the open dialog.
"""
from __future__ import annotations

from innolab.models._base import utcnow
from playwright.sync_api import expect

from tests.browser.conftest import sign_in

REVIEWER = ("rita.gutachten@example.org", "Rita Gutachten")
# criterion: (score by arrow keys from 1, the comment typed)
SCORES = {"innovation": (4, "Neu für Landesbehörden."), "benefit": (3, ""),
          "feasibility": (5, "Erfahrenes Team."), "cost_effectiveness": (4, ""),
          "privacy_security": (2, "Hosting noch offen.")}


def _set_up(in_db) -> int:
    def build():
        from tests import factories as f
        from innolab.extensions import db
        from innolab.models import ReviewAssignment

        reviewer = f.staff("reviewer", email=REVIEWER[0], name=REVIEWER[1])
        org = f.organisation(owner=f.user(), name="Ostseewerk Software GmbH")
        p = f.proposal(org=org, status="in_review", title="Digitale Akteneinsicht")
        db.session.add(ReviewAssignment(no_conflict_confirmed_at=utcnow(),
                                        proposal_id=p.id, reviewer_id=reviewer.id))
        db.session.commit()
        return p.id

    return in_db(build)


def _review(in_db, proposal_id):
    def read():
        from innolab.extensions import db
        from innolab.models import Review

        r = db.session.query(Review).filter_by(proposal_id=proposal_id).one_or_none()
        if r is None:
            return None
        return {"submitted": r.submitted_at is not None, "scores": r.scores,
                "comments": r.comments, "recommendation": r.recommendation}

    return in_db(read)


def _focused(page) -> str:
    return page.evaluate("() => { const e = document.activeElement; return e ?"
                         " (e.name || e.id || e.tagName) + ':' + (e.value || '') : ''; }")


def _tab_to(page, name: str, limit: int = 120) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if _focused(page).startswith(name + ":"):
            return
    raise AssertionError(f"Tab erreicht {name} nicht (zuletzt {_focused(page)})")


def test_review_desk_with_the_keyboard_only(ui, in_db):
    proposal_id = _set_up(in_db)
    page = ui.page
    sign_in(ui, REVIEWER[0])
    ui.visit(ui.url_for("review.review", proposal_id=proposal_id))

    # side by side at 1280 px: the proposal to the left of the form
    proposal = page.locator("#desk-proposal").bounding_box()
    form = page.locator("form[data-review-form]").bounding_box()
    assert proposal["x"] + proposal["width"] <= form["x"] + 1
    total = page.locator("#review-total")
    expect(total).to_have_text("Noch keine Bewertung gewählt.")
    expect(total).to_have_attribute("role", "status")

    page.locator("h1").focus()
    chosen = []
    for name, (score, comment) in SCORES.items():
        _tab_to(page, name)
        page.keyboard.press("Space")  # the first choice: 1
        for _ in range(score - 1):
            page.keyboard.press("ArrowRight")
        assert _focused(page) == f"{name}:{score}"
        expect(page.locator(f"input[name={name}][value='{score}']")).to_be_checked()
        chosen.append(score)
        average = f"{round(sum(chosen) / len(chosen), 2):g}".replace(".", ",")
        expect(total).to_have_text(
            f"Gesamtwert (gewichtet, Skala 1 bis 5): {average} "
            f"({len(chosen)} von 5 Kriterien bewertet)")
        page.keyboard.press("Tab")
        assert _focused(page).startswith(f"{name}_comment:")
        if comment:
            page.keyboard.type(comment)
    # the focus is visible on a radio (KERN's outline)
    _tab_to(page, "recommendation")
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.press("Space")  # "Bewilligung empfehlen"
    page.keyboard.press("Tab")
    page.keyboard.type("Tragfähig, mit Auflagen zum Hosting.")
    _tab_to(page, "intent")
    expect(page.locator(":focus")).to_have_text("Gutachten abschließen")

    # Enter opens the dialog; Escape closes it, nothing is sent, the focus is back
    dialog = page.locator("#confirm-dialog")
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading")).to_have_text("Wirklich abschließen?")
    expect(dialog).to_contain_text("Gesamtwert (gewichtet, Skala 1 bis 5): 3,6")
    expect(dialog.locator("[data-confirm-ok]")).to_be_focused()
    ui.check()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.locator(":focus")).to_have_text("Gutachten abschließen")
    assert _review(in_db, proposal_id) is None

    # Enter again, Enter on "Gutachten abschließen" in the dialog: the review is completed
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    with page.expect_navigation(wait_until="load"):
        page.keyboard.press("Enter")
    ui.check()
    expect(page.get_by_text("Ihr Gutachten ist abgeschlossen. Vielen Dank!")).to_be_visible()
    review = _review(in_db, proposal_id)
    assert review["submitted"] and review["recommendation"] == "approve"
    assert review["scores"] == {name: score for name, (score, _c) in SCORES.items()}
    assert review["comments"]["feasibility"] == "Erfahrenes Team."
    assert review["comments"]["benefit"] is None

    # the completed review on the desk, with the way to reopen it
    ui.visit(ui.url_for("review.review", proposal_id=proposal_id))
    expect(page.get_by_role("button", name="Gutachten wieder öffnen")).to_be_visible()
