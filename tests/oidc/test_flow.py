"""Signing in with an OpenID provider: the app's side, against endpoints answered in the test.

The real provider (test_e2e_real_provider.py) never sends a wrong audience, a bad signature
or a replayed state; these tests do, and check that each is refused without a 500.
"""
from __future__ import annotations

import logging
import re
import time

import pytest
from sqlalchemy import select

from innolab.domain import identities, sessions
from innolab.extensions import db
from innolab.models import AuditEvent, ExternalIdentity, User
from tests import factories

from .conftest import BASE_URL
from .fakes import CLIENT_ID

EMAIL = "erika.mustermann@example.org"


APP = None


@pytest.fixture(autouse=True)
def _app(app):
    """Database checks run in an app context of their own, never around a request: a
    shared context would share Flask-Login's cached user between test clients."""
    global APP
    APP = app
    yield


def ctx():
    return APP.app_context()


def _users(email=None) -> list[User]:
    with ctx():
        q = select(User)
        if email:
            q = q.where(User.email == email)
        return list(db.session.execute(q).scalars())


def _signed_in_user(client) -> User | None:
    with client.session_transaction() as s:
        token = s.get("_user_id")
    if not token:
        return None
    with ctx():
        return sessions.lookup(token).user


def _identities() -> list[ExternalIdentity]:
    with ctx():
        return list(db.session.execute(select(ExternalIdentity)).scalars())


def _login_page(client) -> str:
    return client.get("/login").get_data(as_text=True)


def _audit(action) -> list[AuditEvent]:
    with ctx():
        return list(db.session.execute(
            select(AuditEvent).where(AuditEvent.action == action)).scalars())


# ------------------------------------------------------------------ the happy path


def test_sign_in_first_time_creates_account_from_verified_claims(flow, client):
    response = flow.sign_in(sub="p-erika", email=EMAIL, email_verified=True,
                            name="Erika Mustermann", locale="en-GB")
    assert response.status_code == 303
    assert response.headers["Location"] == "/tasks/"
    (user,) = _users(EMAIL)
    assert user.name == "Erika Mustermann"
    assert user.locale == "en"
    assert user.email_confirmed
    assert user.password_hash is None
    (identity,) = _identities()
    assert (identity.provider, identity.subject, identity.user_id) == ("fake", "p-erika", user.id)
    assert identity.email == EMAIL and identity.last_login_at is not None
    assert _signed_in_user(client).id == user.id
    assert _audit("user.register_external") and _audit("user.login")


def test_sign_in_first_time_with_unverified_email_asks_for_confirmation(flow, client, outbox):
    response = flow.sign_in(sub="p-2", email=EMAIL, email_verified=False, name="Erika")
    assert response.headers["Location"] == "/login/external/fake/sent"
    (user,) = _users(EMAIL)
    assert not user.email_confirmed
    assert _signed_in_user(client) is None  # like a local account: confirm first
    with ctx():
        assert [m.recipient for m in outbox()] == [EMAIL]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Bitte prüfen Sie Ihr Postfach" in page


def test_sign_in_again_finds_account_by_subject_not_by_email(flow, client, app):
    flow.sign_in(sub="p-erika", email=EMAIL, email_verified=True, name="Erika")
    other = app.test_client()
    # the address changed at the provider: still the same account, no second one
    flow.sign_in(sub="p-erika", email="erika.neu@example.org", email_verified=True,
                 name="Erika", client=other)
    assert len(_users()) == 1
    assert _signed_in_user(other).email == EMAIL


