"""The anonymised first round of a challenge: a reviewer in it reaches nothing that identifies
the proposing organisation, and after the shortlisting sees who it is.

The crawl starts at the reviewer's own pages („Meine Gutachten“, tasks, notifications, the
proposal's review pages) and follows every same-site link (GET only) within the signed-in
part of the site; no page and no downloaded file may contain the organisation's name, its
members' names, their e-mail addresses, the contact person's details, or the attachments'
file names. The same crawl after shortlisting finds them, so the test can fail.
"""
from __future__ import annotations

import io
import re
import zipfile
from collections import deque
from urllib.parse import urljoin, urlsplit

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from innolab.domain import review as rv
from innolab.domain import uploads, workflow
from innolab.extensions import db
from innolab.models import Attachment, AuditEvent, Notification, Proposal, Status
from tests import documents
from tests import factories as f

pytestmark = pytest.mark.usefixtures("app_ctx")

ORG = "Quallenwerk Analytik GmbH"
OWNER = ("Hildegard Quallmeier", "hildegard@quallenwerk.example")
MEMBER = ("Torsten Brandhuber", "t.brandhuber@brandhuber-post.example")
CONTACT_PHONE = "0381 4477 1234"
FILES = ("quallenwerk-konzept.pdf", "brandhuber-kalkulation.docx")
SECRETS = (ORG, "Quallenwerk", *OWNER, "Quallmeier", *MEMBER, "Brandhuber", CONTACT_PHONE,
           *FILES, "quallenwerk.example")

# Where the crawl may go: the signed-in part of the site (not the public showcase, which
# shows only published pilots and is checked on its own below), never signing out.
PREFIXES = ("/staff", "/proposals", "/tasks", "/notifications", "/account", "/pilots")
SKIP = re.compile(r"logout|abmelden|/sign-out|/delete|/export")
HREF = re.compile(r'(?:href|action|hx-get)="([^"#]+)')


def _file(name: str, data: bytes, kind: str) -> FileStorage:
    return FileStorage(stream=io.BytesIO(data), filename=name, content_type=kind)


@pytest.fixture
def world(login):
    owner = f.user(name=OWNER[0], email=OWNER[1])
    member = f.user(name=MEMBER[0], email=MEMBER[1])
    org = f.organisation(owner=owner, members=[member], name=ORG)
    org.website = "https://www.quallenwerk.example"
    challenge = f.challenge(anonymised_first_round=True)
    coordinator = f.staff("coordinator")
    reviewer = f.staff("reviewer", name="Rainer Gutachter", email="rainer@land-mv.example")
    other = f.staff("reviewer", name="Olga Zweitgutachterin", email="olga@land-mv.example")
    p = f.proposal(org, status=Status.SUBMITTED.value, challenge_=challenge,
                   title="Quallenwerk-Lotse für Anfragen",
                   contact_name=OWNER[0], contact_email=OWNER[1], contact_phone=CONTACT_PHONE,
                   problem="Bei der Quallenwerk Analytik GmbH sehen wir, dass Anfragen liegen "
                           "bleiben. Fragen Sie Hildegard Quallmeier (hildegard@quallenwerk."
                           "example) oder Herrn Brandhuber, Tel. 0381 4477 1234.",
                   solution="Ein Lotse, den Torsten Brandhuber bei QUALLENWERK entwickelt hat.")
    pdf = uploads.store(p, _file(FILES[0], documents.pdf(OWNER[0], ORG), "application/pdf"),
                        owner)
    docx = uploads.store(p, _file(FILES[1], documents.docx(MEMBER[0], ORG),
                                  uploads.ALLOWED["docx"]), owner)
    db.session.commit()
    for person in (reviewer, other):
        rv.assign(p, person, coordinator)
    workflow.apply(p, "start_anonymous_review", coordinator)
    db.session.commit()
    return dict(p=p, owner=owner, coordinator=coordinator, reviewer=reviewer, other=other,
                pdf=pdf, docx=docx, login=login)


def _crawl(client, starts: list[str], limit: int = 400) -> dict[str, bytes]:
    """Every page and file reachable from `starts` by same-site GET links within PREFIXES:
    path -> body (redirects followed to their page)."""
    seen: dict[str, bytes] = {}
    queue = deque(starts)
    while queue and len(seen) < limit:
        url = queue.popleft()
        if url in seen:
            continue
        response = client.get(url, follow_redirects=True)
        assert response.status_code < 500, url
        seen[url] = response.data
        if "text/html" not in response.content_type:
            continue
        for link in HREF.findall(response.get_data(as_text=True)):
            link = link.replace("&amp;", "&")
            target = urlsplit(urljoin("http://localhost" + url, link))
            if target.netloc not in ("", "localhost") or SKIP.search(target.path):
                continue
            path = target.path + (f"?{target.query}" if target.query else "")
            if target.path.startswith(PREFIXES) and path not in seen:
                queue.append(path)
    return seen


