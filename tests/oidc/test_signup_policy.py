"""Account capture through providers: unverified addresses, sign-up policies, staff roles.

Each attack is played through: the attacker's provider says what the attacker wants (tokens
signed in the test, tests/oidc/fakes.py), the real owner uses only the mails that reach the
mailbox.
"""
from __future__ import annotations

import time

import re

import pytest
from sqlalchemy import select

from innolab.domain import identities
from innolab.extensions import db
from innolab.models import PendingRoleGrant, UserRole
from tests import factories

from .helpers import Db

VICTIM = "vera.victim@zdmv.example"
PASSWORD = "ein-langes-neues-Passwort"


@pytest.fixture
def dbq(app):
    return Db(app)


@pytest.fixture
def mails(app, outbox):
    def _mails(recipient=None):
        with app.app_context():
            return [(m.subject, m.body_text) for m in outbox(recipient)]
    return _mails


def _path(body: str, route: str) -> str:
    url = re.search(rf"https?://\S+{route}\S+", body).group(0)
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def _attacker_signs_in(flow, client, key="fake", **claims):
    claims.setdefault("email", VICTIM)
    claims.setdefault("name", "Mallory")
    return flow.sign_in(key, sub="mallory", client=client, **claims)


def _reset_password(app, mails, email=VICTIM):
    """The mailbox owner asks for a reset and follows the link; returns the browser."""
    owner = app.test_client()
    owner.post("/password/forgot", data={"email": email})
    subject, body = mails(email)[-1]
    response = owner.post(_path(body, "/password/reset/"),
                          data={"password": PASSWORD, "password_confirm": PASSWORD})
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    return owner, body


def _main(response) -> str:
    """The page's content (without the per-session form tokens)."""
    html = response.get_data(as_text=True)
    html = html[html.index("<main"):html.index("</main>")]
    return re.sub(r'name="(csrf_token|_once)" value="[^"]*"', "", html)


def _admin(app, dbq):
    admin_id = dbq.make("staff", "admin", email="ada@zdmv.example")
    client = app.test_client()
    with app.app_context():
        token = factories.session_token(db.session.get(factories.User, admin_id))
    with client.session_transaction() as s:
        s["_user_id"] = token
        s["innolab_recent_auth"] = int(time.time())  # as after signing in
        s["_fresh"] = True
    return client


# ------------------------------------------------------------------ email_verified


@pytest.mark.parametrize("verified", [False, None, "false"], ids=["false", "missing", "text"])
def test_unverified_provider_address_opens_no_session(flow, client, dbq, mails, verified):
    response = flow.sign_in(sub="p-1", email=VICTIM, email_verified=verified, name="Vera")
    assert response.headers["Location"] == "/login/external/fake/sent"
    assert dbq.signed_in(client) is None
    (user,) = dbq.users(VICTIM)
    assert not user.email_confirmed
    (identity,) = dbq.identities(user.id)
    assert identity.unconfirmed
    ((subject, body),) = mails(VICTIM)
    assert "/confirm/" in body and "Test-Anbieter" in body  # the mail names the linked method

    # signing in again through the same identity: still nothing until the address is confirmed
    again = flow.sign_in(sub="p-1", email=VICTIM, email_verified=verified,
                         client=flow.client.application.test_client())
    assert again.headers["Location"] == "/login/external/fake/sent"
    assert len(mails(VICTIM)) == 2
    assert dbq.audit("user.login") == []


def test_verified_provider_address_signs_in_at_once(flow, client, dbq):
    flow.sign_in(sub="p-1", email=VICTIM, email_verified=True, name="Vera")
    assert dbq.signed_in(client).email == VICTIM
    (identity,) = dbq.identities()
    assert not identity.unconfirmed


def test_email_trust_always_trusts_a_provider_without_the_claim(flow, client, dbq):
    # Entra ID sends no email_verified: the operator has to say "always" explicitly
    flow.sign_in("trusting", sub="entra-1", email=VICTIM, name="Vera")
    assert dbq.signed_in(client).email == VICTIM
    assert dbq.users(VICTIM)[0].email_confirmed


