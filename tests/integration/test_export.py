"""The staff's CSV export of the proposals with their scores."""
from __future__ import annotations

import csv
import io
import re

import pytest

from innolab.extensions import db
from innolab.models import AuditEvent, Check, Review, ReviewAssignment
from innolab.models._base import utcnow
from tests import factories as f

pytestmark = pytest.mark.usefixtures("app_ctx")

URL = "/staff/export/proposals.csv"


def rows(response) -> list[list[str]]:
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 with BOM for Excel"
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))


def review(p, reviewer, scores=(4, 5, 3, 4, 2), recommendation="approve", submitted=True,
           conflict=False):
    db.session.add(ReviewAssignment(no_conflict_confirmed_at=utcnow(),
                                    proposal_id=p.id, reviewer_id=reviewer.id,
                                    conflict_declared_at=utcnow() if conflict else None,
                                    conflict_reason="Befangen" if conflict else None))
    names = ("innovation", "benefit", "feasibility", "cost_effectiveness", "privacy_security")
    db.session.add(Review(proposal_id=p.id, reviewer_id=reviewer.id, recommendation=recommendation,
                          comment="Interner Kommentar",
                          submitted_at=utcnow() if submitted else None,
                          **dict(zip(names, scores, strict=False))))
    db.session.commit()


# ---------------------------------------------------------------- who may


@pytest.mark.parametrize("role", ["admin", "coordinator", "decider", "dpo", "iso"])
def test_overseeing_staff_may_export(client, login, role):
    f.proposal(status="submitted", title="Eingereichter Vorschlag")
    login(f.staff(role))
    r = client.get(URL)
    assert r.status_code == 200
    assert r.mimetype == "text/csv"
    assert r.headers["Content-Disposition"].startswith("attachment; filename=")
    assert ".csv" in r.headers["Content-Disposition"]
    assert r.headers["Cache-Control"] == "no-store"
    assert "Access-Control-Allow-Origin" not in r.headers
    assert any(row[1] == "Eingereichter Vorschlag" for row in rows(r))


def test_visitor_is_sent_to_the_login(client):
    r = client.get(URL)
    assert r.status_code == 302
    assert "/login" in r.headers["Location"]


def test_reviewer_and_partners_are_refused(client, login):
    owner = f.user()
    p = f.proposal(org=f.organisation(owner=owner), status="submitted")
    reviewer = f.staff("reviewer")
    db.session.add(ReviewAssignment(no_conflict_confirmed_at=utcnow(),
                                    proposal_id=p.id, reviewer_id=reviewer.id))
    db.session.commit()
    outsider = f.user()
    f.organisation(owner=outsider)
    for user in (owner, outsider, reviewer):
        login(user)
        r = client.get(URL)
        assert r.status_code == 403, user.email
        assert p.title not in r.get_data(as_text=True)


def test_export_is_audited(client, login):
    f.proposal(status="submitted")
    coordinator = f.staff("coordinator")
    login(coordinator)
    client.get(URL + "?status=submitted")
    event = db.session.query(AuditEvent).filter_by(action="proposal.export").one()
    assert event.actor_id == coordinator.id
    assert event.details["count"] == 1 and event.details["status"] == "submitted"


# ---------------------------------------------------------------- what is in it


