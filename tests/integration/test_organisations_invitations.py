"""Inviting colleagues by mail, joining by the link, revoking invitations."""
from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from innolab.domain import organisations as orgs
from innolab.domain.accounts import hash_token
from innolab.extensions import db
from innolab.models import AuditEvent, Invitation, Membership, Notification, User
from innolab.models._base import utcnow
from tests import factories as f
from tests.integration.auth_support import link_in, page_text

pytestmark = pytest.mark.usefixtures("app_ctx")

STAFF_ROLES = ("admin", "coordinator", "reviewer", "decider", "dpo", "iso")


def _logout(client):
    with client.session_transaction() as session:
        session.clear()


def _invitations():
    return db.session.execute(select(Invitation).order_by(Invitation.id)).scalars().all()


def _join_path(mail) -> str:
    url = re.search(r"https?://\S+/join/\S+", mail.body_text).group(0)
    return urlsplit(url).path


def _invite(client, login, owner, org, email="kollegin@example.org"):
    login(owner)
    response = client.post(f"/account/organisations/{org.id}/invite", data={"email": email})
    assert response.status_code == 303
    return response


# ------------------------------------------------------------------ invite

def test_invite_queues_mail_with_join_link(client, login, outbox):
    owner = f.user(name="Erika Eigner")
    org = f.organisation(owner=owner, name="Ostsee Daten GmbH")
    login(owner)
    page = client.get(f"/account/organisations/{org.id}/invite").get_data(as_text=True)
    assert "Kolleginnen und Kollegen einladen" in page
    response = client.post(f"/account/organisations/{org.id}/invite",
                           data={"email": " Kollegin@Example.org "})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/account/organisations/{org.id}")

    inv = _invitations()[0]
    assert inv.email == "kollegin@example.org" and inv.invited_by_id == owner.id
    assert timedelta(days=13, hours=23) < inv.expires_at - utcnow() <= timedelta(days=14)
    [mail] = outbox("kollegin@example.org")
    assert mail.subject == "Einladung zur Organisation Ostsee Daten GmbH"
    assert "„Erika Eigner“ lädt Sie ein, der Organisation „Ostsee Daten GmbH“" in mail.body_text
    assert "nur einmal verwendet werden" in mail.body_text
    assert "registrieren Sie sich bitte zuerst" in mail.body_text
    assert "/register" in mail.body_text
    token = _join_path(mail).rsplit("/", 1)[1]
    assert inv.token_hash == hash_token(token) and token not in inv.token_hash  # only the hash

    event = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "organisation.invite")).scalar_one()
    assert event.actor_id == owner.id and event.details["email"] == "kollegin@example.org"

    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Die Einladung an kollegin@example.org wurde versendet." in html
    assert "Offene Einladungen" in html and "kollegin@example.org" in html


def test_invite_greets_existing_user_by_name(client, login, outbox):
    owner = f.user()
    org = f.organisation(owner=owner)
    f.user(email="max@example.org", name="Max Muster")
    _invite(client, login, owner, org, "max@example.org")
    assert outbox("max@example.org")[0].body_text.startswith("Guten Tag Max Muster,")


def test_invite_again_replaces_open_invitation(client, login, outbox):
    owner = f.user()
    org = f.organisation(owner=owner)
    _invite(client, login, owner, org)
    _invite(client, login, owner, org)
    first, second = _invitations()
    assert first.revoked_at is not None and second.is_open
    assert len(outbox("kollegin@example.org")) == 2
    assert client.get(_join_path(outbox()[0])).status_code == 410


@pytest.mark.parametrize("email,message", [
    ("", "Bitte geben Sie eine E-Mail-Adresse ein."),
    ("keine-adresse", "Bitte geben Sie eine gültige E-Mail-Adresse ein"),
])
def test_invite_bad_email_keeps_value(client, login, outbox, email, message):
    owner = f.user()
    org = f.organisation(owner=owner)
    login(owner)
    response = client.post(f"/account/organisations/{org.id}/invite", data={"email": email})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html and "Bitte prüfen Sie Ihre Eingaben" in html
    assert f'value="{email}"' in html or not email
    assert _invitations() == [] and outbox() == []


