"""A coordinator builds a challenge's question list with the keyboard only (Tab, Space, Enter,
arrow keys in the select): a required number question, a single choice typed one option per
line, then the second moved up with "Nach oben"; axe-core checks every page on the way, the
refused form too.
"""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.conftest import sign_in

COORDINATOR = ("clara.koordination@example.org", "Clara Koordination")


def _set_up(in_db) -> int:
    def build():
        from tests import factories as f

        f.staff("coordinator", email=COORDINATOR[0], name=COORDINATOR[1])
        return f.challenge(status="draft", title="Digitale Bauakte").id

    return in_db(build)


def _questions(in_db, challenge_id):
    def read():
        from innolab.domain import questions

        return [(q.kind, q.label_de, q.required, q.unit, q.options)
                for q in questions.active_of(challenge_id)]

    return in_db(read)


def _focused(page) -> str:
    return page.evaluate("() => { const e = document.activeElement; return e ?"
                         " (e.name || e.id || e.tagName) + ':' + (e.innerText || e.value || '')"
                         " : ''; }")


def _tab_to(page, start: str, limit: int = 150) -> None:
    for _ in range(limit):
        page.keyboard.press("Tab")
        if _focused(page).startswith(start):
            return
    raise AssertionError(f"Tab erreicht {start} nicht (zuletzt {_focused(page)})")


def _choose_kind(page, kind: str) -> None:
    """The kind select, by arrow keys from the first choice."""
    _tab_to(page, "kind:")
    page.keyboard.press("Home")
    for _ in range(10):
        if page.locator("select[name=kind]").input_value() == kind:
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"Art {kind} nicht erreicht")


def _type_question(page, kind: str, label: str, required: bool = False, **fields) -> None:
    """From the heading: the kind by arrow keys, the question typed, Space on "Pflichtfrage",
    then the other fields in the order of the form."""
    page.locator("h1").focus()
    _choose_kind(page, kind)
    _tab_to(page, "label_de:")
    page.keyboard.type(label)
    if required:
        _tab_to(page, "required:")
        page.keyboard.press("Space")
        expect(page.locator("input[name=required]")).to_be_checked()
    for name, text in fields.items():
        _tab_to(page, f"{name}:")
        page.keyboard.type(text)


def _send(ui, page) -> None:
    _tab_to(page, "BUTTON:Frage hinzufügen")
    with page.expect_navigation(wait_until="load"):
        page.keyboard.press("Enter")
    ui.check()


def test_a_coordinator_builds_the_questions_with_the_keyboard_only(ui, in_db):
    challenge_id = _set_up(in_db)
    page = ui.page
    sign_in(ui, COORDINATOR[0])
    ui.visit(ui.url_for("challenges.questions_page", challenge_id=challenge_id))
    expect(page.get_by_text("Noch keine Fragen.")).to_be_visible()

    # a number question, required, with its unit
    _type_question(page, "number", "Wie viele Nutzer?", required=True, unit="Nutzer")
    _send(ui, page)
    expect(page.get_by_text("Die Frage „Wie viele Nutzer?“ wurde hinzugefügt.")).to_be_visible()

    # a single choice with one option only: refused at the field, what was typed kept
    _type_question(page, "single_choice", "Welche Ebene?", options_de="Bund")
    _send(ui, page)
    error = page.locator("#options_de-error")
    expect(error).to_contain_text("mindestens zwei Antwortmöglichkeiten")
    expect(page.locator("input[name=label_de]")).to_have_value("Welche Ebene?")
    # the options go on, one per line (Enter)
    page.locator("h1").focus()
    _tab_to(page, "options_de:")
    page.keyboard.press("Control+End")
    page.keyboard.press("Enter")
    page.keyboard.type("Land")
    _send(ui, page)
    expect(page.get_by_text("Die Frage „Welche Ebene?“ wurde hinzugefügt.")).to_be_visible()

    # "Nach oben" of the second question, named with it for screen readers
    page.locator("h1").focus()
    _tab_to(page, "BUTTON:Nach oben")
    expect(page.locator(":focus")).to_have_accessible_name(
        re.compile(r"^Nach oben\s*: Welche Ebene\?$"))
    with page.expect_navigation(wait_until="load"):
        page.keyboard.press("Enter")
    ui.check()
    expect(page.get_by_text("Die Reihenfolge wurde geändert.")).to_be_visible()

    assert _questions(in_db, challenge_id) == [
        ("single_choice", "Welche Ebene?", False, None,
         [{"de": "Bund", "en": None}, {"de": "Land", "en": None}]),
        ("number", "Wie viele Nutzer?", True, "Nutzer", None),
    ]
    cards = page.locator("ol.criteria-list > li h3")
    expect(cards).to_have_text(["Welche Ebene?", "Wie viele Nutzer?"])