def _found(pages: dict[str, bytes]) -> dict[str, list[str]]:
    """Which secret each page shows (case-insensitive, also HTML-escaped)."""
    hits: dict[str, list[str]] = {}
    for url, body in pages.items():
        text = body.decode("utf-8", "replace").casefold()
        for secret in SECRETS:
            if secret.casefold() in text or secret.casefold().replace("@", "&#64;") in text:
                hits.setdefault(url, []).append(secret)
    return hits


def _starts(p) -> list[str]:
    return ["/staff/review/mine", "/tasks", "/notifications",
            f"/staff/review/proposals/{p.id}", f"/staff/review/proposals/{p.id}/gate",
            f"/staff/review/proposals/{p.id}/review", f"/proposals/{p.id}",
            f"/proposals/{p.id}/versions"]


def _release(client, w, attachment):
    return client.post(f"/staff/review/proposals/{w['p'].id}/attachments/{attachment.id}"
                       "/first-round", data={"intent": "release"})


def test_a_reviewer_of_the_first_round_reaches_nothing_that_identifies_the_applicant(
        world, client, outbox):
    w = world
    p = w["p"]
    w["login"](w["coordinator"])
    assert _release(client, w, w["pdf"]).status_code in (302, 303)
    w["login"](w["reviewer"])
    # before the confirmation: the question, with nothing of who applied
    gate = client.get(f"/staff/review/proposals/{p.id}/gate")
    assert "Anonymisierte erste Runde" in gate.get_data(as_text=True)
    before = _crawl(client, _starts(p))
    assert _found(before) == {}
    assert client.post(f"/staff/review/proposals/{p.id}/gate",
                       data={"confirm": "y"}).status_code in (302, 303)

    pages = _crawl(client, _starts(p))
    assert {f"/staff/review/proposals/{p.id}/review", f"/staff/review/proposals/{p.id}/conflict",
            f"/staff/review/proposals/{p.id}/attachments/1", "/notifications/"} <= set(pages)
    assert _found(pages) == {}
    page = pages[f"/staff/review/proposals/{p.id}"].decode()
    assert "[geschwärzt]" in page and "Anlage 1" in page and "Anlage 2" not in page
    # the released attachment comes as „Anlage-1.pdf“, without its metadata
    download = client.get(f"/staff/review/proposals/{p.id}/attachments/1")
    assert download.status_code == 200
    assert 'filename=Anlage-1.pdf' in download.headers["Content-Disposition"]
    assert OWNER[0].encode() not in download.data and ORG.encode() not in download.data
    assert download.data.startswith(b"%PDF")
    # the withheld one is neither listed nor to be had, nor any file by its own address
    assert client.get(f"/staff/review/proposals/{p.id}/attachments/2").status_code == 404
    for a in (w["pdf"], w["docx"]):
        assert client.get(f"/proposals/attachments/{a.id}").status_code in (403, 404)
    assert client.get(f"/proposals/{p.id}").status_code == 404
    # what the platform mailed the reviewer
    for mail in outbox(w["reviewer"].email):
        assert [s for s in SECRETS if s.casefold() in mail.body_text.casefold()] == []
        assert [s for s in SECRETS if s.casefold() in mail.subject.casefold()] == []


def _review(client, p, scores=4):
    data = {c: str(scores) for c in ("innovation", "benefit", "feasibility",
                                      "cost_effectiveness", "privacy_security")}
    data.update(recommendation="approve", comment="Solide.", intent="submit", confirmed="1")
    return client.post(f"/staff/review/proposals/{p.id}/review", data=data)


def test_after_shortlisting_the_reviewer_confirms_again_and_sees_who_applied(world, client):
    w = world
    p = w["p"]
    w["login"](w["reviewer"])
    client.post(f"/staff/review/proposals/{p.id}/gate", data={"confirm": "y"})
    assert _review(client, p).status_code in (302, 303)
    w["login"](w["coordinator"])
    answer = client.post(f"/staff/review/proposals/{p.id}/act",
                         data={"action": "shortlist", "seen_status": p.status,
                               "confirmed": "1"})
    assert answer.status_code in (302, 303), answer.get_data(as_text=True)
    db.session.expire_all()
    p = db.session.get(Proposal, p.id)
    assert p.status == Status.IN_REVIEW.value and p.shortlisted_at is not None
    # every active assignment meets the question again, now with the identity shown
    assert all(a.no_conflict_confirmed_at is None for a in p.assignments)
    told = db.session.execute(select(Notification.user_id).where(
        Notification.kind == "second_round")).scalars().all()
    assert sorted(told) == sorted([w["reviewer"].id, w["other"].id])
    w["login"](w["reviewer"])
    page = client.get(f"/staff/review/proposals/{p.id}", follow_redirects=True)
    text = page.get_data(as_text=True)
    assert "Interessenkonflikt prüfen" in text and ORG in text and MEMBER[0] in text
    client.post(f"/staff/review/proposals/{p.id}/gate", data={"confirm": "y"})
    found = _found(_crawl(client, _starts(p)))
    seen = {s for hits in found.values() for s in hits}
    assert {ORG, OWNER[0], OWNER[1], FILES[0], FILES[1]} <= seen
    # the round-one review stays, labelled, and does not count; a second one is written
    desk = client.get(f"/staff/review/proposals/{p.id}/review").get_data(as_text=True)
    assert "Gutachten schreiben" in desk or "Gutachten abschließen" in desk
    assert _review(client, p, scores=5).status_code in (302, 303)
    db.session.expire_all()
    rounds = sorted(r.round for r in db.session.get(Proposal, p.id).reviews)
    assert rounds == [1, 2]
    w["login"](w["coordinator"])
    staff = client.get(f"/staff/review/proposals/{p.id}").get_data(as_text=True)
    assert "1. Runde (anonymisiert)" in staff


