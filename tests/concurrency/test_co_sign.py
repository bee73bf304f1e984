"""The co-signature (Mitzeichnung) happens once: two deciders who co-sign the same pending
decision at the same moment, through the real server, yield exactly one decision; a
co-signature and a refusal at once leave one of them."""
from __future__ import annotations

from collections import Counter
from html import unescape

import pytest

from innolab.extensions import db
from innolab.models import Decision, Notification, OutboxMail, Proposal, TimelineEntry
from tests import factories as f

BASE = "/staff/review/proposals/{id}"


@pytest.fixture
def people(app_ctx):
    owner = f.user(name="Olga Eigentümerin")
    org = f.organisation(owner=owner, name="Chatbot Nord GmbH")
    return {
        "owner": owner, "org": org,
        "deciders": tuple(f.staff("decider", name=n) for n in
                          ("Dora Entscheidung", "Dieter Entscheidung", "Dirk Entscheidung")),
        "reviewer": f.staff("reviewer", name="Gerd Gutachter"),
        "iso": f.staff("iso", name="Ines Sicherheit"),
    }


def _pending(people, server, signed_in):
    p = f.proposal(org=people["org"], status="in_review", cost_estimate=400_000)
    f.ready_for_decision(p, people["reviewer"], people["iso"])
    dora, dieter, dirk = (signed_in(u) for u in people["deciders"])
    resp = dora.post(server + BASE.format(id=p.id) + "/act",
                     data={"action": "approve", "confirmed": "1", "seen_status": "in_review",
                           "message": "Überzeugend."}, timeout=60)
    assert resp.status_code == 200 and "wird wirksam, sobald" in unescape(resp.text)
    assert _fresh(p).status == "in_review"
    return p, dieter, dirk


def _fresh(p) -> Proposal:
    db.session.expire_all()
    return db.session.get(Proposal, p.id)


def _actions(p) -> list[str]:
    return [e.action for e in db.session.query(TimelineEntry).filter_by(proposal_id=p.id)
            .order_by(TimelineEntry.id)]


def test_two_co_signatures_at_once_decide_once(people, server, signed_in, at_once, outbox):
    p, dieter, dirk = _pending(people, server, signed_in)
    url = server + BASE.format(id=p.id) + "/co-sign"
    data = {"confirmed": "1", "seen_status": "in_review"}

    answers = at_once(lambda: dieter.post(url, data=data, timeout=60),
                      lambda: dirk.post(url, data=data, timeout=60))

    assert sorted(a.status_code for a in answers) == [200, 422], [a.status_code for a in answers]
    assert _fresh(p).status == "approved"
    assert _actions(p) == ["co_sign_requested", "approve", "co_signed"]
    [decision] = db.session.query(Decision).filter_by(proposal_id=p.id).all()
    assert decision.state == "final"
    winner = 0 if answers[0].status_code == 200 else 1
    assert decision.co_signer_id == people["deciders"][1 + winner].id
    loser = unescape(answers[1 - winner].text)
    assert "inzwischen" in loser or "keine Entscheidung auf Mitzeichnung" in loser, loser
    mails = [m for m in outbox(people["owner"].email) if "Entscheidung" in m.subject]
    assert len(mails) == 1
    notes = Counter((n.user_id, n.kind) for n in db.session.query(Notification))
    assert all(count == 1 for count in notes.values()), notes
    sent = Counter((m.recipient, m.subject) for m in db.session.query(OutboxMail))
    assert all(count == 1 for count in sent.values()), sent


def test_co_signature_and_refusal_at_once_leave_one(people, server, signed_in, at_once, outbox):
    p, dieter, dirk = _pending(people, server, signed_in)
    base = server + BASE.format(id=p.id)

    answers = at_once(
        lambda: dieter.post(base + "/co-sign", data={"confirmed": "1",
                                                      "seen_status": "in_review"}, timeout=60),
        lambda: dirk.post(base + "/co-sign/refuse",
                          data={"seen_status": "in_review", "reason": "Zu teuer."}, timeout=60))

    assert sorted(a.status_code for a in answers) == [200, 422], [a.status_code for a in answers]
    [decision] = db.session.query(Decision).filter_by(proposal_id=p.id).all()
    status = _fresh(p).status
    if answers[0].status_code == 200:  # the co-signature won
        assert decision.state == "final" and status == "approved"
        assert _actions(p) == ["co_sign_requested", "approve", "co_signed"]
        assert len(outbox(people["owner"].email)) == 1
    else:
        assert decision.state == "refused" and status == "in_review"
        assert _actions(p) == ["co_sign_requested", "co_sign_refused"]
        assert outbox(people["owner"].email) == []
