"""Who did something, as the viewer may see it: partners never learn who on the staff did what.

`display_actor(actor, viewer, p)` is the one place that decides; every page, fragment, mail and
notification a partner can reach names people through it (templates as the global
`display_actor`). The rule:

- partners (and anyone else who is not, or no longer, on the staff side of `p`) are named;
- staff who may see the staff view of `p` see every name;
- everyone else sees a member of the staff as "InnoLab-Team", or as the role they acted in
  where it matters (`role="dpo"`: "Datenschutzprüfung"), except the pilot's contact person
  (`Proposal.staff_contact`), whom a coordinator chose to be named to the partner.
"""
from __future__ import annotations

from innolab.i18n import lazy_gettext as _l

from sqlalchemy import select

from ..extensions import db
from ..models import FormerMembership, Proposal, Role
from . import permissions

TEAM = _l("InnoLab-Team")
DELETED = _l("gelöschtes Konto")
ROLE_NAMES = {
    Role.DPO.value: _l("Datenschutzprüfung"),
    Role.ISO.value: _l("Prüfung der Informationssicherheit"),
    Role.DECIDER.value: _l("Entscheidung"),
    Role.COORDINATOR.value: _l("Koordination"),
}


def is_partner_side(actor, p: Proposal | None) -> bool:
    """Is `actor` someone partners may see by name: a current or former member of the
    proposing organisation, or its creator; without a proposal, anyone without a staff role.
    Anyone else who acted on a proposal acted for the staff (also if a role was taken back
    since)."""
    if p is None:
        return not actor.is_staff
    if p.organisation.is_member(actor) or p.created_by_id == actor.id:
        return True
    return db.session.execute(
        select(FormerMembership.id).where(FormerMembership.user_id == actor.id,
                                          FormerMembership.organisation_id == p.organisation_id)
        .limit(1)).first() is not None


def sees_staff_names(viewer, p: Proposal | None = None) -> bool:
    if not permissions.is_staff(viewer):
        return False
    return p is None or bool(permissions.view_internal(viewer, p))


def is_contact(actor, p: Proposal | None) -> bool:
    return p is not None and p.staff_contact_id is not None and p.staff_contact_id == actor.id


def display_actor(actor, viewer, p: Proposal | None = None, role: str | None = None) -> str:
    """The name of `actor` (a User or None) as `viewer` may see it on `p`'s pages."""
    if actor is None:
        return str(DELETED)
    if is_partner_side(actor, p) or sees_staff_names(viewer, p) or is_contact(actor, p):
        return actor.name
    return str(ROLE_NAMES.get(role or "", TEAM))


def display_contact(p: Proposal) -> tuple[str, str] | None:
    """The pilot's contact person as partners see them (name, address), if one is named."""
    contact = p.staff_contact
    if contact is None or not contact.active:
        return None
    return contact.name, contact.email
