"""Linking further providers to an account, unlinking them, and the account page partial."""
from __future__ import annotations

import pytest
from flask import render_template

from innolab.extensions import db
from innolab.models import ExternalIdentity, UserRole

from .helpers import Db

EMAIL = "lena.lokal@example.org"


@pytest.fixture
def dbq(app):
    return Db(app)


@pytest.fixture
def local_user(dbq, client, login):
    """A partner with a password, signed in with the test client."""
    user_id = dbq.make("user", email=EMAIL, name="Lena Lokal")
    login(dbq.user(user_id))
    return user_id


def _page(client, path="/login") -> str:
    return client.get(path).get_data(as_text=True)


def test_link_adds_the_provider_to_the_signed_in_account(flow, client, local_user, dbq):
    response = flow.sign_in(sub="kc-lena", email="lena@land.example", email_verified=True,
                            link=True)
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    (identity,) = dbq.identities()
    assert (identity.user_id, identity.provider) == (local_user, "fake")
    assert identity.subject == "kc-lena"
    assert identity.email == "lena@land.example"
    assert len(dbq.users()) == 1  # no account made from the provider's address
    assert dbq.audit("user.identity_linked")
    assert dbq.signed_in(client).id == local_user


def test_linked_provider_signs_in_to_the_same_account(flow, client, local_user, app, dbq):
    flow.sign_in(sub="kc-lena", email="lena@land.example", email_verified=True, link=True)
    other = app.test_client()
    response = flow.sign_in(sub="kc-lena", email="lena@land.example", email_verified=True,
                            client=other)
    assert response.headers["Location"] == "/tasks/"
    assert dbq.signed_in(other).id == local_user


def test_link_needs_a_signed_in_user(client):
    response = client.post("/login/external/fake/link")
    assert response.status_code in (302, 303)
    assert "/login" in response.headers["Location"]


def test_link_refused_when_the_identity_belongs_to_another_account(flow, client, app, dbq, login):
    flow.sign_in(sub="kc-shared", email="first@example.org", email_verified=True,
                 client=app.test_client())
    first_id = dbq.users("first@example.org")[0].id
    second = dbq.make("user", email="second@example.org")
    login(dbq.user(second))
    response = flow.sign_in(sub="kc-shared", email="first@example.org", email_verified=True,
                            link=True)
    assert response.headers["Location"] == "/account"
    assert [i.user_id for i in dbq.identities()] == [first_id]
    assert "bereits mit einem anderen InnoLab-Konto verknüpft" in _page(client, "/account")


def test_link_refused_for_a_second_identity_at_the_same_provider(flow, client, local_user, dbq):
    flow.sign_in(sub="kc-1", email="a@example.org", email_verified=True, link=True)
    flow.sign_in(sub="kc-2", email="b@example.org", email_verified=True, link=True)
    assert [i.subject for i in dbq.identities()] == ["kc-1"]
    assert "Trennen Sie es zuerst" in _page(client, "/account")


def test_link_finished_in_another_session_is_refused(flow, client, local_user, app, dbq, login):
    params = flow.begin("fake", link=True)
    # the browser now belongs to someone else (signed out and in as another person)
    other_id = dbq.make("user", email="other@example.org")
    with client.session_transaction() as s:
        kept = {k: v for k, v in s.items() if k.startswith("_state_")}
    login(dbq.user(other_id))
    with client.session_transaction() as s:
        s.update(kept)
    realm = flow.fakes.realm("partner")
    code = realm.issue(params, sub="kc-x", email="x@example.org", email_verified=True)
    flow.callback("fake", code=code, state=params["state"], iss=realm.issuer)
    assert dbq.identities() == []


def test_staff_provider_link_brings_the_roles_up_to_date(flow, client, local_user, dbq):
    flow.sign_in("fakestaff", realm="staff", sub="zd-1", email="lena@zdmv.example",
                 email_verified=True, groups=["innolab-reviewers"], link=True)
    assert {r.value for r in dbq.user(local_user).roles} == {"reviewer"}


# ------------------------------------------------------------------ unlink


def test_unlink_with_a_password_left(flow, client, local_user, dbq):
    flow.sign_in(sub="kc-lena", email="lena@land.example", email_verified=True, link=True)
    response = client.post("/login/external/fake/unlink")
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    assert dbq.identities() == []
    assert dbq.audit("user.identity_unlinked")
    assert "Die Verknüpfung mit Test-Anbieter wurde getrennt" in _page(client, "/account")


def test_unlink_of_the_only_way_in_is_refused(flow, client, dbq):
    flow.sign_in(sub="kc-only", email="only@example.org", email_verified=True)
    response = client.post("/login/external/fake/unlink")
    assert response.headers["Location"] == "/account"
    assert len(dbq.identities()) == 1
    assert "nicht mehr anmelden könnten" in _page(client, "/account")