def test_export_has_every_submitted_proposal_with_scores_and_checks(client, login):
    c = f.challenge(title="Digitale Bauakte")
    p = f.proposal(status="in_review", title="Bauakte als Cloud-Dienst", challenge_=c,
                   personal_data=True)
    f.proposal(status="draft", title="Geheimer Entwurf")
    initiative = f.proposal(status="approved", title="Initiative ohne Herausforderung")
    r1, r2, r3, r4 = (f.staff("reviewer") for _ in range(4))
    review(p, r1, scores=(4, 5, 3, 4, 2), recommendation="approve")
    review(p, r2, scores=(2, 3, 3, 4, 4), recommendation="revise")
    review(p, r3, scores=(1, 1, 1, 1, 1), recommendation="reject", submitted=False)  # a draft
    review(p, r4, scores=(1, 1, 1, 1, 1), recommendation="reject", conflict=True)  # no count
    db.session.add(Check(proposal_id=p.id, kind="data_protection", outcome="passed",
                         officer_id=f.staff("dpo").id))
    db.session.commit()
    login(f.staff("coordinator"))
    # like the inbox, the export lists the open proposals unless asked for all of them
    assert [r[1] for r in rows(client.get(URL))[1:]] == [p.title]
    table = rows(client.get(f"{URL}?status=all"))
    header, body = table[0], table[1:]
    assert header[:7] == ["Aktenzeichen", "Titel", "Organisation", "Herausforderung", "Status",
                          "Eingereicht am", "Abgeschlossene Gutachten"]
    assert header[-6:] == ["Bewertungen je Kriterium", "Gesamtwert (gewichtet, Skala 1 bis 5)",
                           "Unter Mindestwert", "Empfehlungen", "Prüfungen", "Antworten"]
    assert "Innovationsgrad" in header
    assert {row[1] for row in body} == {p.title, initiative.title}
    row = dict(zip(header, next(r for r in body if r[1] == p.title), strict=False))
    assert row["Aktenzeichen"] == p.reference
    assert row["Organisation"] == p.organisation.name
    assert row["Herausforderung"] == "Digitale Bauakte"
    assert row["Status"] == "In Begutachtung"
    assert re.fullmatch(r"\d\d\.\d\d\.\d{4}", row["Eingereicht am"])
    assert row["Abgeschlossene Gutachten"] == "2"
    assert row["Innovationsgrad"] == "3,00"  # (4 + 2) / 2, German decimal comma
    assert row["Nutzen für die Verwaltung"] == "4,00"
    assert row["Gesamtwert (gewichtet, Skala 1 bis 5)"] == "3,40"  # (3.6 + 3.2) / 2
    assert "Bewilligung empfehlen: 1" in row["Empfehlungen"]
    assert "Nachbesserung empfehlen: 1" in row["Empfehlungen"]
    assert "Ablehnung" not in row["Empfehlungen"]
    assert "Datenschutzprüfung: bestanden" in row["Prüfungen"]
    assert "Prüfung der Informationssicherheit: ausstehend" in row["Prüfungen"]
    other = dict(zip(header, next(r for r in body if r[1] == initiative.title), strict=False))
    assert other["Herausforderung"] == "Initiativvorschlag"
    assert other["Abgeschlossene Gutachten"] == "0"
    assert other["Gesamtwert (gewichtet, Skala 1 bis 5)"] == ""
    assert "Interner Kommentar" not in client.get(URL).get_data(as_text=True)


def test_export_keeps_the_inbox_filters(client, login):
    c = f.challenge()
    wanted = f.proposal(status="submitted", title="Gesuchter Vorschlag", challenge_=c)
    f.proposal(status="submitted", title="Anderer Vorschlag")
    f.proposal(status="approved", title="Gesuchter, aber bewilligt", challenge_=c)
    login(f.staff("coordinator"))
    table = rows(client.get(f"{URL}?q=gesuchter&status=submitted&challenge={c.id}"))
    assert [r[1] for r in table[1:]] == [wanted.title]
    # unknown filter values are ignored, as in the inbox: the open proposals, of any challenge
    assert len(rows(client.get(f"{URL}?status=unsinn&challenge=abc&sort=x"))) == 3


def test_inbox_offers_the_export_with_its_filters(client, login):
    f.proposal(status="submitted")
    login(f.staff("coordinator"))
    html = client.get("/staff/review/?status=submitted").get_data(as_text=True)
    assert "Als CSV exportieren" in html
    assert 'href="/staff/export/proposals.csv?status=submitted"' in html


@pytest.mark.parametrize("evil", ["=HYPERLINK(\"http://evil.example\")", "+4930123", "-2+3",
                                  "@SUMME(A1)", "\t=1+1", "\r=1+1"])
def test_cells_that_look_like_formulas_are_defused(client, login, evil):
    org = f.organisation(owner=f.user(), name=evil)
    f.proposal(org=org, status="submitted", title=evil)
    login(f.staff("coordinator"))
    body = rows(client.get(URL))[1]
    assert body[1] == "'" + evil
    assert body[2] == "'" + evil
    for cell in body:
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


def test_separator_and_quotes_in_text_stay_in_their_cell(client, login):
    f.proposal(status="submitted", title='Titel; mit "Anführungszeichen"\nund Zeilenumbruch')
    login(f.staff("coordinator"))
    table = rows(client.get(URL))
    assert len(table) == 2
    assert table[1][1] == 'Titel; mit "Anführungszeichen"\nund Zeilenumbruch'
    assert len(table[1]) == len(table[0])


def test_export_header_in_english(client, login):
    f.proposal(status="submitted")
    login(f.staff("coordinator", locale="en"))
    header = rows(client.get(URL))[0]
    assert len(header) == 18