def test_invite_existing_member_refused(client, login, outbox):
    owner = f.user()
    member = f.user(email="drin@example.org")
    org = f.organisation(owner=owner, members=[member])
    login(owner)
    response = client.post(f"/account/organisations/{org.id}/invite",
                           data={"email": "DRIN@example.org"})
    assert response.status_code == 422
    assert "Diese Person ist bereits Mitglied der Organisation." in response.get_data(as_text=True)
    assert _invitations() == [] and outbox() == []


def test_invite_member_refused_403(client, login, outbox):
    member = f.user()
    org = f.organisation(owner=f.user(), members=[member])
    login(member)
    assert client.get(f"/account/organisations/{org.id}/invite").status_code == 403
    response = client.post(f"/account/organisations/{org.id}/invite",
                           data={"email": "x@example.org"})
    assert response.status_code == 403
    assert _invitations() == [] and outbox() == []


@pytest.mark.parametrize("role", (None,) + STAFF_ROLES)
def test_invite_non_member_refused_404(client, login, outbox, role):
    org = f.organisation(owner=f.user())
    outsider = f.staff(role) if role else f.user()
    if role is None:
        f.organisation(owner=outsider)  # a partner of another organisation
    login(outsider)
    response = client.post(f"/account/organisations/{org.id}/invite",
                           data={"email": "x@example.org"})
    assert response.status_code == 404
    assert _invitations() == [] and outbox() == []


def test_invite_visitor_redirected(client, outbox):
    org = f.organisation(owner=f.user())
    response = client.post(f"/account/organisations/{org.id}/invite",
                           data={"email": "x@example.org"})
    assert response.status_code == 302
    assert _invitations() == [] and outbox() == []


# ------------------------------------------------------------------ join

def test_join_by_following_link_in_mail(client, login, outbox):
    owner = f.user(name="Erika Eigner")
    org = f.organisation(owner=owner, name="Ostsee Daten GmbH")
    _invite(client, login, owner, org, "kollegin@example.org")
    path = _join_path(outbox("kollegin@example.org")[0])

    colleague = f.user(email="kollegin@example.org")
    login(colleague)
    page = client.get(path)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Einladung annehmen" in html
    assert ("Erika Eigner hat Sie eingeladen, der Organisation „Ostsee Daten GmbH“ "
            "beizutreten.") in html
    assert not org.is_member(colleague)  # opening the link alone changes nothing

    response = client.post(path)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/account/organisations/{org.id}")
    db.session.expire_all()
    assert org.membership_of(colleague).role == "member"
    assert _invitations()[0].accepted_at is not None
    event = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "organisation.join")).scalar_one()
    assert event.actor_id == colleague.id and event.object_id == org.id
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Sie sind jetzt Mitglied der Organisation „Ostsee Daten GmbH“." in html


def test_join_with_another_account_email_is_allowed(client, login, outbox):
    owner = f.user()
    org = f.organisation(owner=owner)
    _invite(client, login, owner, org, "alt@example.org")
    path = _join_path(outbox()[0])
    someone = f.user(email="neu@example.org")
    login(someone)
    html = client.get(path).get_data(as_text=True)
    assert "Die Einladung ging an alt@example.org" in html
    assert client.post(path).status_code == 303
    db.session.expire_all()
    assert org.is_member(someone)