def test_sign_in_with_address_of_existing_account_does_not_take_it_over(flow, client, outbox):
    with ctx():
        owner_id = factories.user(email=EMAIL, name="Erika Eigentümerin").id
    response = flow.sign_in(sub="p-attacker", email=EMAIL, email_verified=True, name="Mallory")
    assert response.status_code == 303
    assert response.headers["Location"] == "/login/external/fake/sent"
    assert _signed_in_user(client) is None
    assert _identities() == []
    (user,) = _users(EMAIL)
    assert user.id == owner_id and user.name == "Erika Eigentümerin"
    page = client.get(response.headers["Location"])
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Bitte prüfen Sie Ihr Postfach" in text
    assert "bereits ein Konto" not in text
    with ctx():
        (mail,) = outbox()
        assert mail.recipient == EMAIL and "Mit Test-Anbieter verknüpfen" in mail.body_text
    assert _audit("user.external_signup_email_in_use")


def test_check_mailbox_page_without_a_sign_in_goes_to_login(client):
    response = client.get("/login/external/fake/sent")
    assert response.status_code == 303 and response.headers["Location"] == "/login"


def test_sign_in_without_email_is_refused(flow, client):
    response = flow.sign_in(sub="p-3", name="Ohne Adresse")
    assert response.headers["Location"] == "/login"
    assert _users() == []
    assert "keine gültige E-Mail-Adresse" in _login_page(client)


def test_sign_in_to_deactivated_account_is_refused(flow, client):
    flow.sign_in(sub="p-4", email=EMAIL, email_verified=True)
    with ctx():
        user = db.session.execute(select(User)).scalar_one()
        user.active = False
        db.session.commit()
    other = flow.client.application.test_client()
    response = flow.sign_in(sub="p-4", email=EMAIL, email_verified=True, client=other)
    assert response.headers["Location"] == "/login"
    assert _signed_in_user(other) is None
    assert "Ihr Konto ist gesperrt" in _login_page(other)


def test_sign_in_keeps_the_target_on_this_site(flow):
    response = flow.sign_in(sub="p-5", email=EMAIL, email_verified=True, next="/proposals/")
    assert response.headers["Location"] == "/proposals/"


def test_sign_in_refuses_a_target_on_another_site(flow, app):
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        c = app.test_client()
        response = flow.sign_in(sub="p-6", email=EMAIL, email_verified=True, next=target, client=c)
        assert response.headers["Location"] == "/tasks/", target


def test_callback_redirects_at_once_so_the_code_leaves_the_address_bar(flow):
    response = flow.sign_in(sub="p-7", email=EMAIL, email_verified=True)
    assert response.status_code == 303
    assert "code" not in response.headers["Location"]
    assert response.get_data() in (b"", b"\n") or b"code=" not in response.get_data()


def test_unknown_provider_is_not_found(client):
    assert client.post("/login/external/nope").status_code == 404
    assert client.get("/login/external/nope/callback?code=x&state=y").status_code == 404


# ------------------------------------------------------------------ the authorization request


def test_authorization_request_uses_pkce_s256_state_and_nonce_of_256_bits(flow):
    params = flow.begin("fake")
    assert params["_url"].startswith(flow.fakes.realm("partner").issuer + "/auth?")
    assert params["response_type"] == "code"
    assert params["client_id"] == CLIENT_ID
    assert params["code_challenge_method"] == "S256"
    assert len(params["code_challenge"]) == 43  # base64url of a SHA-256 digest
    assert len(params["state"]) >= 43 and len(params["nonce"]) >= 43  # 32 random bytes each
    assert set(params["scope"].split()) >= {"openid", "email", "profile"}
    other = flow.begin("fake", client=flow.client.application.test_client())
    assert other["state"] != params["state"] and other["nonce"] != params["nonce"]


def test_redirect_uri_comes_from_base_url_not_from_the_host_header(flow):
    response = flow.client.post("/login/external/fake", headers={"Host": "evil.example"})
    assert response.status_code == 303
    assert "redirect_uri=https%3A%2F%2Finnolab.example%2Flogin%2Fexternal%2Ffake%2Fcallback" \
        in response.headers["Location"]
    assert "evil.example" not in response.headers["Location"]


