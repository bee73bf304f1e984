"""Every API operation answers as its OpenAPI document says: schemathesis generates requests
from the document the app serves and checks each answer (no server error, the status code,
the content type and the body are all the ones documented)."""
from __future__ import annotations

from datetime import date

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, given, settings

from innolab.extensions import db
from innolab.models import GoalResult, ResultsReport
from innolab.models._base import utcnow
from tests import factories as f

pytestmark = pytest.mark.usefixtures("app_ctx")

SETTINGS = settings(max_examples=25, derandomize=True, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))


@pytest.fixture
def data():
    """Some of everything, so that answers have items of every shape (null fields too)."""
    topic = f.topic(slug="ki")
    c = f.challenge(topics=[topic])
    f.challenge(status="closed")
    p = f.proposal(status="running", challenge_=c, publication_consent=True,
                   published_at=utcnow(), pilot_start_date=date(2026, 3, 1))
    p.topics.append(topic)
    bare = f.proposal(status="completed", publication_consent=True, published_at=utcnow(),
                      public_summary=None)
    goal = f.goal(p)
    report = ResultsReport(proposal=p, status="accepted", summary="Erreicht",
                           recommendation="roll_out", publication_consent=True,
                           published_at=utcnow())
    report.goal_results.append(GoalResult(goal=goal, value_reached="5 Tage", reached=True))
    db.session.add_all([report, ResultsReport(proposal=bare, status="accepted",
                                              publication_consent=True, published_at=utcnow())])
    db.session.commit()
    return {"challenge_id": c.id, "proposal_id": p.id, "slug": p.organisation.slug}


def _checks():
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    return [not_a_server_error, status_code_conformance, content_type_conformance,
            response_schema_conformance]


def _operations(app):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {
        "/api/v1/challenges", "/api/v1/challenges/{challenge_id}", "/api/v1/pilots",
        "/api/v1/pilots/{proposal_id}", "/api/v1/results", "/api/v1/organisations",
        "/api/v1/organisations/{slug}"}
    return operations


def test_every_operation_conforms_to_the_document(app, data):
    checks = _checks()
    for operation in _operations(app):

        @given(case=operation.as_strategy())
        @SETTINGS
        def run(case):
            case.call_and_validate(checks=checks)

        run()


def test_existing_objects_conform_to_the_document(app, data):
    """The generated ids rarely hit real objects: call each detail with one that exists."""
    checks = _checks()
    values = {"challenge_id": data["challenge_id"], "proposal_id": data["proposal_id"],
              "slug": data["slug"]}
    for operation in _operations(app):
        names = [p.name for p in operation.path_parameters]
        if not names:
            continue
        case = operation.Case(path_parameters={n: values[n] for n in names})
        response = case.call_and_validate(checks=checks)
        assert response.status_code == 200
