"""Rules of the organisations domain, without the web layer."""
from __future__ import annotations

from datetime import timedelta

import pytest

from innolab.domain import DomainError
from innolab.domain import organisations as orgs
from innolab.extensions import db
from innolab.models import AuditEvent, Membership
from innolab.models._base import utcnow
from tests import factories as f

pytestmark = pytest.mark.usefixtures("app_ctx")


@pytest.mark.parametrize("name,slug", [
    ("Küstenlicht Software GmbH", "kuestenlicht-software-gmbh"),
    ("Müller & Söhne – Straße 5", "mueller-soehne-strasse-5"),
    ("  Ärger?!  ", "aerger"),
    ("Café Crème e. V.", "cafe-creme-e-v"),
    ("!!!", "organisation"),
    ("東京", "organisation"),
])
def test_slugify_readable_ascii(name, slug):
    assert orgs.slugify(name) == slug


def test_slugify_long_name_is_cut():
    slug = orgs.slugify("a" * 150 + " " + "b" * 150)
    assert len(slug) <= orgs.SLUG_MAX and not slug.endswith("-")


def test_unique_slug_counts_up_on_clash():
    f.organisation(owner=f.user()).slug = "nordlicht"
    db.session.commit()
    assert orgs.unique_slug("Nordlicht") == "nordlicht-2"
    f.organisation(owner=f.user()).slug = "nordlicht-2"
    db.session.commit()
    assert orgs.unique_slug("Nordlicht") == "nordlicht-3"
    assert orgs.unique_slug("Nordlichter") == "nordlichter"


def test_create_makes_actor_owner_and_records_audit():
    me = f.user()
    org = orgs.create(me, name=" Nordlicht ", kind="sme", website="", city=" ", description=None)
    db.session.commit()
    assert org.name == "Nordlicht" and org.slug == "nordlicht"
    assert org.website is None and org.city is None
    assert org.is_owner(me)
    assert db.session.query(AuditEvent).filter_by(action="organisation.create").count() == 1


def test_create_unknown_kind_refused():
    with pytest.raises(DomainError):
        orgs.create(f.user(), name="Nordlicht", kind="konzern")


def test_update_returns_changed_fields_only():
    owner = f.user()
    org = f.organisation(owner=owner, name="Nordlicht", kind="startup")
    assert orgs.update(org, owner, name="Nordlicht", kind="startup") == []
    assert orgs.update(org, owner, name="Südlicht", city="") == ["name", "city"]
    assert org.city is None
    with pytest.raises(ValueError):
        orgs.update(org, owner, slug="anders")


def _invitation(org, owner, **kw):
    inv = orgs.invite(org, owner, "neu@example.org")
    for key, value in kw.items():
        setattr(inv, key, value)
    db.session.commit()
    return inv


def test_invitation_problem_states():
    owner = f.user()
    org = f.organisation(owner=owner)
    assert orgs.invitation_problem(None) == "missing"
    assert orgs.invitation_problem(_invitation(org, owner)) is None
    assert orgs.invitation_problem(
        _invitation(org, owner, expires_at=utcnow() - timedelta(seconds=1))) == "expired"
    assert orgs.invitation_problem(_invitation(org, owner, revoked_at=utcnow())) == "revoked"
    assert orgs.invitation_problem(_invitation(org, owner, accepted_at=utcnow())) == "accepted"


def test_accept_is_single_use():
    owner = f.user()
    org = f.organisation(owner=owner)
    inv = _invitation(org, owner)
    first, second = f.user(), f.user()
    orgs.accept(inv, first)
    db.session.commit()
    assert org.membership_of(first).role == "member"
    with pytest.raises(DomainError):
        orgs.accept(inv, second)
    assert not org.is_member(second)


def test_accept_by_member_refused_and_invitation_stays_open():
    owner = f.user()
    org = f.organisation(owner=owner)
    inv = _invitation(org, owner)
    with pytest.raises(DomainError):
        orgs.accept(inv, owner)
    assert inv.is_open


def test_invite_token_lookup_by_hash_only():
    owner = f.user()
    org = f.organisation(owner=owner)
    inv = _invitation(org, owner)
    assert orgs.invitation_by_token(inv.token_hash) is None  # the stored hash is no token
    assert orgs.invitation_by_token("") is None


def test_remove_last_owner_refused():
    owner, member = f.user(), f.user()
    org = f.organisation(owner=owner, members=[member])
    with pytest.raises(DomainError):
        orgs.remove_member(org, owner, org.membership_of(owner))
    with pytest.raises(DomainError):
        orgs.leave(org, owner)
    orgs.remove_member(org, owner, org.membership_of(member))
    db.session.commit()
    assert not org.is_member(member)


def test_transfer_ownership_swaps_roles():
    owner, member = f.user(), f.user()
    org = f.organisation(owner=owner, members=[member])
    assert [m.user_id for m in orgs.transfer_candidates(org, owner)] == [member.id]
    orgs.transfer_ownership(org, owner, org.membership_of(member))
    db.session.commit()
    assert org.is_owner(member) and not org.is_owner(owner) and org.is_member(owner)
    with pytest.raises(DomainError):  # no longer an owner
        orgs.transfer_ownership(org, owner, org.membership_of(member))


def test_transfer_ownership_to_self_or_owner_refused():
    owner, co_owner = f.user(), f.user()
    org = f.organisation(owner=owner)
    org.memberships.append(Membership(user=co_owner, role="owner"))
    db.session.commit()
    with pytest.raises(DomainError):
        orgs.transfer_ownership(org, owner, org.membership_of(owner))
    with pytest.raises(DomainError):
        orgs.transfer_ownership(org, owner, org.membership_of(co_owner))


def test_members_owners_first():
    owner = f.user(name="Zoe Zander")
    org = f.organisation(owner=owner, members=[f.user(name="Anna Albers")])
    assert [m.user.name for m in orgs.members(org)] == ["Zoe Zander", "Anna Albers"]