def test_token_request_sends_the_pkce_verifier(flow):
    flow.sign_in(sub="p-8", email=EMAIL, email_verified=True)
    (request,) = flow.fakes.realm("partner").token_requests
    assert request["grant_type"] == "authorization_code"
    assert len(request["code_verifier"]) >= 43
    assert request["redirect_uri"] == BASE_URL + "/login/external/fake/callback"


def test_no_tokens_codes_or_verifiers_reach_the_log(flow, caplog):
    caplog.set_level(logging.DEBUG)
    params = flow.begin("fake")
    realm = flow.fakes.realm("partner")
    code = realm.issue(params, sub="p-9", email=EMAIL, email_verified=True)
    flow.callback("fake", code=code, state=params["state"], iss=realm.issuer)
    assert _signed_in_user(flow.client) is not None
    verifier = realm.token_requests[0]["code_verifier"]
    for secret in (code, verifier, params["state"], params["nonce"]):
        assert secret not in caplog.text
    assert logging.getLogger("authlib").getEffectiveLevel() >= logging.INFO


# ------------------------------------------------------------------ refusals (a message, no 500)


def _refused(flow, response, text="konnte nicht bestätigt werden"):
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    assert response.headers["Location"] == "/login"
    assert _signed_in_user(flow.client) is None
    assert _users() == []
    assert text in _login_page(flow.client)


def _rejection(caplog) -> str:
    lines = [r.getMessage() for r in caplog.records if r.name == "innolab.oidc"]
    assert lines, "no rejection logged"
    return lines[-1]


def _attempt(flow, **claims):
    params = flow.begin("fake")
    realm = flow.fakes.realm("partner")
    code = realm.issue(params, sub="p-x", email=EMAIL, email_verified=True, **claims)
    return flow.callback("fake", code=code, state=params["state"], iss=realm.issuer)


def test_id_token_for_another_audience_is_refused(flow, caplog):
    flow.fakes.realm("partner").id_token_overrides = {"aud": "another-client"}
    _refused(flow, _attempt(flow))
    assert 'aud' in _rejection(caplog)


def test_id_token_with_several_audiences_without_us_is_refused(flow, caplog):
    flow.fakes.realm("partner").id_token_overrides = {"aud": ["a", "b"], "azp": "a"}
    _refused(flow, _attempt(flow))
    assert 'aud' in _rejection(caplog)


def test_id_token_from_another_issuer_is_refused(flow, caplog):
    flow.fakes.realm("partner").id_token_overrides = {"iss": flow.fakes.realm("staff").issuer}
    _refused(flow, _attempt(flow))
    assert 'iss' in _rejection(caplog)


def test_id_token_with_a_bad_signature_is_refused(flow, caplog):
    flow.fakes.realm("partner").sign_with_wrong_key = True
    _refused(flow, _attempt(flow))
    assert 'BadSignatureError' in _rejection(caplog)


def test_expired_id_token_is_refused(flow, caplog):
    now = int(time.time())
    flow.fakes.realm("partner").id_token_overrides = {"exp": now - 3600, "iat": now - 7200}
    _refused(flow, _attempt(flow))
    assert 'ExpiredTokenError' in _rejection(caplog)


def test_id_token_with_another_nonce_is_refused(flow, caplog):
    flow.fakes.realm("partner").id_token_overrides = {"nonce": "a-nonce-from-another-request"}
    _refused(flow, _attempt(flow))
    assert 'nonce' in _rejection(caplog)


def test_id_token_without_nonce_is_refused(flow, caplog):
    params = flow.begin("fake")
    realm = flow.fakes.realm("partner")
    params = {**params, "nonce": None}
    code = realm.issue(params, sub="p-x", email=EMAIL, email_verified=True)
    _refused(flow, flow.callback("fake", code=code, state=params["state"], iss=realm.issuer))
    assert 'nonce' in _rejection(caplog)


def test_token_response_without_id_token_is_refused(flow):
    flow.fakes.realm("partner").include_id_token = False
    _refused(flow, _attempt(flow))


