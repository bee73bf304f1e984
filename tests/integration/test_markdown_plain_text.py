"""Markdown never shows raw: cards and feeds show it as plain text, plain-text mails as
readable text, HTML mails rendered (without links to what users typed); the API gives the
Markdown as written."""
from __future__ import annotations

import re

import pytest
from flask import url_for
from sqlalchemy import select

from innolab.domain import notifications as nt
from innolab.extensions import db
from innolab.models import OutboxMail, ResultsReport
from innolab.models._base import utcnow
from tests import factories as f

pytestmark = pytest.mark.usefixtures("app_ctx")

SUMMARY = "Ein **fetter** Satz mit [Link](https://example.org/a) und `Code`.\n\n# Überschrift"
PLAIN = "Ein fetter Satz mit Link und Code."
RAW = ("**", "](", "# Überschrift", "`Code`", "## ")


def assert_no_raw_markdown(text: str, where: str) -> None:
    for mark in RAW:
        assert mark not in text, (where, mark)


@pytest.fixture
def pilot():
    org = f.organisation(owner=f.user(), name="Nordlicht GmbH")
    c = f.challenge(summary="Kontrollen **digital** erfassen, siehe [hier](https://example.org)")
    p = f.proposal(org=org, status="completed", public_summary=SUMMARY, publication_consent=True,
                   challenge_=c)
    p.published_at = utcnow()
    db.session.add(ResultsReport(proposal=p, status="accepted",
                                 summary="## Ergebnis\n\n**Alle** Ziele erreicht.",
                                 recommendation="roll_out", publication_consent=True,
                                 published_at=utcnow()))
    db.session.commit()
    return p


@pytest.mark.parametrize("lang", ["de", "en"])
def test_cards_show_summaries_as_plain_text(client, pilot, lang):
    pages = ["/", "/pilots", "/challenges", "/results",
             f"/challenges/{pilot.challenge_id}", f"/organisations/{pilot.organisation.slug}"]
    for url in pages:
        html = client.get(f"{url}?lang={lang}").get_data(as_text=True)
        assert_no_raw_markdown(html, url)
    assert PLAIN in client.get("/pilots").get_data(as_text=True)
    assert "Alle Ziele erreicht." in client.get("/results").get_data(as_text=True)
    assert "Kontrollen digital erfassen, siehe hier" in client.get(
        "/challenges").get_data(as_text=True)


def test_a_long_summary_is_cut_at_a_word_on_the_card(client):
    p = f.proposal(status="running", publication_consent=True,
                   public_summary="**Wort** " * 80)
    p.published_at = utcnow()
    db.session.commit()
    html = client.get("/pilots").get_data(as_text=True)
    (card,) = re.findall(r'<p class="kern-body"[^>]*>(Wort [^<]*)</p>', html)
    assert card.endswith("Wort …") and len(card) <= 302 and "**" not in card


@pytest.mark.parametrize("feed", ["challenges", "pilots", "results"])
def test_feeds_give_summaries_as_plain_text(client, pilot, feed):
    body = client.get(f"/feeds/{feed}.atom").get_data(as_text=True)
    assert_no_raw_markdown(body, feed)
    assert '<summary type="text">' in body


def test_the_pilot_feed_summary_is_the_text_of_the_markdown(client, pilot):
    body = client.get("/feeds/pilots.atom").get_data(as_text=True)
    assert f"<summary type=\"text\">{PLAIN}\n\nÜberschrift</summary>" in body


def test_the_api_keeps_the_markdown_as_written(client, pilot):
    (item,) = client.get("/api/v1/pilots").get_json()["items"]
    assert item["summary"] == SUMMARY


def _mail_to(email: str) -> OutboxMail:
    return db.session.execute(
        select(OutboxMail).where(OutboxMail.recipient == email)
        .order_by(OutboxMail.id.desc())).scalars().first()


def test_transition_mail_shows_the_message_readable_and_links_nothing_typed(client):
    owner = f.user(email="owner@example.org")
    p = f.proposal(org=f.organisation(owner=owner), status="changes_requested")
    nt.transition(p, "request_changes", None,
                  "Bitte **ergänzen** Sie:\n\n- die [Kosten](https://evil.example/k)\n- den Plan")
    db.session.commit()
    mail = _mail_to("owner@example.org")
    assert "Bitte ergänzen Sie:\n\n- die Kosten (https://evil.example/k)\n- den Plan" \
        in mail.body_text
    assert_no_raw_markdown(mail.body_text, "text")
    # its HTML part is that text (no template of its own): nothing raw, no link typed
    assert_no_raw_markdown(mail.body_html, "html")
    assert 'href="https://evil.example' not in mail.body_html
    assert "Kosten (https://evil.example/k)" in mail.body_html


def test_notification_mail_renders_the_message_and_links_nothing_typed(client):
    owner = f.user(email="owner@example.org")
    nt.notify([owner], "new_message", proposal=f.proposal(org=f.organisation(owner=owner)),
              link="/x", message="Der **Termin** steht: [Kalender](https://evil.example/k)")
    db.session.commit()
    mail = _mail_to("owner@example.org")
    assert "Der Termin steht: Kalender (https://evil.example/k)" in mail.body_text
    assert "Der <strong>Termin</strong> steht: Kalender (https://evil.example/k)" \
        in mail.body_html
    assert 'href="https://evil.example' not in mail.body_html


def test_workspace_message_mail_is_plain_text(client, login):
    owner = f.user(email="team@example.org")
    coordinator = f.staff("coordinator")
    p = f.proposal(org=f.organisation(owner=owner), status="running")
    response = login(coordinator).post(
        url_for("pilots.messages", proposal_id=p.id),
        data={"message-body": "## Stand\n\nDer **Termin** steht: [Kalender](https://x.example)"},
        content_type="multipart/form-data")
    assert response.status_code in (200, 303)
    mail = _mail_to("team@example.org")
    assert mail is not None
    assert "Stand\n\nDer Termin steht: Kalender (https://x.example)" in mail.body_text
    assert_no_raw_markdown(mail.body_text, "text")
    assert_no_raw_markdown(mail.body_html, "html")