def test_invitation_survives_registration_and_is_accepted_in_one_click(client, login, outbox,
                                                                      new_client):
    owner = f.user(name="Erika Eigner", email="erika@example.org")
    org = f.organisation(owner=owner, name="Ostsee Daten GmbH")
    _invite(client, login, owner, org, "neu@example.org")
    path = _join_path(outbox("neu@example.org")[0])

    visitor = new_client()
    page = visitor.get(path)
    text = page_text(page)
    assert page.status_code == 200
    assert "Erika Eigner hat Sie eingeladen, der Organisation „Ostsee Daten GmbH“" in text
    assert "Die Einladung ging an neu@example.org" in text
    html = page.get_data(as_text=True)
    login_link = re.search(r'href="(/login\?next=[^"]+)"', html).group(1)
    assert parse_qs(urlsplit(login_link).query)["next"] == [path]
    register = re.search(r'href="(/register\?email=[^"]+)"', html).group(1)
    form = visitor.get(register.replace("&amp;", "&")).get_data(as_text=True)
    assert 'value="neu@example.org"' in form  # the address is filled in
    # a visitor's POST joins nobody
    visitor.post(path)
    assert _invitations()[0].accepted_at is None

    assert visitor.post("/register", data={
        "email": "neu@example.org", "name": "Nele Neu", "password": f.PASSWORD,
        "password_confirm": f.PASSWORD, "consent": "y"}).status_code == 200
    confirm = link_in(outbox("neu@example.org")[-1], "/confirm/")
    response = visitor.post(confirm)
    assert response.status_code == 303
    location = urlsplit(response.location)
    assert location.path == "/login"
    (target,) = parse_qs(location.query)["next"]
    assert target == f"/account/organisations/invitations/{_invitations()[0].id}"
    assert "Sie sind eingeladen, der Organisation „Ostsee Daten GmbH“ beizutreten." in page_text(
        visitor.get(response.location))

    signed_in = visitor.post("/login", data={"email": "neu@example.org",
                                             "password": f.PASSWORD, "next": target})
    assert signed_in.status_code == 303 and signed_in.location == target
    tasks = page_text(visitor.get("/tasks/"))
    assert "Einladung in eine Organisation annehmen" in tasks and "Ostsee Daten GmbH" in tasks
    assert "Der Organisation beitreten" in page_text(visitor.get(target))
    joined = visitor.post(target)
    assert joined.status_code == 303
    db.session.expire_all()
    nele = db.session.execute(select(User).where(User.email == "neu@example.org")).scalar_one()
    assert org.membership_of(nele).role == "member"
    assert _invitations()[0].accepted_at is not None
    assert "Einladung in eine Organisation" not in page_text(visitor.get("/tasks/"))
    assert visitor.get(target).status_code == 404  # used up
    # the owner is told
    (note,) = db.session.execute(select(Notification).where(
        Notification.user_id == owner.id, Notification.kind == "member_joined")).scalars()
    assert note.link == f"/account/organisations/{org.id}"
    assert any("Nele Neu ist der Organisation Ostsee Daten GmbH beigetreten" in m.subject
               for m in outbox("erika@example.org"))


def test_an_invitation_to_another_address_cannot_be_taken_by_its_id(client, login, outbox):
    owner = f.user()
    org = f.organisation(owner=owner)
    _invite(client, login, owner, org, "eingeladen@example.org")
    login(f.user(email="jemand@example.org"))
    inv = _invitations()[0]
    assert client.get(f"/account/organisations/invitations/{inv.id}").status_code == 404
    assert client.post(f"/account/organisations/invitations/{inv.id}").status_code == 404
    unconfirmed = f.user(email="eingeladen@example.org", confirmed=False)
    login(unconfirmed)
    assert client.post(f"/account/organisations/invitations/{inv.id}").status_code == 404
    db.session.expire_all()
    assert _invitations()[0].accepted_at is None


def test_join_link_works_only_once(client, login, outbox):
    owner = f.user()
    org = f.organisation(owner=owner)
    _invite(client, login, owner, org)
    path = _join_path(outbox()[0])
    first, second = f.user(), f.user()
    login(first)
    assert client.post(path).status_code == 303
    login(second)
    for response in (client.get(path), client.post(path)):
        assert response.status_code == 410
        assert "Diese Einladung wurde bereits angenommen." in response.get_data(as_text=True)
    db.session.expire_all()
    assert org.is_member(first) and not org.is_member(second)