def test_replayed_state_is_refused(flow):
    params = flow.begin("fake")
    realm = flow.fakes.realm("partner")
    code = realm.issue(params, sub="p-x", email=EMAIL, email_verified=True)
    first = flow.callback("fake", code=code, state=params["state"], iss=realm.issuer)
    assert first.headers["Location"] == "/tasks/"
    flow.client.post("/logout")
    with flow.client.session_transaction() as s:
        s.clear()
    code2 = realm.issue(params, sub="p-x", email=EMAIL, email_verified=True)
    again = flow.callback("fake", code=code2, state=params["state"], iss=realm.issuer)
    assert again.headers["Location"] == "/login"
    assert _signed_in_user(flow.client) is None
    assert "abgelaufen oder wurde schon verwendet" in _login_page(flow.client)
    assert len(realm.token_requests) == 1  # the second code was never exchanged


def test_state_used_once_even_when_the_first_callback_failed(flow):
    params = flow.begin("fake")
    realm = flow.fakes.realm("partner")
    flow.callback("fake", code="not-a-code", state=params["state"], iss=realm.issuer)
    code = realm.issue(params, sub="p-x", email=EMAIL, email_verified=True)
    response = flow.callback("fake", code=code, state=params["state"], iss=realm.issuer)
    _refused(flow, response, "abgelaufen oder wurde schon verwendet")


def test_state_of_another_browser_is_refused(flow, app):
    params = flow.begin("fake", client=app.test_client())
    realm = flow.fakes.realm("partner")
    code = realm.issue(params, sub="p-x", email=EMAIL, email_verified=True)
    _refused(flow, flow.callback("fake", code=code, state=params["state"], iss=realm.issuer),
             "abgelaufen oder wurde schon verwendet")


def test_callback_without_state_is_refused(flow):
    _refused(flow, flow.callback("fake", code="abc"), "abgelaufen oder wurde schon verwendet")


def test_wrong_iss_parameter_is_refused_before_the_code_is_exchanged(flow):
    params = flow.begin("fake")
    realm = flow.fakes.realm("partner")
    code = realm.issue(params, sub="p-x", email=EMAIL, email_verified=True)
    response = flow.callback("fake", code=code, state=params["state"],
                             iss=flow.fakes.realm("staff").issuer)
    _refused(flow, response)
    assert realm.token_requests == []


def test_missing_iss_parameter_is_refused_when_the_provider_advertises_it(flow):
    params = flow.begin("fake")
    realm = flow.fakes.realm("partner")
    code = realm.issue(params, sub="p-x", email=EMAIL, email_verified=True)
    _refused(flow, flow.callback("fake", code=code, state=params["state"]))
    assert realm.token_requests == []


def test_iss_parameter_not_needed_when_the_provider_does_not_advertise_it(flow):
    realm = flow.fakes.realm("partner")
    realm.discovery_overrides = {"authorization_response_iss_parameter_supported": None}
    # metadata is cached per app: reload it for this test
    from innolab.oidc.client import client_for

    with flow.client.application.app_context():
        client = client_for(identities.get_provider("fake"))
        client.server_metadata.pop("_loaded_at", None)
        client.server_metadata.pop("authorization_response_iss_parameter_supported", None)
    try:
        params = flow.begin("fake")
        code = realm.issue(params, sub="p-x", email=EMAIL, email_verified=True)
        response = flow.callback("fake", code=code, state=params["state"])
        assert response.headers["Location"] == "/tasks/"
    finally:
        with flow.client.application.app_context():
            client.server_metadata["authorization_response_iss_parameter_supported"] = True


def test_discovery_with_another_issuer_is_refused(flow):
    from innolab.oidc.client import client_for

    realm = flow.fakes.realm("partner")
    realm.discovery_overrides = {"issuer": "https://someone-else.example"}
    with flow.client.application.app_context():
        client = client_for(identities.get_provider("fake"))
        saved = dict(client.server_metadata)
        client.server_metadata.clear()
    try:
        response = flow.client.post("/login/external/fake")
        assert response.headers["Location"] == "/login"
        assert "gerade nicht möglich" in _login_page(flow.client)
    finally:
        realm.discovery_overrides = {}
        client.server_metadata.clear()
        client.server_metadata.update(saved)


