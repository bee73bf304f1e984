"""Signing in with GitHub (plain OAuth 2): its endpoints answered in the test."""
from __future__ import annotations

import pytest

from .conftest import BASE_URL
from .fakes import GITHUB_CLIENT_ID
from .helpers import Db


@pytest.fixture
def dbq(app):
    return Db(app)


OCTO = {"id": 583231, "login": "octocat", "name": "Mona Lisa Octocat", "email": None}
EMAILS = [
    {"email": "mona@users.noreply.github.com", "primary": False, "verified": True},
    {"email": "mona@example.org", "primary": True, "verified": True},
    {"email": "alt@example.org", "primary": False, "verified": False},
]


def _github(flow, user=OCTO, emails=EMAILS, client=None, **begin):
    params = flow.begin("github", client=client, **begin)
    code = flow.fakes.github.issue(params, user, emails)
    return params, flow.callback("github", client=client, code=code, state=params["state"])


def test_github_authorization_request_uses_pkce_and_a_long_state(flow):
    params = flow.begin("github")
    assert params["_url"].startswith(flow.fakes.github.authorize_url + "?")
    assert params["client_id"] == GITHUB_CLIENT_ID
    assert params["code_challenge_method"] == "S256"
    assert len(params["state"]) >= 43
    assert "nonce" not in params
    assert set(params["scope"].split()) == {"read:user", "user:email"}
    assert params["redirect_uri"] == BASE_URL + "/login/external/github/callback"


def test_github_first_sign_in_uses_the_verified_primary_email(flow, client, dbq):
    _, response = _github(flow)
    assert response.status_code == 303 and response.headers["Location"] == "/tasks/"
    (user,) = dbq.users()
    assert user.email == "mona@example.org"
    assert user.name == "Mona Lisa Octocat"
    assert user.email_confirmed
    (identity,) = dbq.identities()
    assert (identity.provider, identity.subject) == ("github", "583231")
    assert dbq.signed_in(client).id == user.id


def test_github_second_sign_in_finds_the_account_by_id(flow, app, dbq):
    _github(flow)
    other = app.test_client()
    renamed = {**OCTO, "login": "mona-neu", "name": "Mona Neu"}
    _github(flow, user=renamed, emails=[{"email": "neu@example.org", "primary": True,
                                         "verified": True}], client=other)
    assert len(dbq.users()) == 1
    assert dbq.signed_in(other).email == "mona@example.org"


def test_github_unverified_email_is_not_taken_as_confirmed(flow, client, dbq):
    _, response = _github(flow, emails=[{"email": "mona@example.org", "primary": True,
                                         "verified": False}])
    (user,) = dbq.users()
    assert not user.email_confirmed
    assert response.headers["Location"] == "/login/external/github/sent"
    assert dbq.signed_in(client) is None  # not usable before the address is confirmed


def test_github_verified_non_primary_address_does_not_count(flow, client, dbq, outbox, app):
    # the primary address is unverified; another verified one must not stand in for it
    _, response = _github(flow, emails=[
        {"email": "victim@example.org", "primary": True, "verified": False},
        {"email": "mallory@example.org", "primary": False, "verified": True}])
    (user,) = dbq.users()
    assert user.email == "victim@example.org" and not user.email_confirmed
    assert dbq.signed_in(client) is None
    with app.app_context():
        assert [m.recipient for m in outbox()] == ["victim@example.org"]


def test_github_verified_secondary_of_an_existing_account_is_not_taken_over(flow, client,
                                                                           dbq):
    owner_id = dbq.make("user", email="victim@example.org")
    _, response = _github(flow, emails=[
        {"email": "mallory@example.org", "primary": True, "verified": True},
        {"email": "victim@example.org", "primary": False, "verified": True}])
    assert dbq.signed_in(client).email == "mallory@example.org"
    assert dbq.identities(owner_id) == []


def test_github_without_email_scope_falls_back_to_the_public_unconfirmed_email(flow, dbq):
    flow.fakes.github.emails_status = 403
    _, response = _github(flow, user={**OCTO, "email": "public@example.org"})
    (user,) = dbq.users()
    assert user.email == "public@example.org" and not user.email_confirmed
    assert response.headers["Location"] == "/login/external/github/sent"


def test_github_name_falls_back_to_the_login(flow, dbq):
    _github(flow, user={**OCTO, "name": None})
    assert dbq.users()[0].name == "octocat"


def test_github_bad_code_is_refused(flow, client, dbq):
    params = flow.begin("github")
    response = flow.callback("github", code="made-up", state=params["state"])
    assert response.headers["Location"] == "/login"
    assert dbq.users() == [] and dbq.signed_in(client) is None
    assert "Die Anmeldung über GitHub konnte nicht bestätigt werden" in \
        client.get("/login").get_data(as_text=True)


def test_github_replayed_state_is_refused(flow, client, dbq):
    params, first = _github(flow)
    assert first.headers["Location"] == "/tasks/"
    with client.session_transaction() as s:
        s.clear()
    code = flow.fakes.github.issue(params, OCTO, EMAILS)
    again = flow.callback("github", code=code, state=params["state"])
    assert again.headers["Location"] == "/login"
    assert dbq.signed_in(client) is None
    assert "schon verwendet" in client.get("/login").get_data(as_text=True)


def test_github_wrong_pkce_verifier_is_refused(flow, client, dbq):
    params = flow.begin("github")
    code = flow.fakes.github.issue({**params, "code_challenge": "x" * 43}, OCTO, EMAILS)
    response = flow.callback("github", code=code, state=params["state"])
    assert response.headers["Location"] == "/login"
    assert dbq.users() == []


def test_github_user_api_failure_gives_a_message(flow, client, dbq):
    params = flow.begin("github")
    code = flow.fakes.github.issue(params, {"message": "no id"}, EMAILS)
    response = flow.callback("github", code=code, state=params["state"])
    assert response.headers["Location"] == "/login"
    assert dbq.users() == []
    assert "konnte nicht bestätigt werden" in client.get("/login").get_data(as_text=True)


def test_github_cancel_gives_a_message(flow, client):
    params = flow.begin("github")
    response = flow.callback("github", error="access_denied", state=params["state"])
    assert response.headers["Location"] == "/login"
    assert "Die Anmeldung über GitHub wurde abgebrochen" \
        in client.get("/login").get_data(as_text=True)


def test_github_sign_in_leaves_nothing_for_logout_at_the_provider(flow, client, app):
    _github(flow)
    with client.session_transaction() as s:
        assert "oidc_logout" not in s
