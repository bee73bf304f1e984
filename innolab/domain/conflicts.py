"""Conflicts of interest: the one rule, used by every channel.

A staff member has a conflict of interest with a proposal when they

- declared one (a reviewer on their assignment, anyone else with a `ConflictDeclaration`),
- are a member of the proposing organisation,
- were one (`FormerMembership`, written when a member leaves or is removed), or
- share an e-mail domain with a current member of the organisation. That is a *flag*: a
  coordinator confirms it (then it is a conflict) or clears it with a reason (then it is not);
  until then it counts as a conflict. Public mail providers, reserved names (example.org,
  *.example, *.test, …) and the domains in `CONFLICT_IGNORED_MAIL_DOMAINS` never flag.

A shared surname with a contact person is only a *hint* (`surname_hints`): the coordinator
sees it before assigning, the assignment suggestion avoids it, and the reviewer confirms or
declares before they see any content (`permissions.awaiting_confirmation`).

`ties(user)` is the rule: everything that ties a staff member to proposals and
organisations. `conflict_of(user, p)` asks it about one proposal (also for rows not yet
committed), `not_conflicted(user)` turns it into a condition for the lists, searches, counts
and exports. Partners have no conflicts: a member sees their organisation's proposals as a
member, never the staff side.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app
from innolab.i18n import lazy_gettext as _l
from sqlalchemy import event, false, func, not_, or_, select, true
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import (
    ConflictDeclaration, DomainFlagDecision, FormerMembership, Membership, Organisation, Proposal,
    ReviewAssignment, TimelineEntry, User, UserRole,
)
from ..models._base import utcnow
from . import DomainError, audit, changes
from .locking import lock
from .search import ESCAPE, escape_like


class ConflictRefused(DomainError):
    pass


DECLARED, MEMBER, FORMER_MEMBER, MAIL_DOMAIN = "declared", "member", "former_member", "mail_domain"
CONFIRMED, CLEARED = "confirmed", "cleared"

KIND_LABELS = {
    DECLARED: _l("selbst erklärt"),
    MEMBER: _l("Mitglied der vorschlagenden Organisation"),
    FORMER_MEMBER: _l("früheres Mitglied der vorschlagenden Organisation"),
    MAIL_DOMAIN: _l("gleiche E-Mail-Domain wie ein Mitglied der Organisation"),
}

# Mail domains many unrelated people share: a match says nothing about a tie.
PUBLIC_MAIL_DOMAINS = frozenset({
    "gmail.com", "googlemail.com", "outlook.com", "outlook.de", "hotmail.com", "hotmail.de",
    "live.com", "live.de", "msn.com", "yahoo.com", "yahoo.de", "ymail.com", "icloud.com",
    "me.com", "mac.com", "aol.com", "aol.de", "gmx.de", "gmx.net", "gmx.at", "gmx.ch",
    "gmx.com", "web.de", "t-online.de", "freenet.de", "posteo.de", "posteo.net",
    "mailbox.org", "protonmail.com", "proton.me", "tutanota.com", "tutanota.de", "tuta.io",
    "arcor.de", "online.de", "vodafone.de", "1und1.de", "magenta.de", "email.de", "mail.de",
    "kabelmail.de", "unitybox.de", "zoho.com", "yandex.com", "mail.ru", "gmx.eu",
})
# Names reserved for documentation and tests (RFC 2606, RFC 6761): never a real organisation.
RESERVED_DOMAINS = frozenset({"example.org", "example.com", "example.net", "localhost"})
RESERVED_SUFFIXES = (".example", ".test", ".invalid", ".localhost", ".local")


@dataclass(frozen=True)
class Conflict:
    """One tie of a staff member to a proposal; `open` for a domain flag not yet decided."""

    kind: str
    detail: str | None = None   # the declared reason, or the shared domain
    open: bool = False

    @property
    def label(self):
        return KIND_LABELS[self.kind]

    @property
    def refusal(self):
        """What the staff member reads instead of the proposal."""
        return _l("Sie haben einen Interessenkonflikt mit diesem Vorschlag (%(why)s). Sie sehen "
                  "deshalb nichts Internes davon; jeden Schritt daran – Begutachtung, Prüfung, "
                  "Entscheidung, Koordination – muss eine andere Person übernehmen.",
                  why=self.label)


@dataclass
class Ties:
    proposals: dict[int, Conflict] = field(default_factory=dict)       # declared
    organisations: dict[int, Conflict] = field(default_factory=dict)   # the other kinds

    def of(self, p: Proposal) -> Conflict | None:
        return self.organisations.get(p.organisation_id) or self.proposals.get(p.id)


# ---------------------------------------------------------------- e-mail domains


def mail_domain(email: str | None) -> str | None:
    if not email or "@" not in email:
        return None
    return email.rsplit("@", 1)[1].strip().lower() or None


def domain_flags(domain: str | None) -> bool:
    """Does a shared `domain` raise a flag? Not for public providers and reserved names."""
    if not domain:
        return False
    ignored = set(current_app.config.get("CONFLICT_IGNORED_MAIL_DOMAINS") or ())
    return not (domain in PUBLIC_MAIL_DOMAINS or domain in RESERVED_DOMAINS or domain in ignored
                or domain.endswith(RESERVED_SUFFIXES))


def _flagging_domains(users) -> dict[int, str]:
    """The mail domains of `users` that raise a flag when shared, by user id."""
    result = {}
    for u in users:
        domain = mail_domain(u.email)
        if domain is not None and domain_flags(domain):
            result[u.id] = domain
    return result


def _with_domain(domain: str):
    return func.lower(User.email).like("%@" + escape_like(domain), escape=ESCAPE)


# ---------------------------------------------------------------- the rule

_CACHE = "innolab.conflict_ties"


@event.listens_for(Session, "after_flush")
@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _forget(session, *args) -> None:
    """Whatever was written (or undone) may change a tie: ask again."""
    session.info.pop(_CACHE, None)


def _is_staff(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "is_staff", False))


def ties(user) -> Ties:
    """Everything that ties the staff member `user` to proposals and organisations: the rule
    of conflicts of interest (kept for the session until something is written)."""
    if not _is_staff(user):
        return Ties()
    return ties_of([user])[user.id]


def ties_of(users) -> dict[int, Ties]:
    """`ties` of several staff members at once, by user id, in the same few queries as for
    one (the lists that ask about every reviewer or staff member); kept like `ties`."""
    cache = db.session.info.setdefault(_CACHE, {})
    staff = {u.id: u for u in users if _is_staff(u)}
    missing = [uid for uid in staff if uid not in cache]
    if missing:
        result = {uid: Ties() for uid in missing}
        declared = list(db.session.execute(
            select(ReviewAssignment.reviewer_id, ReviewAssignment.proposal_id,
                   ReviewAssignment.conflict_reason)
            .where(ReviewAssignment.reviewer_id.in_(missing),
                   ReviewAssignment.conflict_declared_at.is_not(None))
            .order_by(ReviewAssignment.id)))
        declared += list(db.session.execute(
            select(ConflictDeclaration.user_id, ConflictDeclaration.proposal_id,
                   ConflictDeclaration.reason)
            .where(ConflictDeclaration.user_id.in_(missing))
            .order_by(ConflictDeclaration.id)))
        for uid, proposal_id, reason in declared:
            result[uid].proposals.setdefault(proposal_id, Conflict(DECLARED, reason))
        domains = _flagging_domains(staff[uid] for uid in missing)
        if domains:
            decisions = {(row.user_id, row.organisation_id): row.decision
                         for row in db.session.execute(
                             select(DomainFlagDecision.user_id,
                                    DomainFlagDecision.organisation_id,
                                    DomainFlagDecision.decision, DomainFlagDecision.domain)
                             .where(DomainFlagDecision.user_id.in_(sorted(domains))))
                         if row.domain == domains[row.user_id]}
            for domain in sorted(set(domains.values())):
                members: dict[int, set[int]] = {}  # organisation: its members of the domain
                for org_id, member_id in db.session.execute(
                        select(Membership.organisation_id, Membership.user_id)
                        .join(User, User.id == Membership.user_id)
                        .where(_with_domain(domain))):
                    members.setdefault(org_id, set()).add(member_id)
                for uid in (u for u, d in domains.items() if d == domain):
                    for org_id, member_ids in members.items():
                        if not member_ids - {uid}:
                            continue  # only the staff member themself
                        decision = decisions.get((uid, org_id))
                        if decision != CLEARED:
                            result[uid].organisations[org_id] = Conflict(
                                MAIL_DOMAIN, domain, open=decision is None)
        for uid, org_id in db.session.execute(
                select(FormerMembership.user_id, FormerMembership.organisation_id)
                .where(FormerMembership.user_id.in_(missing))):
            result[uid].organisations[org_id] = Conflict(FORMER_MEMBER)
        for uid, org_id in db.session.execute(
                select(Membership.user_id, Membership.organisation_id)
                .where(Membership.user_id.in_(missing))):
            result[uid].organisations[org_id] = Conflict(MEMBER)
        cache.update(result)
    return {uid: cache[uid] for uid in staff}


def conflict_of(user, p: Proposal) -> Conflict | None:
    """The staff member's conflict of interest with `p`, or None. Also sees what is loaded on
    the proposal but not yet committed (its memberships, assignments and declarations)."""
    if not _is_staff(user):
        return None
    if p.organisation is not None and p.organisation.is_member(user):
        return Conflict(MEMBER)
    for a in p.assignments:
        if a.reviewer_id == user.id and a.conflict_declared_at is not None:
            return Conflict(DECLARED, a.conflict_reason)
    for d in p.conflict_declarations:
        if d.user_id == user.id:
            return Conflict(DECLARED, d.reason)
    return ties(user).of(p)


def not_conflicted(user):
    """A condition on `Proposal` for queries: the proposals `user` has no conflict with."""
    if not _is_staff(user):
        return true()
    t = ties(user)
    conditions = []
    if t.proposals:
        conditions.append(Proposal.id.in_(sorted(t.proposals)))
    if t.organisations:
        conditions.append(Proposal.organisation_id.in_(sorted(t.organisations)))
    return not_(or_(*conditions)) if conditions else true()


def conflicted_proposal_ids(user, *, as_member: bool = True):
    """A SELECT of the ids of the proposals `user` has a conflict with; `as_member=False`
    leaves out those of the user's own organisations (where they read as a member)."""
    if not _is_staff(user):
        return select(Proposal.id).where(false())
    t = ties(user)
    orgs = [o for o, c in t.organisations.items() if as_member or c.kind != MEMBER]
    conditions = []
    if t.proposals:
        conditions.append(Proposal.id.in_(sorted(t.proposals)))
    if orgs:
        conditions.append(Proposal.organisation_id.in_(sorted(orgs)))
    return select(Proposal.id).where(or_(*conditions) if conditions else false())


