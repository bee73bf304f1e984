"""The routes of the app filled with the objects of the database: what the route crawlers
request (tests/integration/test_every_route.py with the test client, tests/browser/
test_every_page_layout.py in a browser)."""
from __future__ import annotations

from itertools import product

from flask import url_for
from sqlalchemy import select

from innolab.extensions import db
from innolab.models import (
    Attachment, Authority, Challenge, ChallengeCriterion, ChallengeQuestion, Document,
    DocumentVersion, Invitation, Milestone, Organisation, PilotGoal, Proposal, Topic, User,
)


def route_values() -> dict[str, list]:
    """For each argument of the URL map, the values to try: every matching object of the
    database (the demo data), a few of the long lists, and ones that do not exist."""
    ids = lambda model: [o.id for o in db.session.execute(select(model)).scalars()]  # noqa: E731
    return {
        "proposal_id": ids(Proposal) + [999999],
        "challenge_id": ids(Challenge) + [999999],
        "criterion_id": ids(ChallengeCriterion) + [999999],
        "question_id": ids(ChallengeQuestion) + [999999],
        "org_id": ids(Organisation) + [999999],
        "user_id": ids(User)[:3] + [999999],
        "attachment_id": ids(Attachment) + [999999],
        "goal_id": ids(PilotGoal)[:3] + [999999],
        "milestone_id": ids(Milestone)[:3] + [999999],
        "document_id": ids(Document) + [999999],
        "version_id": ids(DocumentVersion) + [999999],
        "invitation_id": ids(Invitation)[:2] + [999999],
        "authority_id": ids(Authority)[:2] + [999999],
        "topic_id": ids(Topic)[:2] + [999999],
        "slug": [o.slug for o in db.session.execute(select(Organisation)).scalars()]
        + ["impressum", "datenschutz", "barrierefreiheit", "kontakt", "gibt-es-nicht"],
        "authority_slug": [a.slug for a in db.session.execute(select(Authority)).scalars()]
        + ["gibt-es-nicht"],
        "locale": ["de", "en", "xx"],
        "kind": ["data_protection", "information_security", "unbekannt"],
        "token": ["ungueltig", "x" * 300],
        "provider": ["unbekannt"],
        "what": ["pilot", "results"],
        "number": [1, 2, 999999],  # „Anlage N“ of the anonymised first round
    }


def route_urls(app, values: dict[str, list], method: str) -> list[tuple[str, str]]:
    """(endpoint, path) of every route answering `method`, with every combination of values."""
    urls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if method not in rule.methods or rule.endpoint == "static":
                continue
            args = sorted(rule.arguments)
            # Ids not known by name: the first row of any table, and one that
            # does not exist.
            choices = [values.get(a, [1, 999999] if a.endswith("_id") else None) for a in args]
            assert None not in choices, f"no test values for {rule.rule}"
            for combo in product(*choices):
                arguments = dict(zip(args, combo, strict=False))
                urls.append((rule.endpoint, url_for(rule.endpoint, **arguments)))
    return sorted(set(urls))
