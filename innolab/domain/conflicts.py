"""Conflicts of interest: the one rule, used by every channel.

A staff member has a conflict of interest with a proposal when they

- declared one (a reviewer on their assignment, anyone else with a `ConflictDeclaration`),
- are a member of the proposing organisation,
- were one (`FormerMembership`, written when a member leaves or is removed), or
- share an e-mail domain with a current member of the organisation. That is a *flag*: a
  coordinator confirms it (then it is a conflict) or clears it with a reason (then it is not);
  until then it counts as a conflict. Public mail providers, reserved names (example.org,
  *.example, *.test, …) and the domains in `CONFLICT_IGNORED_MAIL_DOMAINS` never flag.

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
from . import DomainError, audit
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
    cache = db.session.info.setdefault(_CACHE, {})
    if user.id in cache:
        return cache[user.id]
    result = Ties()
    declared: list[tuple[int, str | None]] = [
        (row[0], row[1]) for row in db.session.execute(
            select(ReviewAssignment.proposal_id, ReviewAssignment.conflict_reason)
            .where(ReviewAssignment.reviewer_id == user.id,
                   ReviewAssignment.conflict_declared_at.is_not(None)))]
    declared += [(row[0], row[1]) for row in db.session.execute(
        select(ConflictDeclaration.proposal_id, ConflictDeclaration.reason)
        .where(ConflictDeclaration.user_id == user.id))]
    for proposal_id, reason in declared:
        result.proposals.setdefault(proposal_id, Conflict(DECLARED, reason))
    domain = mail_domain(user.email)
    if domain_flags(domain):
        assert domain is not None
        decisions = dict(db.session.execute(
            select(DomainFlagDecision.organisation_id, DomainFlagDecision.decision)
            .where(DomainFlagDecision.user_id == user.id, DomainFlagDecision.domain == domain)
        ).all())
        for org_id in db.session.execute(
                select(Membership.organisation_id).join(User, User.id == Membership.user_id)
                .where(_with_domain(domain), Membership.user_id != user.id)).scalars():
            decision = decisions.get(org_id)
            if decision != CLEARED:
                result.organisations[org_id] = Conflict(MAIL_DOMAIN, domain,
                                                        open=decision is None)
    for org_id in db.session.execute(select(FormerMembership.organisation_id)
                                     .where(FormerMembership.user_id == user.id)).scalars():
        result.organisations[org_id] = Conflict(FORMER_MEMBER)
    for org_id in db.session.execute(select(Membership.organisation_id)
                                     .where(Membership.user_id == user.id)).scalars():
        result.organisations[org_id] = Conflict(MEMBER)
    cache[user.id] = result
    return result


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
    return [(u, c) for u in staff if (c := conflict_of(u, p)) is not None]


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
    result = []
    for u in staff:
        domain = mail_domain(u.email)
        if not domain_flags(domain):
            continue
        assert domain is not None
        query = (select(Organisation).join(Membership, Membership.organisation_id
                                           == Organisation.id)
                 .join(User, User.id == Membership.user_id)
                 .where(_with_domain(domain), Membership.user_id != u.id,
                        ~Organisation.id.in_(select(Membership.organisation_id)
                                             .where(Membership.user_id == u.id))))
        if organisation is not None:
            query = query.where(Organisation.id == organisation.id)
        for org in db.session.execute(query).scalars().unique():
            decision = db.session.execute(
                select(DomainFlagDecision).where(
                    DomainFlagDecision.organisation_id == org.id,
                    DomainFlagDecision.user_id == u.id, DomainFlagDecision.domain == domain)
            ).scalar_one_or_none()
            result.append(Flag(u, org, domain, decision))
    return sorted(result, key=lambda f: (not f.open, f.organisation.name.lower(),
                                         f.user.name.lower(), f.user.id))


def open_flag_count() -> int:
    return sum(1 for f in flags() if f.open)


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
