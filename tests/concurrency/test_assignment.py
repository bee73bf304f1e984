"""Two coordinators assign the same reviewers at the same moment: each pair once, one mail each;
and a reviewer who confirms and declares at the same moment ends up with one of the two."""
from __future__ import annotations

from collections import Counter

from innolab.extensions import db
from innolab.models import AuditEvent, Notification, OutboxMail, ReviewAssignment
from tests import factories as f


def _people():
    owner = f.user(name="Olga Eigentümerin")
    org = f.organisation(owner=owner, name="Chatbot Nord GmbH")
    return {
        "org": org,
        "coordinators": (f.staff("coordinator", name="Klara Koordination"),
                         f.staff("coordinator", name="Konrad Koordination")),
        "reviewers": [f.staff("reviewer", name=n) for n in ("Anna Albrecht", "Bert Brandt")],
    }


def test_bulk_assignments_at_once_assign_each_pair_once(app_ctx, server, signed_in, at_once,
                                                        form_of):
    people = _people()
    proposals = [f.proposal(org=people["org"], status="in_review") for _ in range(2)]
    klara, konrad = (signed_in(u) for u in people["coordinators"])
    path = "/staff/review/assign?" + "&".join(f"p={p.id}" for p in proposals) + "&suggest=1"
    url, fields = form_of(klara, path, "/staff/review/assign")
    _url, fields_2 = form_of(konrad, path, "/staff/review/assign")
    ticked = [v for k, v in fields if k == "pair"]
    assert len(ticked) == 4  # two reviews needed, two reviewers, two proposals

    answers = at_once(lambda: klara.post(url, data=fields, timeout=60),
                      lambda: konrad.post(url, data=fields_2, timeout=60))

    assert all(a.status_code < 500 for a in answers), [a.status_code for a in answers]
    db.session.expire_all()
    pairs = Counter((a.proposal_id, a.reviewer_id) for a in db.session.query(ReviewAssignment))
    assert len(pairs) == 4 and set(pairs.values()) == {1}
    assert db.session.query(AuditEvent).filter_by(action="review.assign").count() == 4
    # the later request says the pairs were assigned already, with no 500 and nothing twice
    texts = [a.text for a in answers]
    assert any("bereits zugewiesen" in t for t in texts), [t[:300] for t in texts]
    for reviewer in people["reviewers"]:
        notices = db.session.query(Notification).filter_by(
            user_id=reviewer.id, kind="reviewer_assigned").count()
        assert notices == 2
        assert db.session.query(OutboxMail).filter_by(recipient=reviewer.email).count() <= 2


def test_confirming_and_declaring_at_once_never_lose_the_declaration(app_ctx, server,
                                                                    signed_in, at_once,
                                                                    form_of):
    people = _people()
    p = f.proposal(org=people["org"], status="in_review",
                   problem="Vertraulich: die Wartezeiten im Bürgeramt.")
    anna = people["reviewers"][0]
    db.session.add(ReviewAssignment(proposal_id=p.id, reviewer_id=anna.id))
    db.session.commit()
    first, second = signed_in(anna), signed_in(anna)  # two tabs, two sessions
    gate = f"/staff/review/proposals/{p.id}/gate"
    confirm_url, confirm = form_of(first, gate, gate)
    declare_url, declare = form_of(second, gate, gate + "/conflict")
    confirm.append(("confirm", "y"))
    declare = [(k, v) for k, v in declare if k != "reason"] + [
        ("reason", "Mein Bruder ist Gesellschafter.")]

    answers = at_once(lambda: first.post(confirm_url, data=confirm, timeout=60),
                      lambda: second.post(declare_url, data=declare, timeout=60))

    assert all(a.status_code < 500 for a in answers), [a.status_code for a in answers]
    db.session.expire_all()
    a = db.session.query(ReviewAssignment).one()
    assert a.conflict_declared_at is not None  # whichever came first, the declaration holds
    assert a.conflict_reason == "Mein Bruder ist Gesellschafter."
    page = first.get(server + f"/staff/review/proposals/{p.id}", timeout=30)
    assert page.status_code == 403
    assert "Vertraulich" not in page.text