def test_provider_that_is_down_gives_a_message(flow, client):
    response = client.post("/login/external/down")
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert "Die Anmeldung über Ausgefallener Anbieter ist gerade nicht möglich" \
        in _login_page(client)


def test_user_cancelling_at_the_provider_gives_a_message(flow, client):
    params = flow.begin("fake")
    response = flow.callback("fake", error="access_denied", state=params["state"],
                             error_description="End-User aborted interaction")
    assert response.headers["Location"] == "/login"
    assert "Die Anmeldung über Test-Anbieter wurde abgebrochen" in _login_page(client)
    # the state is gone too
    realm = flow.fakes.realm("partner")
    code = realm.issue(params, sub="p-x", email=EMAIL, email_verified=True)
    _refused(flow, flow.callback("fake", code=code, state=params["state"], iss=realm.issuer),
             "abgelaufen oder wurde schon verwendet")


def test_other_provider_error_gives_a_message(flow, client):
    params = flow.begin("fake")
    response = flow.callback("fake", error="server_error", state=params["state"])
    assert response.headers["Location"] == "/login"
    assert "hat die Anmeldung nicht bestätigt" in _login_page(client)


def test_bad_code_is_refused(flow):
    params = flow.begin("fake")
    realm = flow.fakes.realm("partner")
    _refused(flow, flow.callback("fake", code="made-up", state=params["state"], iss=realm.issuer))


# ------------------------------------------------------------------ staff provider


def _staff_sign_in(flow, groups, client=None, sub="s-1"):
    return flow.sign_in("fakestaff", realm="staff", sub=sub, email="rolf@zdmv.example",
                        email_verified=True, name="Rolf Referent", groups=groups, client=client)


def test_staff_provider_maps_groups_to_roles_at_every_sign_in(flow, app):
    _staff_sign_in(flow, ["innolab-reviewers", "innolab-coordinators", "andere-gruppe"])
    (user,) = _users("rolf@zdmv.example")
    assert {r.value for r in user.roles} == {"reviewer", "coordinator"}
    granted = _audit("user.role_granted")
    assert sorted(e.details["role"] for e in granted) == ["coordinator", "reviewer"]
    assert all(e.details["source"] == "provider:fakestaff" for e in granted)

    # a role the mapping does not hand out stays, whatever the provider says
    from innolab.models import UserRole

    with ctx():
        db.session.add(UserRole(user_id=user.id, role="dpo"))
        db.session.commit()

    _staff_sign_in(flow, ["innolab-reviewers"], client=app.test_client())
    (user,) = _users("rolf@zdmv.example")
    assert {r.value for r in user.roles} == {"reviewer", "dpo"}
    (revoked,) = _audit("user.role_revoked")
    assert revoked.details["role"] == "coordinator"

    _staff_sign_in(flow, [], client=app.test_client())
    (user,) = _users("rolf@zdmv.example")
    assert {r.value for r in user.roles} == {"dpo"}


def test_staff_provider_understands_keycloak_group_paths(flow):
    _staff_sign_in(flow, ["/innolab-admins"])
    assert {r.value for r in _users("rolf@zdmv.example")[0].roles} == {"admin"}


def test_partner_provider_never_changes_roles(flow):
    flow.sign_in(sub="p-10", email=EMAIL, email_verified=True, groups=["innolab-admins"])
    assert _users(EMAIL)[0].roles == set()


def test_local_passwords_off_for_staff(app, flow):
    with app.test_request_context():
        staff = factories.staff("reviewer")
        partner = factories.user()
        assert identities.local_login_allowed(staff) and identities.local_login_allowed(partner)
        app.config["STAFF_LOCAL_LOGIN"] = False
        try:
            assert not identities.local_login_allowed(staff)
            assert identities.local_login_allowed(partner)
            assert identities.local_login_allowed(None)
        finally:
            app.config["STAFF_LOCAL_LOGIN"] = True


