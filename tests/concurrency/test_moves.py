"""Every move of the lifecycle happens once, also when two people make it at the same moment.

Each test sends the same move twice at once through the real server (two people with the
right role, or the same person's double click). One request goes through, the other is
refused with its reason; the proposal gets one timeline entry, each person one notification
and one mail.
"""
from __future__ import annotations

from innolab.models._base import utcnow
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from html import unescape
from urllib.parse import urljoin
from collections.abc import Callable

import pytest

from innolab.extensions import db
from innolab.models import Notification, OutboxMail, Proposal, TimelineEntry
from tests import factories as f
from innolab.models import ReviewAssignment

STAFF_ACT = "/staff/review/proposals/{id}/act"
MEMBER_ACT = "/proposals/{id}/act"


@pytest.fixture
def people(app_ctx):
    owner = f.user(name="Olga Eigentümerin")
    colleague = f.user(name="Kai Kollege")
    org = f.organisation(owner=owner, members=[colleague], name="Chatbot Nord GmbH")
    return {
        "org": org,
        "members": (owner, colleague),
        "coordinator": (f.staff("coordinator", name="Klara Koordination"),
                        f.staff("coordinator", name="Konrad Koordination")),
        "decider": (f.staff("decider", name="Dora Entscheidung"),
                    f.staff("decider", name="Dieter Entscheidung")),
        "reviewer": f.staff("reviewer", name="Gerd Gutachter"),
        "iso": f.staff("iso", name="Ines Sicherheit"),
    }


def _assigned(p, people):
    db.session.add(ReviewAssignment(no_conflict_confirmed_at=utcnow(),
                                    proposal_id=p.id, reviewer_id=people["reviewer"].id))
    db.session.commit()


def _ready(p, people):
    f.ready_for_decision(p, people["reviewer"], people["iso"])


def _goal(p, people):
    f.goal(p)


def _reported(p, people):
    f.goal(p)
    db.session.refresh(p)
    f.results_report(p)


@dataclass
class Race:
    action: str
    source: str
    who: str  # "members" or a staff role of `people`
    done: str  # what the person who made the move reads
    message: str | None = None
    setup: Callable | None = None
    path: str = STAFF_ACT
    extra: dict = field(default_factory=dict)
    target: str = ""

    def data(self, p):
        if self.action == "complete":  # a pilot is completed by accepting its report
            return {"confirmed": "1"}
        data = {"action": self.action, "seen_status": self.source, "confirmed": "1",
                **self.extra}
        if self.message:
            data["message"] = self.message
        return data

    def url(self, p):
        return self.path.format(id=p.id)


RACES = [
    Race("submit", "draft", "members", "wurde eingereicht", path=MEMBER_ACT, target="submitted"),
    Race("start_review", "submitted", "coordinator", "Die Begutachtung wurde gestartet.",
         setup=_assigned, target="in_review"),
    Race("request_changes", "submitted", "coordinator", "Die Nachbesserung wurde angefordert",
         message="Bitte ergänzen Sie die Kosten.", target="changes_requested"),
    Race("resubmit", "changes_requested", "members", "Ihr überarbeiteter Pilotvorschlag",
         path=MEMBER_ACT,
         message="Kosten ergänzt.", target="submitted"),
    Race("approve", "in_review", "decider", "Der Vorschlag wurde bewilligt",
         message="Passt zur Herausforderung.", setup=_ready, target="approved"),
    Race("reject", "in_review", "decider", "Der Vorschlag wurde abgelehnt",
         message="Passt leider nicht.", target="rejected"),
    Race("withdraw", "submitted", "members", "wurde zurückgezogen", path=MEMBER_ACT,
         target="withdrawn"),
    Race("start_pilot", "approved", "coordinator", "Der Pilot wurde gestartet.", setup=_goal,
         extra={"start_date": date.today().isoformat()}, target="running"),
    Race("complete", "running", "coordinator", "Der Ergebnisbericht wurde angenommen",
         setup=_reported, path="/workspace/{id}/report/accept", target="completed"),
    Race("cancel", "running", "coordinator", "Der Pilot wurde abgebrochen.",
         message="Die Behörde hat den Bedarf zurückgezogen.", target="cancelled"),
]


def _text(resp) -> str:
    return unescape(resp.text)


def _fresh(p) -> Proposal:
    db.session.expire_all()
    return db.session.get(Proposal, p.id)


def _entries(p, action) -> list[TimelineEntry]:
    return db.session.query(TimelineEntry).filter_by(proposal_id=p.id, action=action).all()


