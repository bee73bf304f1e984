"""Owners remove members and hand over ownership; members leave."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from innolab.extensions import db
from innolab.models import AuditEvent, Membership
from tests import factories as f

pytestmark = pytest.mark.usefixtures("app_ctx")

STAFF_ROLES = ("admin", "coordinator", "reviewer", "decider", "dpo", "iso")


def _role(org, user):
    db.session.expire_all()
    m = db.session.execute(select(Membership).where(
        Membership.organisation_id == org.id, Membership.user_id == user.id)).scalar_one_or_none()
    return m.role if m else None


def _audit(action):
    return db.session.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars().all()


# ------------------------------------------------------------------ remove

def test_remove_member_owner(client, login):
    owner, member = f.user(), f.user(name="Max Mitglied")
    org = f.organisation(owner=owner, members=[member])
    login(owner)
    page = client.get(f"/account/organisations/{org.id}").get_data(as_text=True)
    assert f"/account/organisations/{org.id}/members/{member.id}/remove" in page
    assert "data-confirm=" in page
    response = client.post(f"/account/organisations/{org.id}/members/{member.id}/remove")
    assert response.status_code == 303
    assert _role(org, member) is None
    event = _audit("organisation.remove_member")[0]
    assert event.actor_id == owner.id and event.details["user_id"] == member.id
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Max Mitglied wurde aus der Organisation entfernt." in html


def test_remove_last_owner_refused(client, login):
    owner, member = f.user(), f.user()
    org = f.organisation(owner=owner, members=[member])
    login(owner)
    page = client.get(f"/account/organisations/{org.id}").get_data(as_text=True)
    assert f"/members/{owner.id}/remove" not in page
    response = client.post(f"/account/organisations/{org.id}/members/{owner.id}/remove")
    assert response.status_code == 303
    assert _role(org, owner) == "owner"
    assert _audit("organisation.remove_member") == []
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "braucht mindestens eine Eigentümerin oder einen Eigentümer" in html


def test_remove_co_owner_when_several_owners(client, login):
    owner, co_owner = f.user(), f.user()
    org = f.organisation(owner=owner)
    org.memberships.append(Membership(user=co_owner, role="owner"))
    db.session.commit()
    login(owner)
    assert client.post(
        f"/account/organisations/{org.id}/members/{co_owner.id}/remove").status_code == 303
    assert _role(org, co_owner) is None and _role(org, owner) == "owner"


def test_remove_member_by_member_refused_403(client, login):
    owner, member, other = f.user(), f.user(), f.user()
    org = f.organisation(owner=owner, members=[member, other])
    login(member)
    assert client.post(
        f"/account/organisations/{org.id}/members/{other.id}/remove").status_code == 403
    assert _role(org, other) == "member"


@pytest.mark.parametrize("role", (None,) + STAFF_ROLES)
def test_remove_member_by_non_member_refused_404(client, login, role):
    owner, member = f.user(), f.user()
    org = f.organisation(owner=owner, members=[member])
    login(f.staff(role) if role else f.user())
    assert client.post(
        f"/account/organisations/{org.id}/members/{member.id}/remove").status_code == 404
    assert _role(org, member) == "member"


def test_remove_member_visitor_redirected(client):
    owner, member = f.user(), f.user()
    org = f.organisation(owner=owner, members=[member])
    assert client.post(
        f"/account/organisations/{org.id}/members/{member.id}/remove").status_code == 302
    assert _role(org, member) == "member"


def test_remove_unknown_member_404(client, login):
    owner, stranger = f.user(), f.user()
    org = f.organisation(owner=owner)
    login(owner)
    assert client.post(
        f"/account/organisations/{org.id}/members/{stranger.id}/remove").status_code == 404
    assert client.post(f"/account/organisations/{org.id}/members/99999/remove").status_code == 404


def test_remove_member_get_not_allowed(client, login):
    owner, member = f.user(), f.user()
    org = f.organisation(owner=owner, members=[member])
    login(owner)
    response = client.get(f"/account/organisations/{org.id}/members/{member.id}/remove")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/account/organisations/{org.id}"
    assert member in [m.user for m in org.memberships]


# ------------------------------------------------------------------ transfer

def test_transfer_ownership_swaps_roles(client, login):
    owner, member = f.user(), f.user(name="Nora Nachfolgerin")
    org = f.organisation(owner=owner, members=[member])
    login(owner)
    page = client.get(f"/account/organisations/{org.id}/transfer").get_data(as_text=True)
    assert "Nora Nachfolgerin" in page and "data-confirm=" in page
    response = client.post(f"/account/organisations/{org.id}/transfer",
                           data={"user_id": str(member.id)})
    assert response.status_code == 303
    assert _role(org, member) == "owner" and _role(org, owner) == "member"
    event = _audit("organisation.transfer_ownership")[0]
    assert event.actor_id == owner.id and event.details["to_user_id"] == member.id
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Nora Nachfolgerin ist jetzt Eigentümerin bzw. Eigentümer der Organisation." in html
    # the former owner is a plain member now
    assert client.get(f"/account/organisations/{org.id}/edit").status_code == 403


@pytest.mark.parametrize("value", ["", "abc", "99999"])
def test_transfer_ownership_bad_choice_422(client, login, value):
    owner, member = f.user(), f.user()
    org = f.organisation(owner=owner, members=[member])
    login(owner)
    response = client.post(f"/account/organisations/{org.id}/transfer", data={"user_id": value})
    assert response.status_code == 422
    assert "Bitte wählen Sie ein Mitglied der Organisation aus." in response.get_data(as_text=True)
    assert _role(org, owner) == "owner" and _role(org, member) == "member"


def test_transfer_ownership_to_outsider_refused(client, login):
    owner, member, outsider = f.user(), f.user(), f.user()
    org = f.organisation(owner=owner, members=[member])
    login(owner)
    response = client.post(f"/account/organisations/{org.id}/transfer",
                           data={"user_id": str(outsider.id)})
    assert response.status_code == 422
    assert _role(org, owner) == "owner" and _role(org, outsider) is None


def test_transfer_ownership_without_other_members_explains(client, login):
    owner = f.user()
    org = f.organisation(owner=owner)
    login(owner)
    page = client.get(f"/account/organisations/{org.id}/transfer")
    assert page.status_code == 200
    assert "Es gibt kein weiteres Mitglied" in page.get_data(as_text=True)
    response = client.post(f"/account/organisations/{org.id}/transfer",
                           data={"user_id": str(owner.id)})
    assert response.status_code == 303
    assert _role(org, owner) == "owner"


def test_transfer_ownership_member_refused_403(client, login):
    owner, member = f.user(), f.user()
    org = f.organisation(owner=owner, members=[member])
    login(member)
    assert client.post(f"/account/organisations/{org.id}/transfer",
                       data={"user_id": str(member.id)}).status_code == 403
    assert _role(org, owner) == "owner" and _role(org, member) == "member"


@pytest.mark.parametrize("role", (None,) + STAFF_ROLES)
def test_transfer_ownership_non_member_refused_404(client, login, role):
    owner, member = f.user(), f.user()
    org = f.organisation(owner=owner, members=[member])
    login(f.staff(role) if role else f.user())
    assert client.post(f"/account/organisations/{org.id}/transfer",
                       data={"user_id": str(member.id)}).status_code == 404
    assert _role(org, member) == "member"


# ------------------------------------------------------------------ leave

def test_leave_member(client, login):
    owner, member = f.user(), f.user()
    org = f.organisation(owner=owner, members=[member], name="Ostsee Daten GmbH")
    login(member)
    response = client.post(f"/account/organisations/{org.id}/leave")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/account/organisations/")
    assert _role(org, member) is None
    assert _audit("organisation.leave")[0].actor_id == member.id
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Sie haben die Organisation „Ostsee Daten GmbH“ verlassen." in html
    assert client.get(f"/account/organisations/{org.id}").status_code == 404


def test_leave_last_owner_refused(client, login):
    owner, member = f.user(), f.user()
    org = f.organisation(owner=owner, members=[member])
    login(owner)
    response = client.post(f"/account/organisations/{org.id}/leave")
    assert response.status_code == 303
    assert _role(org, owner) == "owner"
    assert _audit("organisation.leave") == []
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "braucht mindestens eine Eigentümerin oder einen Eigentümer" in html


def test_leave_owner_when_another_owner_remains(client, login):
    owner, co_owner = f.user(), f.user()
    org = f.organisation(owner=owner)
    org.memberships.append(Membership(user=co_owner, role="owner"))
    db.session.commit()
    login(owner)
    assert client.post(f"/account/organisations/{org.id}/leave").status_code == 303
    assert _role(org, owner) is None and _role(org, co_owner) == "owner"


@pytest.mark.parametrize("role", (None,) + STAFF_ROLES)
def test_leave_non_member_404(client, login, role):
    org = f.organisation(owner=f.user())
    login(f.staff(role) if role else f.user())
    assert client.post(f"/account/organisations/{org.id}/leave").status_code == 404


def test_leave_visitor_redirected(client):
    org = f.organisation(owner=f.user())
    assert client.post(f"/account/organisations/{org.id}/leave").status_code == 302