def test_staff_with_local_passwords_off_sign_in_through_the_staff_provider_only(app, flow):
    _staff_sign_in(flow, ["innolab-reviewers"])
    user = _users("rolf@zdmv.example")[0]
    # the same person has also linked the partner provider
    with ctx():
        db.session.add(ExternalIdentity(user_id=user.id, provider="fake", subject="p-rolf"))
        db.session.commit()
    app.config["STAFF_LOCAL_LOGIN"] = False
    try:
        other = app.test_client()
        response = flow.sign_in(sub="p-rolf", email="rolf@zdmv.example", email_verified=True,
                                client=other)
        assert response.headers["Location"] == "/login"
        assert _signed_in_user(other) is None
        assert "über die Anmeldung für Beschäftigte" in _login_page(other)
        third = app.test_client()
        response = _staff_sign_in(flow, ["innolab-reviewers"], client=third)
        assert response.headers["Location"] == "/tasks/"
        assert _signed_in_user(third).id == user.id
    finally:
        app.config["STAFF_LOCAL_LOGIN"] = True


# ------------------------------------------------------------------ sign-out at the provider


def test_sign_in_remembers_what_logout_at_the_provider_needs(flow, app):
    flow.sign_in(sub="p-11", email=EMAIL, email_verified=True)
    with flow.client.session_transaction() as s:
        session = dict(s)
    with app.test_request_context():
        url = identities.provider_logout_url(session)
    realm = flow.fakes.realm("partner")
    assert url.startswith(realm.issuer + "/logout?")
    assert "id_token_hint=" in url
    assert f"client_id={CLIENT_ID}" in url
    assert "post_logout_redirect_uri=https%3A%2F%2Finnolab.example%2F" in url


def test_provider_logout_url_is_none_after_a_local_sign_in(app):
    with app.test_request_context():
        assert identities.provider_logout_url({}) is None
        assert identities.provider_logout_url({"oidc_logout": "garbage"}) is None


# ------------------------------------------------------------------ Content-Security-Policy


def test_pages_allow_forms_to_lead_to_the_providers_only(client, fake_providers):
    csp = client.get("/login").headers["Content-Security-Policy"]
    form_action = next(d for d in csp.split("; ") if d.startswith("form-action"))
    assert form_action.split()[:2] == ["form-action", "'self'"]
    assert fake_providers.url in form_action.split()  # issuer and GitHub overrides share it
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp


def test_many_unfinished_attempts_do_not_grow_the_session(flow):
    attempts = [flow.begin("fake") for _ in range(8)]
    with flow.client.session_transaction() as s:
        assert len([k for k in s if k.startswith("_state_")]) == 3
    realm = flow.fakes.realm("partner")
    newest = attempts[-1]
    code = realm.issue(newest, sub="p-x", email=EMAIL, email_verified=True)
    response = flow.callback("fake", code=code, state=newest["state"], iss=realm.issuer)
    assert response.headers["Location"] == "/tasks/"


# ------------------------------------------------------------------ redirect URI without BASE_URL


@pytest.fixture
def without_base_url(app):
    saved = {k: app.config.get(k) for k in ("BASE_URL", "INNOLAB_ENV", "TRUSTED_HOSTS")}
    app.config["BASE_URL"] = ""
    yield app.config
    app.config.update(saved)


def test_production_without_base_url_or_trusted_hosts_refuses_external_sign_in(
        client, without_base_url):
    without_base_url["INNOLAB_ENV"] = "production"
    without_base_url["TRUSTED_HOSTS"] = None
    response = client.post("/login/external/fake")
    assert response.headers["Location"] == "/login"
    assert "gerade nicht möglich" in _login_page(client)


