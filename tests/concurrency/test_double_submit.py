"""A form sent twice (a double click, a resend) leaves one result, and both answers show the
result page with its confirmation, as one click would."""
from __future__ import annotations

from datetime import date, timedelta
from html import unescape
from urllib.parse import urljoin

from innolab.domain.notifications import run_pass
from innolab.extensions import db
from innolab.models import Attachment, Message, Proposal, ProposalVersion, TimelineEntry
from innolab.models import FormReceipt
from innolab.models._base import utcnow
from tests import factories as f

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


def _count(model, **by):
    db.session.expire_all()
    return db.session.query(model).filter_by(**by).count()


def _both_show(session, answers, url, text):
    """Both posts answer with the redirect to the result page; the page then shows the
    confirmation. (The posts are sent without following the redirect: both share one cookie
    jar, as a browser's tabs do, and the confirmation is shown once, on the page that follows.)
    """
    for a in answers:
        assert a.status_code == 303, a.status_code
        assert urljoin(a.url, a.headers["Location"]) == url
    page = session.get(url, timeout=60)
    assert text in unescape(page.text)


def test_double_click_on_submit_in_the_form_submits_once(app_ctx, server, signed_in, at_once,
                                                         form_of):
    owner = f.user()
    p = f.proposal(org=f.organisation(owner=owner), status="draft")
    partner = signed_in(owner)
    url, fields = form_of(partner, f"/proposals/{p.id}/edit", "/edit")
    fields += [("save", "submit"), ("confirmed", "1")]  # confirmed in the dialog

    answers = at_once(lambda: partner.post(url, data=fields, timeout=60, allow_redirects=False),
                      lambda: partner.post(url, data=fields, timeout=60, allow_redirects=False))

    _both_show(partner, answers, f"{server}/proposals/{p.id}", "wurde eingereicht")
    assert _count(TimelineEntry, proposal_id=p.id, action="submit") == 1
    assert _count(ProposalVersion, proposal_id=p.id) == 1
    assert db.session.get(Proposal, p.id).status == "submitted"


def test_double_click_on_start_pilot_starts_once(app_ctx, server, signed_in, at_once,
                                                 page_token):
    p = f.proposal(status="approved")
    f.goal(p)
    coordinator = signed_in(f.staff("coordinator"))
    page = f"/staff/review/proposals/{p.id}"
    data = {"action": "start_pilot", "confirmed": "1", "seen_status": "approved",
            "start_date": date.today().isoformat(), "_once": page_token(coordinator, page)}
    url = f"{server}/staff/review/proposals/{p.id}/act"

    answers = at_once(lambda: coordinator.post(url, data=data, timeout=60, allow_redirects=False),
                      lambda: coordinator.post(url, data=data, timeout=60, allow_redirects=False))

    _both_show(coordinator, answers, server + page, "Der Pilot wurde gestartet.")
    assert _count(TimelineEntry, proposal_id=p.id, action="start_pilot") == 1


def test_double_click_on_send_message_sends_once(app_ctx, server, signed_in, at_once, form_of):
    owner = f.user()
    p = f.proposal(org=f.organisation(owner=owner), status="running")
    partner = signed_in(owner)
    page = f"/workspace/{p.id}"
    url, fields = form_of(partner, page, "/messages")
    fields = [(k, v) for k, v in fields if k != "message-body"]
    fields.append(("message-body", "Die Schnittstelle ist fertig."))

    answers = at_once(lambda: partner.post(url, data=fields, timeout=60, allow_redirects=False),
                      lambda: partner.post(url, data=fields, timeout=60, allow_redirects=False))

    _both_show(partner, answers, f"{server}/workspace/{p.id}#messages",
               "Ihre Nachricht wurde gesendet.")
    assert _count(Message, proposal_id=p.id) == 1


def test_double_click_on_upload_stores_one_file(app_ctx, server, signed_in, at_once, form_of,
                                                app):
    owner = f.user()
    p = f.proposal(org=f.organisation(owner=owner), status="draft")
    partner = signed_in(owner)
    url, fields = form_of(partner, f"/proposals/{p.id}", "/attachments")

    def upload():
        return partner.post(url, data=fields, timeout=60, allow_redirects=False,
                            files={"file": ("konzept.pdf", PDF, "application/pdf")})

    answers = at_once(upload, upload)

    _both_show(partner, answers, f"{server}/proposals/{p.id}#attachments",
               "Die Datei „konzept.pdf“ wurde hochgeladen.")
    assert _count(Attachment, proposal_id=p.id) == 1


def test_form_sent_again_later_shows_the_first_result(app_ctx, server, signed_in, page_token):
    p = f.proposal(status="in_review")
    reviewer, iso = f.staff("reviewer"), f.staff("iso")
    f.ready_for_decision(p, reviewer, iso)
    decider = signed_in(f.staff("decider"))
    page = f"/staff/review/proposals/{p.id}"
    data = {"action": "reject", "confirmed": "1", "seen_status": "in_review",
            "message": "Zu teuer.",
            "_once": page_token(decider, page)}
    url = f"{server}/staff/review/proposals/{p.id}/act"

    first = decider.post(url, data=data, timeout=60)
    again = decider.post(url, data=data, timeout=60)  # e.g. the browser sent it once more

    for answer in (first, again):  # one after the other: each shows the result page
        assert answer.status_code == 200 and answer.url == server + page
        assert "Der Vorschlag wurde abgelehnt" in unescape(answer.text)
    assert _count(TimelineEntry, proposal_id=p.id, action="reject") == 1


def test_form_refused_can_be_sent_again_with_the_same_token(app_ctx, server, signed_in,
                                                            page_token):
    p = f.proposal(status="in_review")
    decider = signed_in(f.staff("decider"))
    page = f"/staff/review/proposals/{p.id}"
    token = page_token(decider, page)
    url = f"{server}/staff/review/proposals/{p.id}/act"

    refused = decider.post(url, data={"action": "reject", "confirmed": "1",
                                      "seen_status": "in_review",
                                      "message": "", "_once": token}, timeout=60)
    fixed = decider.post(url, data={"action": "reject", "confirmed": "1",
                                    "seen_status": "in_review",
                                    "message": "Zu teuer.", "_once": token}, timeout=60)

    assert refused.status_code == 422 and "Bitte begründen Sie" in unescape(refused.text)
    assert fixed.status_code == 200 and "Der Vorschlag wurde abgelehnt" in unescape(fixed.text)
    assert _count(TimelineEntry, proposal_id=p.id, action="reject") == 1


def test_receipts_older_than_a_day_are_forgotten_by_the_worker(app_ctx, server, signed_in,
                                                               page_token):
    p = f.proposal(status="submitted")
    coordinator = signed_in(f.staff("coordinator"))
    page = f"/staff/review/proposals/{p.id}"
    coordinator.post(f"{server}/staff/review/proposals/{p.id}/act", timeout=60,
                     data={"action": "request_changes", "seen_status": "submitted",
                           "message": "Bitte ergänzen.", "_once": page_token(coordinator, page)})
    assert _count(FormReceipt) == 1

    run_pass(utcnow() + timedelta(hours=23))
    assert _count(FormReceipt) == 1
    run_pass(utcnow() + timedelta(hours=25))
    assert _count(FormReceipt) == 0
