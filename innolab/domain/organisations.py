"""Partner organisations: create, edit, invite by mail, join, remove, hand over, leave.

No Flask request here: the views parse, check the permission, call one function and commit.
Every function that changes something records an audit event; refusals raise DomainError.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import timedelta

from innolab.i18n import lazy_gettext as _l
from flask import url_for

from innolab.links import external_url
from sqlalchemy import func, select

from ..extensions import db
from ..models import Invitation, MemberRole, Membership, Organisation, OrganisationKind, User
from ..models._base import utcnow
from . import (
    DomainError, audit, conflicts, editing, mail_limits, mailer, notifications, permissions,
)
from .locking import lock
from .accounts import hash_token, normalise_email, random_token, user_by_email

INVITATION_DAYS = 14
SLUG_MAX = 200  # the column holds 220: room for a "-<n>" suffix

KIND_LABELS = {
    OrganisationKind.STARTUP.value: _l("Start-up"),
    OrganisationKind.SME.value: _l("KMU"),
    OrganisationKind.RESEARCH.value: _l("Forschungseinrichtung"),
    OrganisationKind.ASSOCIATION.value: _l("Verein oder Verband"),
    OrganisationKind.OTHER.value: _l("Sonstige"),
}

ROLE_LABELS = {
    MemberRole.OWNER.value: _l("Eigentümer/in"),
    MemberRole.MEMBER.value: _l("Mitglied"),
}

PROFILE_FIELDS = ("name", "kind", "website", "city", "description")

PROFILE_LABELS = {
    "name": _l("Name der Organisation"),
    "kind": _l("Art der Organisation"),
    "website": _l("Website"),
    "city": _l("Ort"),
    "description": _l("Beschreibung"),
}

LAST_OWNER = permissions.LAST_OWNER
ALREADY_MEMBER = _l("Diese Person ist bereits Mitglied der Organisation.")


def kind_label(kind: str | None):
    return KIND_LABELS.get(kind or "", kind or "")


def role_label(role: str | None):
    return ROLE_LABELS.get(role or "", role or "")


# ------------------------------------------------------------------ slugs

_TRANSLIT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue",
                           "ß": "ss", "ẞ": "SS"})


def slugify(name: str) -> str:
    """A readable ASCII slug: "Müller & Söhne GmbH" -> "mueller-soehne-gmbh"."""
    text = unicodedata.normalize("NFKD", (name or "").translate(_TRANSLIT))
    text = text.encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    slug = slug[:SLUG_MAX].rstrip("-")
    return slug or "organisation"


def unique_slug(name: str, column=Organisation.slug, connection=None) -> str:
    """The slug of `name`, with "-2", "-3", ... appended when it is taken in `column` (the
    organisations' by default), asked through `connection` (default: the session)."""
    base = slugify(name)
    query = select(column).where((column == base) | column.like(f"{base}-%"))
    taken = set((connection or db.session).execute(query).scalars())
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


# ------------------------------------------------------------------ reading

def organisations_of(user) -> list[Membership]:
    """The memberships of `user`, by organisation name."""
    return list(db.session.execute(
        select(Membership).join(Organisation)
        .where(Membership.user_id == user.id)
        .order_by(func.lower(Organisation.name), Organisation.id)
    ).scalars())


def members(org: Organisation) -> list[Membership]:
    """Owners first, then by name."""
    return sorted(org.memberships,
                  key=lambda m: (m.role != MemberRole.OWNER.value, (m.user.name or "").lower()))


def open_invitations(org: Organisation) -> list[Invitation]:
    return list(db.session.execute(
        select(Invitation)
        .where(Invitation.organisation_id == org.id, Invitation.accepted_at.is_(None),
               Invitation.revoked_at.is_(None), Invitation.expires_at > utcnow())
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
    ).scalars())


def transfer_candidates(org: Organisation, user) -> list[Membership]:
    """Members who could take over ownership from `user`."""
    return [m for m in members(org)
            if m.user_id != getattr(user, "id", None) and m.role != MemberRole.OWNER.value]


# ------------------------------------------------------------------ profile

def _clean(value):
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def create(actor: User, *, name: str, kind: str, website: str | None = None,
           city: str | None = None, description: str | None = None) -> Organisation:
    """A new organisation; `actor` becomes its owner."""
    if kind not in KIND_LABELS:
        raise DomainError(_l("Bitte wählen Sie eine Art der Organisation."))
    name = (name or "").strip()
    if not name:
        raise DomainError(_l("Bitte geben Sie den Namen der Organisation ein."))
    org = Organisation(name=name, slug=unique_slug(name), kind=kind, website=_clean(website),
                       city=_clean(city), description=_clean(description))
    org.memberships.append(Membership(user=actor, role=MemberRole.OWNER.value))
    db.session.add(org)
    db.session.flush()
    audit.record(actor, "organisation.create", org, name=org.name, slug=org.slug)
    return org


def update(org: Organisation, actor: User, seen_version: int | None = None,
           **fields) -> list[str]:
    """Change the profile; returns the names of the changed fields.

    The slug stays as it is, so links to the public page keep working after a rename.
    `seen_version`: the version the form was opened with (editing.EditConflict if another
    owner saved other values since).
    """
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise ValueError(f"not a profile field: {sorted(unknown)}")
    if "kind" in fields and fields["kind"] not in KIND_LABELS:
        raise DomainError(_l("Bitte wählen Sie eine Art der Organisation."))
    if "name" in fields and not _clean(fields["name"]):
        raise DomainError(_l("Bitte geben Sie den Namen der Organisation ein."))
    changed = []
    with editing.edit(EDIT, org, actor, seen_version):
        for key, value in fields.items():
            value = _clean(value)
            if getattr(org, key) != value:
                setattr(org, key, value)
                changed.append(key)
        if changed:
            audit.record(actor, "organisation.update", org, fields=changed)
    return changed


# What an owner edits in the profile form, for domain.editing.
EDIT = editing.Editable(
    fields=lambda org: {name: getattr(org, name) for name in PROFILE_FIELDS},
    labels=lambda org: PROFILE_LABELS,
    show=lambda org, name, value: (str(kind_label(value)) if name == "kind" and value
                                   else editing.show_value(value)))


# ------------------------------------------------------------------ invitations

def invite(org: Organisation, actor: User, email: str) -> Invitation:
    """Invite `email` by mail. An earlier open invitation to the same address is replaced."""
    email = normalise_email(email)
    existing = user_by_email(email)
    if existing is not None and org.is_member(existing):
        raise DomainError(ALREADY_MEMBER)
    now = utcnow()
    for old in open_invitations(org):
        if normalise_email(old.email) == email:
            old.revoked_at = now
    token, token_hash = random_token()
    inv = Invitation(organisation=org, email=email, token_hash=token_hash, invited_by=actor,
                     created_at=now, expires_at=now + timedelta(days=INVITATION_DAYS))
    db.session.add(inv)
    db.session.flush()
    recipient = existing if existing is not None else email
    if mail_limits.allow(email, "invitation"):
        _queue_invitation(org, actor, inv, existing, recipient, token)
    audit.record(actor, "organisation.invite", org, invitation_id=inv.id, email=email)
    return inv


def _queue_invitation(org, actor, inv, existing, recipient, token) -> None:
    mailer.queue(recipient, "invitation",
                 _l("Einladung zur Organisation %(org)s", org=org.name),
                 locale=None if existing is not None else getattr(actor, "locale", None),
                 kind="invitation", organisation=org, invitation=inv, inviter=actor,
                 greeting_name=getattr(existing, "name", None),
                 url=external_url("accounts.join", token=token),
                 register_url=external_url("auth.register"))


def invitation_by_token(token: str, lock: bool = False) -> Invitation | None:
    if not token or len(token) > 200:
        return None
    query = select(Invitation).where(Invitation.token_hash == hash_token(token))
    if lock:
        query = query.with_for_update()
    return db.session.execute(query).scalar_one_or_none()


def invitation_problem(inv: Invitation | None) -> str | None:
    """Why the invitation cannot be used: missing, accepted, revoked, expired; None when open."""
    if inv is None:
        return "missing"
    if inv.accepted_at is not None:
        return "accepted"
    if inv.revoked_at is not None:
        return "revoked"
    if inv.expires_at <= utcnow():
        return "expired"
    return None


INVITATION_PROBLEMS = {
    "missing": _l("Diese Einladung gibt es nicht. Bitte prüfen Sie, ob Sie den Link vollständig "
                  "aus der E-Mail übernommen haben."),
    "accepted": _l("Diese Einladung wurde bereits angenommen. Ein Einladungslink gilt nur "
                   "einmal. Bitten Sie eine Eigentümerin oder einen Eigentümer der Organisation "
                   "um eine neue Einladung."),
    "revoked": _l("Diese Einladung wurde zurückgezogen. Bitte wenden Sie sich an die "
                  "Organisation, wenn Sie dennoch beitreten möchten."),
    "expired": _l("Diese Einladung ist abgelaufen. Einladungen gelten %(days)d Tage. Bitten Sie "
                  "eine Eigentümerin oder einen Eigentümer der Organisation um eine neue "
                  "Einladung.", days=INVITATION_DAYS),
}


def invitations_for(user: User) -> list[Invitation]:
    """Open invitations to the confirmed address of `user`, to organisations they are not a
    member of yet: the mailbox was proved, so the link itself is not needed to accept them."""
    if not getattr(user, "email_confirmed", False):
        return []
    found = db.session.execute(
        select(Invitation).where(func.lower(Invitation.email) == normalise_email(user.email),
                                 Invitation.accepted_at.is_(None),
                                 Invitation.revoked_at.is_(None),
                                 Invitation.expires_at > utcnow())
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
    ).scalars().all()
    return [inv for inv in found if not inv.organisation.is_member(user)]


def accept(inv: Invitation, user: User) -> Membership:
    """`user` joins the organisation as a member; the invitation is used up."""
    lock(inv.organisation, inv)
    problem = invitation_problem(inv)
    if problem is not None:
        raise DomainError(INVITATION_PROBLEMS[problem])
    org = inv.organisation
    if org.is_member(user):
        raise DomainError(_l("Sie sind bereits Mitglied dieser Organisation."))
    inv.accepted_at = utcnow()
    membership = Membership(user=user, role=MemberRole.MEMBER.value)
    org.memberships.append(membership)
    audit.record(user, "organisation.join", org, invitation_id=inv.id, invited_email=inv.email)
    owners = [m.user for m in org.memberships
              if m.role == MemberRole.OWNER.value and m.user is not None and m.user.id != user.id]
    notifications.notify(owners, "member_joined", params={"org": org.name, "name": user.name},
                         link=url_for("accounts.organisation", org_id=org.id))
    return membership


def revoke(inv: Invitation, actor: User) -> None:
    lock(inv.organisation, inv)
    if invitation_problem(inv) is not None:
        raise DomainError(_l("Diese Einladung ist nicht mehr offen."))
    inv.revoked_at = utcnow()
    audit.record(actor, "organisation.revoke_invitation", inv.organisation,
                 invitation_id=inv.id, email=inv.email)


# ------------------------------------------------------------------ members

def remove_member(org: Organisation, actor: User, membership: Membership) -> None:
    lock(org)
    if permissions.is_last_owner(org, membership.user):
        raise DomainError(LAST_OWNER)
    user_id, email = membership.user_id, membership.user.email
    conflicts.record_departure(membership, "removed")
    org.memberships.remove(membership)
    audit.record(actor, "organisation.remove_member", org, user_id=user_id, email=email)


def leave(org: Organisation, user: User) -> None:
    lock(org)
    membership = org.membership_of(user)
    if membership is None:
        raise DomainError(_l("Sie sind nicht Mitglied dieser Organisation."))
    if permissions.is_last_owner(org, user):
        raise DomainError(LAST_OWNER)
    conflicts.record_departure(membership, "left")
    org.memberships.remove(membership)
    audit.record(user, "organisation.leave", org)


def transfer_ownership(org: Organisation, actor: User, target: Membership) -> None:
    """`target` becomes owner; `actor` (an owner) becomes a member."""
    lock(org)
    mine = org.membership_of(actor)
    if mine is None or mine.role != MemberRole.OWNER.value:
        raise DomainError(_l("Nur Eigentümerinnen und Eigentümer der Organisation dürfen das."))
    if target.organisation_id != org.id or target.user_id == actor.id:
        raise DomainError(_l("Bitte wählen Sie ein anderes Mitglied der Organisation."))
    if target.role == MemberRole.OWNER.value:
        raise DomainError(_l("Diese Person ist bereits Eigentümerin oder Eigentümer."))
    target.role = MemberRole.OWNER.value
    mine.role = MemberRole.MEMBER.value
    audit.record(actor, "organisation.transfer_ownership", org, to_user_id=target.user_id,
                 from_user_id=actor.id)