def test_email_trust_never_asks_for_confirmation_even_when_verified(flow, client, dbq):
    response = flow.sign_in("distrusting", sub="d-1", email=VICTIM, email_verified=True)
    assert response.headers["Location"] == "/login/external/distrusting/sent"
    assert dbq.signed_in(client) is None
    assert not dbq.users(VICTIM)[0].email_confirmed


# ------------------------------------------------------------------ pre-hijack


def test_pre_hijack_then_password_reset_removes_the_attackers_identity(flow, app, dbq, mails):
    mallory = app.test_client()
    _attacker_signs_in(flow, mallory, email_verified=False)
    assert dbq.signed_in(mallory) is None
    (victim,) = dbq.users(VICTIM)

    owner, reset_mail = _reset_password(app, mails)
    assert "Test-Anbieter" in reset_mail  # the reset mail names the linked sign-in methods
    assert dbq.identities(victim.id) == []
    (removed,) = dbq.audit("user.identity_removed")
    assert removed.details == {"provider": "fake", "reason": "password_reset"}
    assert dbq.signed_in(owner).id == victim.id

    later = app.test_client()
    response = _attacker_signs_in(flow, later, email_verified=False)
    assert response.headers["Location"] == "/login/external/fake/sent"
    assert dbq.signed_in(later) is None
    assert dbq.identities() == [] and len(dbq.users()) == 1


def test_pre_hijack_then_confirmation_removes_the_attackers_identity(flow, app, dbq, mails):
    mallory = app.test_client()
    _attacker_signs_in(flow, mallory, email_verified=False)
    (victim,) = dbq.users(VICTIM)
    ((_, body),) = mails(VICTIM)
    owner = app.test_client()
    response = owner.post(_path(body, "/confirm/"))
    assert response.status_code == 303
    # no way in is left: the owner sets a password right away
    assert "/password/reset/" in response.headers["Location"]
    assert dbq.user(victim.id).email_confirmed
    assert dbq.identities() == []
    response = owner.post(response.headers["Location"],
                          data={"password": PASSWORD, "password_confirm": PASSWORD})
    assert response.status_code == 303 and dbq.signed_in(owner).id == victim.id

    again = app.test_client()
    _attacker_signs_in(flow, again, email_verified=False)
    assert dbq.signed_in(again) is None


# ------------------------------------------------------------------ uniform answer


def test_address_in_use_answers_like_an_unknown_address(flow, app, dbq, mails):
    dbq.make("user", email="known@example.org", name="Konrad Bekannt")
    known, unknown = app.test_client(), app.test_client()
    r_known = flow.sign_in(sub="x-1", email="known@example.org", email_verified=False,
                           client=known)
    r_unknown = flow.sign_in(sub="x-2", email="unknown@example.org", email_verified=False,
                             client=unknown)
    assert r_known.status_code == r_unknown.status_code == 303
    assert r_known.headers["Location"] == r_unknown.headers["Location"]
    page_known = known.get(r_known.headers["Location"])
    page_unknown = unknown.get(r_unknown.headers["Location"])
    assert page_known.status_code == page_unknown.status_code == 200
    assert _main(page_known) == _main(page_unknown)
    # both addresses got a mail: the owner of the known one a notice, the other a link
    ((_, notice),) = mails("known@example.org")
    assert "bereits ein Konto" in notice and "Test-Anbieter" in notice
    ((_, confirm),) = mails("unknown@example.org")
    assert "/confirm/" in confirm


# ------------------------------------------------------------------ sign-up policies


def test_signup_link_only_creates_no_account_and_says_the_same_for_known_addresses(
        flow, app, dbq):
    dbq.make("user", email="known@example.org")
    answers = []
    for sub, email in (("c-1", "known@example.org"), ("c-2", "new@example.org")):
        c = app.test_client()
        response = flow.sign_in("closed", sub=sub, email=email, email_verified=True, client=c)
        assert response.headers["Location"] == "/login"
        answers.append(_main(c.get("/login")))
    assert "können keine neuen Konten angelegt werden" in answers[0]
    assert answers[0] == answers[1]
    assert [u.email for u in dbq.users()] == ["known@example.org"]
    assert dbq.identities() == []