def _assert_no_duplicate_notices():
    notes = Counter((n.user_id, n.kind) for n in db.session.query(Notification))
    assert all(count == 1 for count in notes.values()), notes
    mails = Counter((m.recipient, m.subject) for m in db.session.query(OutboxMail))
    assert all(count == 1 for count in mails.values()), mails


@pytest.mark.parametrize("race", RACES, ids=[r.action for r in RACES])
def test_move_by_two_people_at_once_happens_once(race, people, server, signed_in, at_once):
    p = f.proposal(org=people["org"], status=race.source)
    if race.setup:
        race.setup(p, people)
    first, second = (signed_in(u) for u in people[race.who])
    url, data = server + race.url(p), race.data(p)

    answers = at_once(lambda: first.post(url, data=data, timeout=60),
                      lambda: second.post(url, data=data, timeout=60))

    assert all(a.status_code < 500 for a in answers), [a.status_code for a in answers]
    won = [a for a in answers if race.done in _text(a)]
    lost = [a for a in answers if race.done not in _text(a)]
    assert len(won) == 1 and len(lost) == 1, [(a.status_code, a.url) for a in answers]
    loser = _text(lost[0])
    assert "kern-alert--danger" in loser or "kern-error" in loser  # a refusal, with its reason
    assert "inzwischen" in loser or "bereits" in loser, loser
    assert _fresh(p).status == race.target
    action = "report_accepted" if race.action == "complete" else race.action
    assert len(_entries(p, action)) == 1
    if race.action == "complete":
        assert len(_entries(p, "complete")) == 1
    _assert_no_duplicate_notices()


def test_approve_and_reject_at_once_decide_once(people, server, signed_in, at_once, outbox):
    p = f.proposal(org=people["org"], status="in_review")
    f.ready_for_decision(p, people["reviewer"], people["iso"])
    dora, dieter = (signed_in(u) for u in people["decider"])
    url = server + STAFF_ACT.format(id=p.id)

    answers = at_once(
        lambda: dora.post(url, data={"action": "approve", "confirmed": "1",
                                     "seen_status": "in_review",
                                     "message": "Überzeugend."}, timeout=60),
        lambda: dieter.post(url, data={"action": "reject", "confirmed": "1",
                                       "seen_status": "in_review",
                                       "message": "Zu teuer."}, timeout=60))

    assert all(a.status_code < 500 for a in answers)
    decided = _fresh(p).status
    assert decided in ("approved", "rejected")
    moves = [e.action for e in db.session.query(TimelineEntry).filter_by(proposal_id=p.id)
             if e.action in ("approve", "reject")]
    assert moves == ["approve" if decided == "approved" else "reject"]
    owner = people["members"][0]
    decision_mails = [m for m in outbox(owner.email) if "Entscheidung" in m.subject]
    assert len(decision_mails) == 1
    assert ("bewilligt" in decision_mails[0].body_text) == (decided == "approved")
    loser = _text(answers[1] if decided == "approved" else answers[0])
    label = "Bewilligt" if decided == "approved" else "Abgelehnt"
    assert "inzwischen" in loser and label in loser


def test_double_click_on_approve_records_one_approval(people, server, signed_in, at_once,
                                                      page_token, outbox):
    p = f.proposal(org=people["org"], status="in_review")
    f.ready_for_decision(p, people["reviewer"], people["iso"])
    dora = signed_in(people["decider"][0])
    path = f"/staff/review/proposals/{p.id}"
    token = page_token(dora, path)
    data = {"action": "approve", "confirmed": "1", "seen_status": "in_review",
            "message": "Überzeugend.",
            "_once": token}
    url = server + STAFF_ACT.format(id=p.id)

    answers = at_once(lambda: dora.post(url, data=data, timeout=60, allow_redirects=False),
                      lambda: dora.post(url, data=data, timeout=60, allow_redirects=False))

    # Both clicks lead to the proposal's page, which confirms the decision, as one click would.
    # (One cookie jar for both, as in a browser: the confirmation shows once, on that page.)
    for a in answers:
        assert a.status_code == 303 and urljoin(a.url, a.headers["Location"]) == server + path
    assert "Der Vorschlag wurde bewilligt" in _text(dora.get(server + path, timeout=60))
    assert _fresh(p).status == "approved"
    assert len(_entries(p, "approve")) == 1
    owner = people["members"][0]
    assert len([m for m in outbox(owner.email) if "Entscheidung" in m.subject]) == 1
    _assert_no_duplicate_notices()
