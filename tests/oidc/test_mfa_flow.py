"""Second factors after a provider's sign-in (endpoints answered in the test): the platform's
own factor under `all_staff`, the provider's assurance under `delegated` (acr, amr, max_age)."""
from __future__ import annotations

import time
from urllib.parse import urlsplit

import pyotp
import pytest
from sqlalchemy import select

from innolab.domain import mfa, settings
from innolab.extensions import db
from innolab.models import AuditEvent, ExternalIdentity, SecondFactor, User
from tests import factories

STAFF_GROUPS = {"groups": ["innolab-reviewers"], "email_verified": True}


@pytest.fixture
def policy(app):
    def _set(value, **config):
        app.config.update(config)
        with app.app_context():
            settings.set_setting(None, mfa.POLICY_SETTING, value)
            db.session.commit()
    yield _set
    for key in [k for k in app.config if k.startswith("OIDC_FAKE")]:
        app.config.pop(key)


def _staff_with_app(app, email) -> str:
    """A staff account linked to the fake staff provider, with an authenticator app."""
    secret = pyotp.random_base32()
    with app.app_context():
        user = factories.staff("reviewer", email=email)
        db.session.add(ExternalIdentity(user_id=user.id, provider="fakestaff", subject="s-1",
                                        email=email))
        db.session.add(SecondFactor(user_id=user.id, kind="totp", name="App",
                                    totp_secret=mfa.encrypt_secret(secret)))
        db.session.commit()
    return secret


def _path(response) -> str:
    return urlsplit(response.headers.get("Location", "")).path


def test_all_staff_provider_sign_in_still_needs_the_platforms_factor(app, client, flow,
                                                                     policy):
    policy(mfa.ALL_STAFF)
    secret = _staff_with_app(app, "rita@zdmv.example")
    response = flow.sign_in("fakestaff", realm="staff", sub="s-1", email="rita@zdmv.example",
                            amr=["pwd", "otp"], **STAFF_GROUPS)
    assert _path(response) == "/login/second-factor"
    with client.session_transaction() as session:
        assert "_user_id" not in session
    done = client.post("/login/second-factor", data={"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 303
    with client.session_transaction() as session:
        assert session["innolab_second_factor"] is True
        assert session["innolab_method"] == "provider:fakestaff"
        assert "oidc_logout" in session  # kept for signing out at the provider


def test_delegated_sends_acr_values_and_max_age_and_accepts_a_fresh_factor(app, client, flow,
                                                                            policy):
    policy(mfa.DELEGATED, OIDC_FAKESTAFF_ACR_VALUES="mfa", OIDC_FAKESTAFF_REQUIRED_ACR="mfa",
           OIDC_FAKESTAFF_MAX_AGE="300")
    _staff_with_app(app, "rita@zdmv.example")
    params = flow.begin("fakestaff")
    assert params["acr_values"] == "mfa" and params["max_age"] == "300"
    r = flow.fakes.realm("staff")
    code = r.issue(params, sub="s-1", email="rita@zdmv.example", acr="mfa",
                   auth_time=int(time.time()) - 10, **STAFF_GROUPS)
    response = flow.callback("fakestaff", code=code, state=params["state"], iss=r.issuer)
    assert _path(response) == "/tasks/"  # the platform's own factor is not asked
    with client.session_transaction() as session:
        assert session["innolab_second_factor"] is True


@pytest.mark.parametrize("claims, reason, max_age", [
    ({"acr": "pwd"}, "acr", "300"),
    ({"acr": "mfa", "auth_time": int(time.time()) - 3600}, "auth_time", "300"),
    ({"acr": "mfa"}, "MAX_AGE", "fünf Minuten"),  # a setting that cannot be used
])
def test_delegated_refuses_a_token_without_the_assurance(app, client, flow, policy, claims,
                                                         reason, max_age):
    policy(mfa.DELEGATED, OIDC_FAKESTAFF_REQUIRED_ACR="mfa", OIDC_FAKESTAFF_MAX_AGE=max_age)
    response = flow.sign_in("fakestaff", realm="staff", sub="new-1",
                            email="neu@zdmv.example", **claims, **STAFF_GROUPS)
    assert _path(response) == "/login"
    page = client.get("/login")
    assert "hat keinen zweiten Faktor bestätigt" in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(select(User).where(
            User.email == "neu@zdmv.example")).scalar_one_or_none() is None
        [event] = db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "security.provider_assurance_missing")).scalars().all()
        assert reason in event.details["reason"] and event.details["provider"] == "fakestaff"


def test_delegated_without_a_configured_check_falls_back_to_the_platforms_factor(
        app, client, flow, policy):
    policy(mfa.DELEGATED)
    _staff_with_app(app, "rita@zdmv.example")
    params = flow.begin("fakestaff")
    assert "acr_values" not in params
    r = flow.fakes.realm("staff")
    code = r.issue(params, sub="s-1", email="rita@zdmv.example", **STAFF_GROUPS)
    response = flow.callback("fakestaff", code=code, state=params["state"], iss=r.issuer)
    assert _path(response) == "/login/second-factor"


def test_a_partner_provider_is_never_delegated(app, client, flow, policy):
    policy(mfa.DELEGATED, OIDC_FAKE_REQUIRED_AMR="otp")
    params = flow.begin("fake")
    assert "acr_values" not in params and "max_age" not in params