def test_signup_link_only_still_signs_in_a_linked_identity(flow, app, dbq):
    user_id = dbq.make("user", email="linked@example.org")
    with app.app_context():
        db.session.add(identities.ExternalIdentity(user_id=user_id, provider="closed",
                                                   subject="c-9"))
        db.session.commit()
    c = app.test_client()
    flow.sign_in("closed", sub="c-9", email="linked@example.org", email_verified=True, client=c)
    assert dbq.signed_in(c).id == user_id


def test_signup_domains_allow_only_the_listed_domains(flow, app, dbq):
    c = app.test_client()
    response = flow.sign_in("domains", sub="d-1", email="someone@example.org",
                            email_verified=True, client=c)
    assert response.headers["Location"] == "/login"
    assert "nur Konten für bestimmte E-Mail-Adressen" in c.get("/login").get_data(as_text=True)
    assert dbq.users() == []
    ok = app.test_client()
    flow.sign_in("domains", sub="d-2", email="kollegin@zdmv.example", email_verified=True,
                 client=ok)
    assert dbq.signed_in(ok).email == "kollegin@zdmv.example"


# ------------------------------------------------------------------ staff role capture


def test_staff_role_capture_through_an_unverified_provider_address_fails(flow, app, dbq,
                                                                         mails):
    mallory = app.test_client()
    _attacker_signs_in(flow, mallory, email_verified=False)
    (account,) = dbq.users(VICTIM)
    admin = _admin(app, dbq)
    response = admin.post("/admin/users/invite", data={"email": VICTIM, "name": "Vera",
                                                       "roles": ["coordinator", "admin"]})
    assert response.status_code == 303
    assert dbq.user(account.id).roles == set()  # nothing before the mailbox answers

    # the attacker signs in again through the identity: still no session, no roles
    again = app.test_client()
    _attacker_signs_in(flow, again, email_verified=False)
    assert dbq.signed_in(again) is None
    assert dbq.user(account.id).roles == set()

    # the real owner: a password through the reset mail, then the invitation link
    invitation = [b for s, b in mails(VICTIM) if "/account/staff-invitation/" in b][0]
    owner, _ = _reset_password(app, mails)
    assert owner.post(_path(invitation, "/account/staff-invitation/")).status_code == 303
    user = dbq.user(account.id)
    assert {r.value for r in user.roles} == {"coordinator", "admin"}
    assert dbq.identities() == []
    assert dbq.audit("user.roles_pending") and dbq.audit("user.roles_accepted")


def test_staff_invitation_link_does_nothing_for_another_signed_in_account(flow, app, dbq,
                                                                          mails):
    victim_id = dbq.make("user", email=VICTIM)
    admin = _admin(app, dbq)
    admin.post("/admin/users/invite", data={"email": VICTIM, "name": "V", "roles": ["admin"]})
    invitation = [b for s, b in mails(VICTIM) if "/account/staff-invitation/" in b][0]
    other = app.test_client()
    flow.sign_in(sub="o-1", email="other@example.org", email_verified=True, client=other)
    link = _path(invitation, "/account/staff-invitation/")
    assert other.get(link).status_code == 403
    assert other.post(link).status_code == 403
    assert dbq.user(victim_id).roles == set()
    with app.app_context():
        assert db.session.execute(select(PendingRoleGrant)).scalars().all() != []


# ------------------------------------------------------------------ staff provider roles


def _staff(flow, groups, client, **claims):
    return flow.sign_in("fakestaff", realm="staff", sub="s-1", email="rolf@zdmv.example",
                        email_verified=True, name="Rolf", groups=groups, client=client,
                        **claims)