def conflicted_staff(p: Proposal) -> list[tuple[User, Conflict]]:
    """Every active staff member with a conflict with `p`, by name (for the coordinators)."""
    staff = db.session.execute(
        select(User).join(UserRole).where(User.active.is_(True)).order_by(User.name, User.id)
    ).scalars().unique().all()
    ties_of(staff)  # everyone's ties at once; conflict_of reads them
    return [(u, c) for u in staff if (c := conflict_of(u, p)) is not None]


# ---------------------------------------------------------------- surnames (a hint only)


def surname(name: str | None) -> str | None:
    """The last word of a name, compared without case ("Müller" = "MÜLLER");
    None for a name of one letter or none."""
    if not name:
        return None
    words = [w.strip(".,;()") for w in name.split()]
    words = [w for w in words if w]
    if not words or len(words[-1]) < 2:
        return None
    return words[-1].casefold()


def surname_hints(p: Proposal, users) -> dict[int, str]:
    """The staff members among `users` who share a surname with a contact person of `p` (its
    named contact or a member of its organisation), by user id, with the surname as written
    there. Not a conflict of interest, a hint for the coordinator before assigning (people
    share names by chance); the assignment suggestion leaves them out."""
    people = [p.contact_name] + [name for (name,) in db.session.execute(
        select(User.name).join(Membership, Membership.user_id == User.id)
        .where(Membership.organisation_id == p.organisation_id))]
    written: dict[str, str] = {}
    for name in people:
        key = surname(name)
        if key is not None and name:
            written.setdefault(key, name.split()[-1].strip(".,;()"))
    result = {}
    for u in users:
        key = surname(u.name)
        if key is not None and key in written:
            result[u.id] = written[key]
    return result


