"""Refused provider callbacks are security events in the audit log, with the reason."""
from __future__ import annotations

from sqlalchemy import select

from innolab.extensions import db
from innolab.models import AuditEvent

from .test_flow import EMAIL, _app, _attempt, _refused  # noqa: F401  (fixture)

ACTION = "security.provider_callback_refused"


def _reasons(app) -> list[str]:
    with app.app_context():
        events = db.session.execute(select(AuditEvent).where(AuditEvent.action == ACTION)
                                    .order_by(AuditEvent.id)).scalars().all()
        assert all(e.details["provider"] == "fake" for e in events)
        return [e.details["reason"] for e in events]


def test_forged_id_token_is_recorded_as_a_security_event(flow, app):
    flow.fakes.realm("partner").sign_with_wrong_key = True
    _refused(flow, _attempt(flow))
    (reason,) = _reasons(app)
    assert "BadSignatureError" in reason


def test_wrong_iss_parameter_is_recorded_as_a_security_event(flow, app):
    params = flow.begin("fake")
    realm = flow.fakes.realm("partner")
    code = realm.issue(params, sub="p-x", email=EMAIL, email_verified=True)
    _refused(flow, flow.callback("fake", code=code, state=params["state"],
                                 iss=flow.fakes.realm("staff").issuer))
    (reason,) = _reasons(app)
    assert "iss" in reason


def test_replayed_state_is_recorded_as_a_security_event(flow, app):
    params = flow.begin("fake")
    realm = flow.fakes.realm("partner")
    code = realm.issue(params, sub="p-x", email=EMAIL, email_verified=True)
    assert flow.callback("fake", code=code, state=params["state"],
                         iss=realm.issuer).headers["Location"] == "/tasks/"
    flow.client.post("/logout")
    again = flow.callback("fake", code=code, state=params["state"], iss=realm.issuer)
    assert again.headers["Location"] == "/login"
    assert _reasons(app) == ["unknown or used state"]


def test_cancelled_sign_in_is_no_security_event(flow, app):
    params = flow.begin("fake")
    flow.callback("fake", error="access_denied", state=params["state"])
    assert _reasons(app) == []