def test_provider_roles_go_when_signing_in_with_a_password(flow, app, dbq):
    _staff(flow, ["innolab-coordinators"], app.test_client())
    (user,) = dbq.users("rolf@zdmv.example")
    assert [(r.role, r.source) for r in user.role_rows] == [("coordinator",
                                                             "provider:fakestaff")]
    with app.app_context():
        u = db.session.get(factories.User, user.id)
        u.password_hash = factories._password_hash()
        u.role_rows.append(UserRole(role="dpo"))  # from an admin
        db.session.commit()
    # the groups were removed at the provider; the person signs in with the password instead
    local = app.test_client()
    response = local.post("/login", data={"email": "rolf@zdmv.example",
                                          "password": factories.PASSWORD})
    assert response.status_code == 303
    assert dbq.signed_in(local).id == user.id
    assert {r.value for r in dbq.user(user.id).roles} == {"dpo"}
    (revoked,) = dbq.audit("user.role_revoked")
    assert revoked.details["reason"] == "signed_in_otherwise"
    assert local.get("/staff/").status_code in (403, 404)

    # through the staff provider again: its groups count again
    _staff(flow, ["innolab-coordinators"], app.test_client())
    assert {r.value for r in dbq.user(user.id).roles} == {"dpo", "coordinator"}


def test_provider_roles_go_when_signing_in_through_another_provider(flow, app, dbq):
    _staff(flow, ["innolab-reviewers"], app.test_client())
    (user,) = dbq.users("rolf@zdmv.example")
    with app.app_context():
        db.session.add(identities.ExternalIdentity(user_id=user.id, provider="fake",
                                                   subject="rolf-partner"))
        db.session.commit()
    c = app.test_client()
    flow.sign_in(sub="rolf-partner", email="rolf@zdmv.example", email_verified=True, client=c)
    assert dbq.signed_in(c).id == user.id
    assert dbq.user(user.id).roles == set()


def test_admin_granted_role_survives_group_removal(flow, app, dbq):
    _staff(flow, ["innolab-reviewers"], app.test_client())
    (user,) = dbq.users("rolf@zdmv.example")
    with app.app_context():
        row = db.session.execute(select(UserRole).where(UserRole.user_id == user.id)).scalar_one()
        row.source = "admin"
        db.session.commit()
    _staff(flow, [], app.test_client())
    assert {r.value for r in dbq.user(user.id).roles} == {"reviewer"}


def test_group_overage_keeps_the_roles_and_warns(flow, app, dbq, caplog):
    _staff(flow, ["innolab-reviewers"], app.test_client())
    (user,) = dbq.users("rolf@zdmv.example")
    # Entra ID: too many groups for the token, only a pointer to the Graph API
    _staff(flow, None, app.test_client(), _claim_names={"groups": "src1"},
           _claim_sources={"src1": {"endpoint": "https://graph.example/groups"}})
    assert {r.value for r in dbq.user(user.id).roles} == {"reviewer"}
    (event,) = dbq.audit("user.roles_claim_incomplete")
    assert event.details["kept"] == ["reviewer"]
    assert "overage" in caplog.text
    _staff(flow, None, app.test_client(), hasgroups=True)
    assert {r.value for r in dbq.user(user.id).roles} == {"reviewer"}
    assert len(dbq.audit("user.roles_claim_incomplete")) == 2


# ------------------------------------------------------------------ the admin's view


def test_admin_sees_role_sources_and_removes_an_identity(flow, app, dbq):
    _staff(flow, ["innolab-reviewers"], app.test_client())
    (user,) = dbq.users("rolf@zdmv.example")
    admin = _admin(app, dbq)
    html = admin.get(f"/admin/users/{user.id}").get_data(as_text=True)
    assert "Gruppen bei ZDMV-Anmeldung" in html
    assert "Verknüpfung mit ZDMV-Anmeldung entfernen" in html
    (identity,) = dbq.identities(user.id)
    response = admin.post(f"/admin/users/{user.id}",
                          data={"form": "identity", "identity": str(identity.id)})
    assert response.status_code == 303
    assert dbq.identities(user.id) == []
    assert dbq.user(user.id).roles == set()
    (event,) = dbq.audit("user.identity_removed")
    assert event.details["reason"] == "admin" and event.actor_id is not None
    assert admin.post(f"/admin/users/{user.id}",
                      data={"form": "identity", "identity": "x"}).status_code == 400