# ---------------------------------------------------------------- declaring


def declare(p: Proposal, user, reason: str) -> ConflictDeclaration:
    """A staff member without a review assignment declares a conflict of interest (reviewers
    declare it on their assignment, review.declare_conflict)."""
    lock(p)
    reason = (reason or "").strip()
    if not reason:
        raise ConflictRefused(_l("Bitte nennen Sie den Grund für den Interessenkonflikt."))
    if any(d.user_id == user.id for d in p.conflict_declarations):
        raise ConflictRefused(_l("Sie haben bereits einen Interessenkonflikt erklärt."))
    declaration = ConflictDeclaration(proposal_id=p.id, user_id=user.id, reason=reason)
    p.conflict_declarations.append(declaration)
    db.session.add(TimelineEntry(proposal=p, actor_id=user.id, action="conflict_declared",
                                 from_status=p.status, to_status=p.status, message=user.name,
                                 internal=True))
    db.session.flush()
    audit.record(user, "conflict.declare", p, reference=p.reference)
    return declaration


# ---------------------------------------------------------------- memberships that end


def record_departure(membership: Membership, how: str) -> FormerMembership:
    """Keep the trace of a membership that ends (called before the row is removed)."""
    former = FormerMembership(organisation_id=membership.organisation_id,
                              user_id=membership.user_id, role=membership.role,
                              joined_at=membership.created_at, how=how)
    db.session.add(former)
    return former