def test_production_takes_the_redirect_uri_from_base_url_never_from_the_host(
        client, without_base_url):
    without_base_url["INNOLAB_ENV"] = "production"
    without_base_url["TRUSTED_HOSTS"] = ["innolab.example"]
    response = client.post("/login/external/fake", headers={"Host": "innolab.example"})
    assert response.headers["Location"] == "/login"  # a checked host is still no BASE_URL
    without_base_url["BASE_URL"] = "https://innolab.zdmv.example"
    response = client.post("/login/external/fake", headers={"Host": "innolab.example"})
    assert "redirect_uri=https%3A%2F%2Finnolab.zdmv.example%2Flogin%2Fexternal%2Ffake%2Fcallback" \
        in response.headers["Location"]


def test_link_with_provider_down_goes_back_to_the_account_page(client, login, app):
    with app.app_context():
        user = factories.user()
        login(user)
    response = client.post("/login/external/down/link")
    assert response.headers["Location"] == "/account"
    assert "gerade nicht möglich" in client.get("/account").get_data(as_text=True)


# ------------------------------------------------------------------ wired into auth's pages


def test_logout_ends_the_session_here_and_at_the_provider(flow):
    flow.sign_in(sub="p-12", email=EMAIL, email_verified=True)
    assert _signed_in_user(flow.client) is not None
    response = flow.client.post("/logout")
    realm = flow.fakes.realm("partner")
    assert response.status_code == 303
    assert response.headers["Location"].startswith(realm.issuer + "/logout?")
    assert _signed_in_user(flow.client) is None


def test_staff_password_login_refused_when_local_passwords_are_off(app, client):
    from tests import factories

    with ctx():
        staff = factories.staff("reviewer", email="lokal@zdmv.example")
        partner = factories.user(email="partnerin@example.org")
        staff_email, partner_email = staff.email, partner.email
    app.config["STAFF_LOCAL_LOGIN"] = False
    try:
        refused = client.post("/login", data={"email": staff_email,
                                               "password": factories.PASSWORD})
        assert refused.status_code == 422
        assert "über die Anmeldung für Beschäftigte" in refused.get_data(as_text=True)
        assert _signed_in_user(client) is None
        allowed = app.test_client().post("/login", data={"email": partner_email,
                                                         "password": factories.PASSWORD})
        assert allowed.status_code == 303
    finally:
        app.config["STAFF_LOCAL_LOGIN"] = True


def _as_admin(app):
    with ctx():
        admin = factories.staff("admin", email="admin@zdmv.example")
        token = factories.session_token(admin)
    c = app.test_client()
    with c.session_transaction() as s:
        s["_user_id"] = token
        s["innolab_recent_auth"] = int(time.time())  # as after signing in
    return c


def test_admin_switches_local_passwords_off_for_staff_and_on_again(app, client):
    with ctx():
        factories.staff("reviewer", email="gutachterin@zdmv.example")
    admin = _as_admin(app)
    page = admin.get("/admin/sign-in").get_data(as_text=True)
    assert re.search(r'<input[^>]*\bchecked\b[^>]*value="on"', page)  # allowed so far

    assert admin.post("/admin/sign-in", data={"staff_local_login": "off"}).status_code == 303
    with ctx():
        assert identities.staff_local_login_enabled() is False
        event = db.session.execute(select(AuditEvent).where(
            AuditEvent.action == "setting.change")).scalar_one()
        assert event.details["after"] == "false"
    refused = client.post("/login", data={"email": "gutachterin@zdmv.example",
                                          "password": factories.PASSWORD})
    assert refused.status_code == 422
    assert "über die Anmeldung für Beschäftigte" in refused.get_data(as_text=True)

    assert admin.post("/admin/sign-in", data={"staff_local_login": "on"}).status_code == 303
    allowed = app.test_client().post("/login", data={"email": "gutachterin@zdmv.example",
                                                     "password": factories.PASSWORD})
    assert allowed.status_code == 303
