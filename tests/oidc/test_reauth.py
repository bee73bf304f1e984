"""Confirming who one is through a linked provider (a fresh sign-in there), and linking a
provider only after such a confirmation. Against the provider endpoints of tests/oidc/fakes.py;
the round trip through the real provider is in test_e2e_real_provider.py."""
from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest

from innolab.web import RECENT_AUTH_KEY

from .helpers import Db


@pytest.fixture
def dbq(app):
    return Db(app)


def _forget_proof(client):
    with client.session_transaction() as s:
        s.pop(RECENT_AUTH_KEY, None)


@pytest.fixture
def provider_user(flow, client):
    """Signed in through the test provider (subject kc-paula), the proof of it forgotten."""
    response = flow.sign_in(sub="kc-paula", email="paula@example.org", email_verified=True)
    assert response.status_code == 303
    _forget_proof(client)
    return "kc-paula"


def _start(client, next="/account/email"):
    response = client.post("/login/external/fake/reauth", data={"next": next})
    assert response.status_code == 303
    location = response.headers["Location"]
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def _back(flow, client, params, sub="kc-paula"):
    realm = flow.fakes.realm("partner")
    code = realm.issue(params, sub=sub, email="paula@example.org", email_verified=True)
    return flow.callback("fake", code=code, state=params["state"], iss=realm.issuer)


def test_page_offers_a_fresh_sign_in_at_the_linked_provider(client, provider_user):
    page = client.get("/account/confirm-identity?next=/account/email").get_data(as_text=True)
    assert "Erneut über Test-Anbieter anmelden" in page
    assert 'action="/login/external/fake/reauth"' in page
    assert 'name="password"' not in page  # no password on this account
    assert "Erneut über GitHub" not in page  # not linked


def test_provider_confirmation_asks_the_provider_to_sign_in_again(flow, client, provider_user,
                                                                  dbq):
    assert client.get("/account/email").status_code == 303
    params = _start(client)
    assert params["prompt"] == "login" and params["max_age"] == "0"
    response = _back(flow, client, params)
    assert response.status_code == 303 and response.headers["Location"] == "/account/email"
    assert client.get("/account/email").status_code == 200
    (event,) = dbq.audit("user.reauthenticated")
    assert event.details == {"method": "provider:fake"}


def test_another_account_at_the_provider_is_refused(flow, client, provider_user, dbq):
    response = _back(flow, client, _start(client), sub="kc-someone-else")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/account/confirm-identity")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "mit einem anderen Konto angemeldet" in page
    assert client.get("/account/email").status_code == 303
    (event,) = dbq.audit("security.reauth_failed")
    assert event.details["reason"] == "other_identity"


@pytest.mark.parametrize("age", [3600, None], ids=["an_hour_old", "missing"])
def test_an_old_or_missing_sign_in_time_is_refused(flow, client, provider_user, dbq, age):
    # the same test ids in every process of a parallel run: the time is taken here
    auth_time = None if age is None else int(time.time()) - age
    flow.fakes.realm("partner").id_token_overrides = {"auth_time": auth_time}
    response = _back(flow, client, _start(client))
    assert response.headers["Location"].startswith("/account/confirm-identity")
    assert "nicht bestätigt, dass Sie sich gerade erneut angemeldet" in \
        client.get(response.headers["Location"]).get_data(as_text=True)
    assert client.get("/account/email").status_code == 303
    assert dbq.audit("security.reauth_failed")[0].details["reason"] == "not_asked_again"


def test_cancelling_at_the_provider_returns_to_the_confirmation(flow, client, provider_user):
    params = _start(client)
    response = flow.callback("fake", error="access_denied", state=params["state"])
    assert response.headers["Location"].startswith("/account/confirm-identity")
    assert client.get("/account/email").status_code == 303


def test_linking_a_provider_needs_a_recent_proof(flow, client, login, dbq):
    user_id = dbq.make("user", email="lena@example.org")
    login(dbq.user(user_id), recent=False)
    response = client.post("/login/external/fake/link",
                           headers={"Referer": "http://localhost/account"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/account/confirm-identity?next=/account"
    assert dbq.identities() == []
    client.post("/account/confirm-identity", data={"password": "ein-sicheres-Passwort-42",
                                                   "next": "/account"})
    params = flow.begin("fake", link=True)
    assert params["_url"].startswith(flow.fakes.realm("partner").issuer)