def test_release_and_withhold_are_the_coordinators_and_logged(world, client):
    w = world
    p = w["p"]
    w["login"](w["reviewer"])
    assert _release(client, w, w["pdf"]).status_code == 403
    w["login"](w["coordinator"])
    staff = client.get(f"/staff/review/proposals/{p.id}").get_data(as_text=True)
    assert "kann den Antragsteller erkennen lassen" in staff and FILES[0] in staff
    _release(client, w, w["docx"])
    client.post(f"/staff/review/proposals/{p.id}/attachments/{w['docx'].id}/first-round",
                data={"intent": "withhold"})
    actions = db.session.execute(select(AuditEvent.action).order_by(AuditEvent.id)).scalars()
    assert [a for a in actions if "first_round" in a] == [
        "attachment.release_first_round", "attachment.withhold_first_round"]
    assert db.session.get(Attachment, w["docx"].id).first_round_released_at is None


def test_an_attachment_whose_metadata_cannot_be_stripped_stays_withheld(world, client):
    w = world
    p = w["p"]
    buffer = io.BytesIO(documents.docx(MEMBER[0]))
    with zipfile.ZipFile(buffer, "a") as z:
        z.writestr("word/comments.xml", f'<w:comments><w:comment w:author="{MEMBER[0]}"/>'
                                        "</w:comments>")
    commented = uploads.store(p, _file("kommentiert.docx", buffer.getvalue(),
                                       uploads.ALLOWED["docx"]), w["owner"])
    db.session.commit()
    w["login"](w["coordinator"])
    answer = client.post(f"/staff/review/proposals/{p.id}/attachments/{commented.id}"
                         "/first-round", data={"intent": "release"}, follow_redirects=True)
    assert "nicht vollständig entfernen" in answer.get_data(as_text=True)
    assert db.session.get(Attachment, commented.id).first_round_released_at is None


def test_the_public_pages_and_open_data_never_show_a_proposal_in_the_first_round(world, client):
    p = world["p"]
    for url in ("/", "/pilots", f"/pilots/{p.id}", "/api/v1/pilots", f"/api/v1/pilots/{p.id}",
                "/feeds/pilots.atom", "/open-data"):
        body = client.get(url, follow_redirects=True).get_data(as_text=True)
        assert p.title not in body and ORG not in body, url


def test_the_setting_is_the_coordinators_and_frozen_once_a_review_began(world, client):
    w = world
    c = w["p"].challenge
    w["login"](w["coordinator"])
    page = client.get(f"/staff/challenges/{c.id}/criteria").get_data(as_text=True)
    assert "Begutachtungsrunden" in page and "lässt sich nicht mehr ändern" in page
    answer = client.post(f"/staff/challenges/{c.id}/rounds", data={})
    assert answer.status_code == 422
    assert db.session.get(type(c), c.id).anonymised_first_round is True
    fresh = f.challenge()
    client.post(f"/staff/challenges/{fresh.id}/rounds", data={"anonymised_first_round": "y"})
    db.session.expire_all()
    assert db.session.get(type(c), fresh.id).anonymised_first_round is True
    shown = client.get(f"/challenges/{fresh.id}").get_data(as_text=True)
    assert "Die erste Begutachtungsrunde ist anonymisiert" in shown
    # once a reviewer is assigned to one of its proposals, nobody may switch it
    waiting = f.proposal(w["p"].organisation, status=Status.SUBMITTED.value, challenge_=fresh)
    rv.assign(waiting, w["other"], w["coordinator"])
    db.session.commit()
    answer = client.post(f"/staff/challenges/{fresh.id}/rounds", data={})
    assert answer.status_code == 422
    assert "bereits eine Gutachterin" in answer.get_data(as_text=True)


def test_assigned_before_the_round_starts_a_reviewer_sees_no_identity_either(world, client):
    w = world
    p = f.proposal(w["p"].organisation, status=Status.SUBMITTED.value,
                   challenge_=w["p"].challenge, title="Noch nicht begonnen",
                   problem="Quallenwerk wartet.", contact_name=OWNER[0], contact_email=OWNER[1])
    rv.assign(p, w["reviewer"], w["coordinator"])
    db.session.commit()
    w["login"](w["reviewer"])
    client.post(f"/staff/review/proposals/{p.id}/gate", data={"confirm": "y"})
    pages = _crawl(client, _starts(p))
    assert f"/staff/review/proposals/{p.id}" in pages
    assert _found(pages) == {}