def test_join_expired_invitation_refused(client, login, outbox):
    owner = f.user()
    org = f.organisation(owner=owner)
    _invite(client, login, owner, org)
    path = _join_path(outbox()[0])
    inv = _invitations()[0]
    inv.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    joiner = f.user()
    login(joiner)
    for response in (client.get(path), client.post(path)):
        assert response.status_code == 410
        assert "Diese Einladung ist abgelaufen." in response.get_data(as_text=True)
    db.session.expire_all()
    assert not org.is_member(joiner)


def test_join_revoked_invitation_refused(client, login, outbox):
    owner = f.user()
    org = f.organisation(owner=owner)
    _invite(client, login, owner, org)
    path = _join_path(outbox()[0])
    inv = _invitations()[0]
    revoke = f"/account/organisations/{org.id}/invitations/{inv.id}/revoke"
    assert client.post(revoke).status_code == 303
    joiner = f.user()
    login(joiner)
    response = client.post(path)
    assert response.status_code == 410
    assert "Diese Einladung wurde zurückgezogen." in response.get_data(as_text=True)
    db.session.expire_all()
    assert not org.is_member(joiner)


@pytest.mark.parametrize("token", ["unbekannt", "x" * 300])
def test_join_unknown_token_404_with_text(client, login, token):
    login(f.user())
    response = client.get(f"/account/organisations/join/{token}")
    assert response.status_code == 404
    assert "Diese Einladung gibt es nicht." in response.get_data(as_text=True)


def test_join_when_already_member_keeps_invitation_open(client, login, outbox):
    owner = f.user()
    member = f.user()
    org = f.organisation(owner=owner, members=[member])
    _invite(client, login, owner, org, "neu@example.org")
    path = _join_path(outbox()[0])
    login(member)
    response = client.post(path)
    assert response.status_code == 303
    assert _invitations()[0].is_open
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Sie sind bereits Mitglied" in html
    assert db.session.query(Membership).filter_by(organisation_id=org.id).count() == 2


# ------------------------------------------------------------------ revoke

def test_revoke_invitation_owner(client, login, outbox):
    owner = f.user()
    org = f.organisation(owner=owner)
    _invite(client, login, owner, org)
    inv = _invitations()[0]
    response = client.post(f"/account/organisations/{org.id}/invitations/{inv.id}/revoke")
    assert response.status_code == 303
    db.session.expire_all()
    assert inv.revoked_at is not None
    assert orgs.open_invitations(org) == []
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "wurde zurückgezogen" in html and "Es gibt keine offenen Einladungen." in html
    assert db.session.execute(select(AuditEvent).where(
        AuditEvent.action == "organisation.revoke_invitation")).scalar_one().actor_id == owner.id


def test_revoke_invitation_member_refused_403(client, login, outbox):
    owner, member = f.user(), f.user()
    org = f.organisation(owner=owner, members=[member])
    _invite(client, login, owner, org)
    inv = _invitations()[0]
    login(member)
    assert client.post(
        f"/account/organisations/{org.id}/invitations/{inv.id}/revoke").status_code == 403
    db.session.expire_all()
    assert inv.is_open


def test_revoke_invitation_of_other_organisation_404(client, login, outbox):
    owner = f.user()
    org = f.organisation(owner=owner)
    _invite(client, login, owner, org)
    inv = _invitations()[0]
    other_owner = f.user()
    other = f.organisation(owner=other_owner)
    login(other_owner)
    assert client.post(
        f"/account/organisations/{other.id}/invitations/{inv.id}/revoke").status_code == 404
    assert client.post(
        f"/account/organisations/{other.id}/invitations/99999/revoke").status_code == 404
    db.session.expire_all()
    assert inv.is_open