def test_unlink_allowed_while_another_provider_remains(flow, client, dbq):
    flow.sign_in(sub="kc-only", email="only@example.org", email_verified=True)
    params = flow.begin("github", link=True)
    code = flow.fakes.github.issue(params, {"id": 77, "login": "only"}, [])
    flow.callback("github", code=code, state=params["state"])
    assert {i.provider for i in dbq.identities()} == {"fake", "github"}
    client.post("/login/external/fake/unlink")
    assert {i.provider for i in dbq.identities()} == {"github"}
    # and now GitHub is the last one
    client.post("/login/external/github/unlink")
    assert {i.provider for i in dbq.identities()} == {"github"}


def test_unlink_of_a_provider_not_linked_is_refused(client, local_user, dbq):
    response = client.post("/login/external/fake/unlink")
    assert response.headers["Location"] == "/account"
    assert "nicht mit Ihrem Konto verknüpft" in _page(client, "/account")


def test_unlink_needs_post_and_a_signed_in_user(client):
    response = client.get("/login/external/fake/unlink")
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    response = client.post("/login/external/fake/unlink")
    assert "/login" in response.headers["Location"]


def test_unlink_of_the_staff_provider_removes_the_roles_it_handed_out(
        flow, client, local_user, dbq):
    flow.sign_in("fakestaff", realm="staff", sub="zd-1", email="lena@zdmv.example",
                 email_verified=True, groups=["innolab-reviewers"], link=True)
    with dbq.ctx():
        db.session.add(UserRole(user_id=local_user, role="dpo"))  # granted by an admin
        db.session.commit()
    client.post("/login/external/fakestaff/unlink")
    assert {r.value for r in dbq.user(local_user).roles} == {"dpo"}
    (revoked,) = dbq.audit("user.role_revoked")
    assert revoked.details == {"role": "reviewer", "source": "unlink:fakestaff"}


def test_unlink_after_signing_in_with_it_forgets_the_provider_logout(flow, client, local_user):
    flow.sign_in(sub="kc-lena", email="lena@land.example", email_verified=True, link=True)
    with client.session_transaction() as s:
        s["oidc_logout"] = {"provider": "fake", "id_token": "x", "endpoint": "https://x.example"}
    client.post("/login/external/fake/unlink")
    with client.session_transaction() as s:
        assert "oidc_logout" not in s


# ------------------------------------------------------------------ the partials


def _render(app, template, user=None):
    from flask_login import login_user

    with app.test_request_context("/account"):
        if user is not None:
            user.use_session_token("only-for-rendering")  # no session row: nothing is served
            login_user(user)
        return render_template(template)


def test_linked_partial_lists_linked_and_other_providers(flow, client, local_user, app, dbq):
    flow.sign_in(sub="kc-lena", email="lena@land.example", email_verified=True, link=True)
    with dbq.ctx():
        from innolab.models import User

        html = _render(app, "oidc/_linked.html", db.session.get(User, local_user))
    assert "Anmeldung über andere Konten" in html
    assert "Verknüpfung mit Test-Anbieter trennen" in html
    assert "lena@land.example" in html
    assert "Mit GitHub verknüpfen" in html and "Mit ZDMV-Anmeldung verknüpfen" in html
    assert 'action="/login/external/github/link"' in html
    assert '<th scope="row"' in html and "<caption" in html


def test_linked_partial_explains_why_the_last_way_in_cannot_be_unlinked(flow, app, dbq):
    flow.sign_in(sub="kc-only", email="only@example.org", email_verified=True)
    with dbq.ctx():
        from innolab.models import User

        user = db.session.execute(db.select(User)).scalar_one()
        html = _render(app, "oidc/_linked.html", user)
    assert "Verknüpfung mit Test-Anbieter trennen" not in html
    assert "nicht mehr anmelden könnten" in html


def test_linked_partial_shows_identities_of_providers_no_longer_configured(app, local_user, dbq):
    with dbq.ctx():
        from innolab.models import User

        db.session.add(ExternalIdentity(user_id=local_user, provider="alt", subject="1"))
        db.session.commit()
        html = _render(app, "oidc/_linked.html", db.session.get(User, local_user))
    assert "Verknüpfung mit alt trennen" in html


def test_buttons_partial_shows_one_button_per_provider(app):
    html = _render(app, "oidc/_buttons.html")
    assert html.count('<button type="submit"') == 8
    assert "Mit dem Test-Anbieter anmelden" in html
    assert "Anmeldung für Beschäftigte des ZDMV" in html
    assert "Mit GitHub anmelden" in html  # the default label
    assert 'name="csrf_token"' in html
    assert 'action="/login/external/fake"' in html


def test_buttons_partial_in_english(app):
    with app.test_request_context("/login", headers={"Accept-Language": "en"}):
        html = render_template("oidc/_buttons.html")
    assert "Sign in as ZDMV staff" in html


def test_buttons_partial_keeps_the_next_target(app):
    with app.test_request_context("/login?next=/proposals/"):
        html = render_template("oidc/_buttons.html")
    assert 'name="next" value="/proposals/"' in html


def test_buttons_partial_empty_without_providers(app, monkeypatch):
    monkeypatch.setitem(app.extensions, "innolab_identities", {})
    assert _render(app, "oidc/_buttons.html").strip() == ""
