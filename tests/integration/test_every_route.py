"""Every route, as every kind of user, with the demo data in every status: never a server error.

The per-area tests check what each user may see and do; this one is the net under them. It
walks the URL map, fills each route's arguments with every matching object of the demo data,
and requests it as a visitor, as partners inside and outside the proposing organisation and as
each staff role – as a normal request, as an htmx request, and as an empty form post.
"""
from __future__ import annotations

import time
from itertools import product

from flask import url_for
import pytest
from sqlalchemy import select

from innolab.demo import seed
from tests import factories
from innolab.extensions import db
from innolab.models import (
    Attachment, Authority, Challenge, Invitation, Organisation, Proposal, Topic, User,
)
from innolab.models import Document, DocumentVersion, Milestone, PilotGoal
from innolab.web import RECENT_AUTH_KEY, SECOND_FACTOR_KEY

ROLES = ("visitor", "partner@innolab.example", "partner4@innolab.example",
         "admin@innolab.example", "koordination@innolab.example", "gutachten@innolab.example",
         "entscheidung@innolab.example", "datenschutz@innolab.example",
         "informationssicherheit@innolab.example")

# Routes whose POST ends the session or sends the user elsewhere; requested last per user.
SESSION_ENDING = {"auth.logout"}


def _values(app_ctx):
    ids = lambda model: [o.id for o in db.session.execute(select(model)).scalars()]  # noqa: E731
    return {
        "proposal_id": ids(Proposal) + [999999],
        "challenge_id": ids(Challenge) + [999999],
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
        "locale": ["de", "en", "xx"],
        "kind": ["data_protection", "information_security", "unbekannt"],
        "token": ["ungueltig", "x" * 300],
        "provider": ["unbekannt"],
        "what": ["pilot", "results"],
    }


def _urls(app, values, method):
    urls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if method not in rule.methods or rule.endpoint == "static":
                continue
            args = sorted(rule.arguments)
            # Ids this test does not know by name: the first row of any table, and one that
            # does not exist.
            choices = [values.get(a, [1, 999999] if a.endswith("_id") else None) for a in args]
            assert None not in choices, f"no test values for {rule.rule}"
            for combo in product(*choices):
                arguments = dict(zip(args, combo, strict=False))
                urls.append((rule.endpoint, url_for(rule.endpoint, **arguments)))
    return sorted(set(urls))


@pytest.fixture
def demo(app_ctx):
    assert seed() is True
    return _values(app_ctx)


def _client_as(app, email):
    client = app.test_client()
    if email != "visitor":
        user = db.session.execute(select(User).where(User.email == email)).scalar_one()
        with client.session_transaction() as session:
            session["_user_id"] = factories.session_token(user)
            session["innolab_recent_auth"] = int(time.time())  # as after signing in
            session["_fresh"] = True
            # as start_session leaves it after a full sign-in (second factor, recent proof)
            session[SECOND_FACTOR_KEY] = True
            session[RECENT_AUTH_KEY] = int(time.time())
    return client


# The readiness probe answers 503 by design while a dependency fails (this suite's database is
# made with create_all, not migrated); tests/integration/test_operations.py covers it.
READINESS = "ops.readyz"


@pytest.mark.parametrize("who", ROLES)
def test_every_get_route_answers_without_server_error(app, demo, who):
    failures = []
    for endpoint, url in _urls(app, demo, "GET"):
        for headers in ({}, {"HX-Request": "true"}):
            response = _client_as(app, who).get(url, headers=headers)
            if endpoint == READINESS:
                assert response.status_code in (200, 503), response.status_code
            elif response.status_code >= 500:
                failures.append(f"{who} GET {url} {headers}: {response.status_code}")
    assert failures == []


@pytest.mark.parametrize("who", ROLES)
def test_every_post_route_with_empty_form_answers_without_server_error(app, demo, who):
    failures = []
    urls = _urls(app, demo, "POST")
    urls.sort(key=lambda u: u[0] in SESSION_ENDING)
    for _endpoint, url in urls:
        response = _client_as(app, who).post(url, data={})
        if response.status_code >= 500:
            failures.append(f"{who} POST {url}: {response.status_code}")
        db.session.rollback()
    assert failures == []