# ---------------------------------------------------------------- e-mail domain flags


@dataclass
class Flag:
    """A staff member who shares an e-mail domain with a member of an organisation."""

    user: User
    organisation: Organisation
    domain: str
    decision: DomainFlagDecision | None

    @property
    def open(self) -> bool:
        return self.decision is None

    @property
    def conflict(self) -> bool:
        return self.decision is None or self.decision.decision == CONFIRMED


def flags(organisation: Organisation | None = None) -> list[Flag]:
    """Every shared domain between an active staff member and a member of an organisation
    (of `organisation` only, if given): open ones first, then by organisation and name."""
    staff = db.session.execute(
        select(User).join(UserRole).where(User.active.is_(True)).order_by(User.name, User.id)
    ).scalars().unique().all()
    domains = _flagging_domains(staff)
    if not domains:
        return []
    flagged = [u for u in staff if u.id in domains]
    ids = sorted(domains)
    own: dict[int, set[int]] = {}  # the staff members' own organisations (never a flag)
    for uid, org_id in db.session.execute(
            select(Membership.user_id, Membership.organisation_id)
            .where(Membership.user_id.in_(ids))):
        own.setdefault(uid, set()).add(org_id)
    decisions = {(d.user_id, d.organisation_id, d.domain): d for d in db.session.execute(
        select(DomainFlagDecision).where(DomainFlagDecision.user_id.in_(ids))).scalars()}
    members: dict[str, dict[int, set[int]]] = {}  # domain: organisation: its members of it
    for domain in sorted(set(domains.values())):
        query = (select(Membership.organisation_id, Membership.user_id)
                 .join(User, User.id == Membership.user_id).where(_with_domain(domain)))
        if organisation is not None:
            query = query.where(Membership.organisation_id == organisation.id)
        for org_id, member_id in db.session.execute(query):
            members.setdefault(domain, {}).setdefault(org_id, set()).add(member_id)
    org_ids = sorted({o for by_org in members.values() for o in by_org})
    orgs = {o.id: o for o in db.session.execute(
        select(Organisation).where(Organisation.id.in_(org_ids))).scalars()} if org_ids else {}
    result = []
    for u in flagged:
        domain = domains[u.id]
        for org_id, member_ids in members.get(domain, {}).items():
            if not member_ids - {u.id} or org_id in own.get(u.id, set()):
                continue
            result.append(Flag(u, orgs[org_id], domain, decisions.get((u.id, org_id, domain))))
    return sorted(result, key=lambda f: (not f.open, f.organisation.name.lower(),
                                         f.user.name.lower(), f.user.id))


_open_flags: changes.Kept[int] = changes.Kept(60, 1)


def open_flag_count() -> int:
    """How many flags wait for a decision (the inbox's notice), kept while nothing changes."""
    return changes.derived(_open_flags, "open",
                           lambda: sum(1 for f in flags() if f.open))


def decide_flag(organisation: Organisation, user: User, decision: str, reason: str,
                actor) -> DomainFlagDecision:
    """A coordinator confirms (a conflict) or clears (none) a shared-domain flag, with the
    reason; audited. Never for a flag about themselves, nor about an organisation they are
    tied to themselves: another coordinator decides those."""
    lock(organisation)
    reason = (reason or "").strip()
    if decision not in (CONFIRMED, CLEARED):
        raise ConflictRefused(_l("Bitte wählen Sie: bestätigen oder aufheben."))
    if not reason:
        raise ConflictRefused(_l("Bitte begründen Sie die Entscheidung."))
    if getattr(actor, "id", None) == user.id:
        raise ConflictRefused(_l("Über einen Hinweis, der Sie selbst betrifft, entscheidet eine "
                                 "andere Person der Koordination."))
    if organisation.id in ties(actor).organisations:
        raise ConflictRefused(_l("Sie sind selbst mit dieser Organisation verbunden; über den "
                                 "Hinweis entscheidet eine andere Person der Koordination."))
    flag = next((f for f in flags(organisation) if f.user.id == user.id), None)
    if flag is None:
        raise ConflictRefused(_l("Diesen Hinweis gibt es nicht mehr: die E-Mail-Domains "
                                 "stimmen nicht mehr überein."))
    row = flag.decision
    if row is None:
        row = DomainFlagDecision(organisation_id=organisation.id, user_id=user.id,
                                 domain=flag.domain, decision=decision, reason=reason)
        db.session.add(row)
    row.decision, row.reason = decision, reason
    row.decided_by_id, row.decided_at = actor.id, utcnow()
    db.session.flush()
    audit.record(actor, f"conflict.flag_{decision}", organisation, user_id=user.id,
                 domain=flag.domain, reason=reason)
    return row
