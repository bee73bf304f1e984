"""What the public sees: the ONLY place that decides what is public.

Every query of the showcase goes through this module. A pilot leaves it only as a
`PublicPilot`, which carries the public fields and nothing else, so a template cannot
show a private field by mistake (problem, solution, contact data, reviews, attachments).

Rules (also in docs/development.md, "What is public"):
- a challenge is public once published (status published or closed; drafts never);
- a pilot is public only when its status is approved, running or completed AND the
  partner agreed to publication AND a coordinator published it (published_at set);
  nothing of a rejected, withdrawn, cancelled or not yet decided proposal is public;
- an organisation's profile (what the partner entered for display) is public, with its
  public pilots only; never its members or their contact data.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeGuard

from sqlalchemy import Select, and_, exists, false, func, or_, select, true
from sqlalchemy.orm import joinedload, lazyload

from ..extensions import db
from . import paging, search
from ..models import (
    Authority, Challenge, ChallengeStatus, Organisation, Proposal, ResultsReport, Status, Topic,
)

PUBLIC_CHALLENGE_STATES = (ChallengeStatus.PUBLISHED.value, ChallengeStatus.CLOSED.value)
PUBLIC_PILOT_STATES = (Status.APPROVED.value, Status.RUNNING.value, Status.COMPLETED.value)

OPEN = "open"
CLOSED = "closed"
PER_PAGE = 10


# ---------------------------------------------------------------- rules, as SQL and as Python


def public_challenge_clause():
    return Challenge.status.in_(PUBLIC_CHALLENGE_STATES)


def is_public_challenge(c: Challenge | None) -> bool:
    return c is not None and c.status in PUBLIC_CHALLENGE_STATES


def public_pilot_clause():
    return and_(
        Proposal.status.in_(PUBLIC_PILOT_STATES),
        Proposal.publication_consent.is_(True),
        Proposal.published_at.is_not(None),
    )


# What a public pilot loads with it: its organisation and challenge (joined) and topics, but
# never the organisation's members, their accounts and roles, which no public page shows
# (they are loaded only if something asks for them, e.g. the header of a signed-in member).
PUBLIC_PILOT_LOAD = (joinedload(Proposal.organisation).lazyload(Organisation.memberships),)


def is_public_pilot(p: Proposal | None) -> TypeGuard[Proposal]:
    return (p is not None and p.status in PUBLIC_PILOT_STATES and bool(p.publication_consent)
            and p.published_at is not None)


def is_public_organisation(org: Organisation | None) -> TypeGuard[Organisation]:
    """The profile is what the partner entered for display; members are never shown."""
    return org is not None


def challenge_state(c: Challenge, today: date | None = None) -> str:
    """"open" (published, deadline not passed) or "closed" (closed or deadline passed)."""
    return OPEN if c.is_open(today) else CLOSED


def _open_clause(today: date):
    return and_(Challenge.status == ChallengeStatus.PUBLISHED.value, Challenge.deadline >= today)


# What the search box of the challenges looks in: the public texts in both languages (a
# short list, searched as text; pilots have the full-text search of domain/search.py).
CHALLENGE_TEXTS = (Challenge.title, Challenge.title_en, Challenge.summary, Challenge.summary_en)


def _search(columns, q: str | None):
    q = (q or "").strip()
    if not q:
        return true()
    return or_(*(search.contains(col, q) for col in columns))


# ---------------------------------------------------------------- public views of objects


@dataclass(frozen=True)
class PublicOrganisation:
    id: int
    name: str
    slug: str
    kind: str
    city: str | None
    website: str | None
    description: str | None

    @classmethod
    def of(cls, org: Organisation) -> PublicOrganisation:
        return cls(id=org.id, name=org.name, slug=org.slug, kind=org.kind, city=org.city,
                   website=_http_url(org.website), description=org.description)


@dataclass(frozen=True)
class PublicPilot:
    """The public fields of a pilot, and nothing else."""

    id: int
    title: str
    summary: str | None
    status: str
    organisation: PublicOrganisation
    authority: Authority | None
    challenge: Challenge | None  # only when the challenge itself is public
    topics: tuple[Topic, ...]
    pilot_start_date: date | None
    published_at: datetime | None
    # The same texts in English, if the partner wrote them (innolab.i18n.localized picks one).
    title_en: str | None = None
    summary_en: str | None = None

    @classmethod
    def of(cls, p: Proposal) -> PublicPilot:
        if not is_public_pilot(p):
            raise ValueError("not a public pilot")
        challenge = p.challenge if is_public_challenge(p.challenge) else None
        return cls(id=p.id, title=p.title, summary=p.public_summary, status=p.status,
                   organisation=PublicOrganisation.of(p.organisation),
                   authority=challenge.authority if challenge else None,
                   challenge=challenge, topics=tuple(p.topics),
                   pilot_start_date=p.pilot_start_date, published_at=p.published_at,
                   title_en=p.title_en, summary_en=p.public_summary_en)


def _http_url(url: str | None) -> str | None:
    """Only http(s) links leave the showcase (never javascript: or the like)."""
    if url and url.strip().lower().startswith(("http://", "https://")):
        return url.strip()
    return None


# ---------------------------------------------------------------- challenges


@dataclass
class ChallengeFilter:
    q: str | None = None
    status: str | None = None  # OPEN | CLOSED
    topic: str | None = None  # topic slug
    authority: int | None = None  # authority id


def challenges_query(f: ChallengeFilter | None = None, today: date | None = None) -> Select:
    f = f or ChallengeFilter()
    today = today or date.today()
    stmt = select(Challenge).where(public_challenge_clause(),
                                   _search(CHALLENGE_TEXTS, f.q))
    if f.status == OPEN:
        stmt = stmt.where(_open_clause(today))
    elif f.status == CLOSED:
        stmt = stmt.where(~_open_clause(today))
    if f.topic:
        stmt = stmt.where(Challenge.topics.any(Topic.slug == f.topic))
    if f.authority:
        stmt = stmt.where(Challenge.authority_id == f.authority)
    # open ones first, newest first
    return stmt.order_by(_open_clause(today).desc(), Challenge.published_at.desc(),
                         Challenge.id.desc())


def search_challenges(f: ChallengeFilter | None = None, page: int = 1, per_page: int = PER_PAGE,
                      today: date | None = None):
    return db.paginate(challenges_query(f, today), page=page, per_page=per_page,
                       error_out=False)


def public_challenge(challenge_id: int) -> Challenge | None:
    c = db.session.get(Challenge, challenge_id)
    return c if is_public_challenge(c) else None


def newest_challenges(limit: int = 50) -> list[Challenge]:
    """The newest public challenges, open or closed (for the Atom feed)."""
    stmt = (select(Challenge).where(public_challenge_clause())
            .order_by(Challenge.published_at.desc(), Challenge.id.desc()).limit(limit))
    return list(db.session.execute(stmt).scalars().unique())


def newest_open_challenges(limit: int = 3, today: date | None = None) -> list[Challenge]:
    today = today or date.today()
    stmt = (select(Challenge).where(_open_clause(today))
            .order_by(Challenge.published_at.desc(), Challenge.id.desc()).limit(limit))
    return list(db.session.execute(stmt).scalars().unique())


# ---------------------------------------------------------------- pilots


@dataclass
class PilotFilter:
    q: str | None = None
    status: str | None = None  # one of PUBLIC_PILOT_STATES
    topic: str | None = None
    authority: int | None = None
    organisation_id: int | None = None
    challenge_id: int | None = None


def pilots_query(f: PilotFilter | None = None) -> Select:
    f = f or PilotFilter()
    match, rank = search.proposal_match(f.q)
    stmt = select(Proposal).where(public_pilot_clause(), match).options(*PUBLIC_PILOT_LOAD)
    if f.status:
        stmt = stmt.where(Proposal.status == f.status) if f.status in PUBLIC_PILOT_STATES \
            else stmt.where(false())
    if f.topic:
        stmt = stmt.where(Proposal.topics.any(Topic.slug == f.topic))
    if f.authority:
        stmt = stmt.where(Proposal.challenge.has(and_(Challenge.authority_id == f.authority,
                                                      public_challenge_clause())))
    if f.organisation_id:
        stmt = stmt.where(Proposal.organisation_id == f.organisation_id)
    if f.challenge_id:
        stmt = stmt.where(Proposal.challenge_id == f.challenge_id)
    return stmt.order_by(*search.by_rank(rank), Proposal.published_at.desc(), Proposal.id.desc())


class PublicPage:
    """A page of results, holding PublicPilot items (same interface as the pagination macro)."""

    def __init__(self, pagination, items):
        self._p = pagination
        self.items = items

    def __getattr__(self, name):
        return getattr(self._p, name)


def search_pilots(f: PilotFilter | None = None, page: int = 1,
                  per_page: int = PER_PAGE) -> PublicPage:
    pagination = paging.paginate(pilots_query(f), Proposal.id, page=page, per_page=per_page)
    return PublicPage(pagination, [PublicPilot.of(p) for p in pagination.items])


def _pilots(f: PilotFilter, limit: int | None = None) -> list[PublicPilot]:
    stmt = pilots_query(f)
    if limit:
        stmt = stmt.limit(limit)
    return [PublicPilot.of(p) for p in db.session.execute(stmt).scalars().unique()]


def public_pilot(proposal_id: int) -> PublicPilot | None:
    p = db.session.get(Proposal, proposal_id, options=PUBLIC_PILOT_LOAD)
    return PublicPilot.of(p) if is_public_pilot(p) else None


def newest_pilots(limit: int = 3) -> list[PublicPilot]:
    return _pilots(PilotFilter(), limit)


def pilots_for_challenge(c: Challenge) -> list[PublicPilot]:
    return _pilots(PilotFilter(challenge_id=c.id))


# ---------------------------------------------------------------- organisations


def public_organisation(slug: str) -> tuple[PublicOrganisation, list[PublicPilot]] | None:
    org = db.session.execute(
        select(Organisation).where(Organisation.slug == slug)
        .options(lazyload(Organisation.memberships))
    ).unique().scalar_one_or_none()
    if not is_public_organisation(org):
        return None
    return PublicOrganisation.of(org), _pilots(PilotFilter(organisation_id=org.id))


# ---------------------------------------------------------------- filter choices


def challenge_authorities() -> list[Authority]:
    """Authorities that have at least one public challenge."""
    stmt = (select(Authority).where(Authority.id.in_(
        select(Challenge.authority_id).where(public_challenge_clause())))
        .order_by(Authority.name))
    return list(db.session.execute(stmt).scalars())


def pilot_authorities_query() -> Select:
    """Authorities behind at least one public pilot (through its public challenge).

    Asked per challenge ("is there one?"), which the index of public pilots by challenge
    answers at once, rather than by joining every public pilot."""
    has_pilot = exists().where(Proposal.challenge_id == Challenge.id, public_pilot_clause())
    return (select(Authority).where(Authority.id.in_(
        select(Challenge.authority_id).where(public_challenge_clause(), has_pilot)))
        .order_by(Authority.name))


def pilot_authorities() -> list[Authority]:
    return list(db.session.execute(pilot_authorities_query()).scalars())




# ---------------------------------------------------------------- published results
# A results report is public only when the coordinator published it (published_at set), the
# partner agreed to its publication, and its pilot is public itself.


def public_results_clause():
    return and_(ResultsReport.published_at.is_not(None),
                ResultsReport.status == "accepted",
                ResultsReport.publication_consent.is_(True),
                ResultsReport.proposal.has(public_pilot_clause()))


def is_public_results(report: ResultsReport | None) -> TypeGuard[ResultsReport]:
    return (report is not None and report.published_at is not None
            and report.status == "accepted" and bool(report.publication_consent)
            and is_public_pilot(report.proposal))


@dataclass(frozen=True)
class PublicGoalResult:
    title: str
    baseline: str
    target: str
    measurement: str
    value_reached: str | None
    reached: bool | None


@dataclass(frozen=True)
class PublicResults:
    """The public fields of a published results report (never the coordinator's comments)."""

    id: int
    pilot: PublicPilot
    summary: str | None
    goals: tuple[PublicGoalResult, ...]
    what_worked: str | None
    what_did_not_work: str | None
    lessons_learned: str | None
    recommendation: str | None
    reuse_requirements: str | None
    published_at: datetime

    @classmethod
    def of(cls, report: ResultsReport) -> PublicResults:
        if not is_public_results(report) or report.published_at is None:
            raise ValueError("not published results")
        reached = {gr.goal_id: gr for gr in report.goal_results}
        goals = tuple(
            PublicGoalResult(title=g.title, baseline=g.baseline, target=g.target,
                             measurement=g.measurement,
                             value_reached=reached[g.id].value_reached if g.id in reached else None,
                             reached=reached[g.id].reached if g.id in reached else None)
            for g in report.proposal.goals)
        return cls(id=report.id, pilot=PublicPilot.of(report.proposal), summary=report.summary,
                   goals=goals, what_worked=report.what_worked,
                   what_did_not_work=report.what_did_not_work,
                   lessons_learned=report.lessons_learned, recommendation=report.recommendation,
                   reuse_requirements=report.reuse_requirements,
                   published_at=report.published_at)


@dataclass
class ResultsFilter:
    q: str | None = None
    recommendation: str | None = None  # roll_out | extend | stop
    topic: str | None = None
    authority: int | None = None


def results_query(f: ResultsFilter | None = None) -> Select:
    f = f or ResultsFilter()
    match, rank = search.proposal_match_or(f.q, _search((ResultsReport.summary,), f.q))
    stmt = (select(ResultsReport).join(ResultsReport.proposal)
            .where(public_results_clause(), match))
    if f.recommendation:
        stmt = stmt.where(ResultsReport.recommendation == f.recommendation)
    if f.topic:
        stmt = stmt.where(Proposal.topics.any(Topic.slug == f.topic))
    if f.authority:
        stmt = stmt.where(Proposal.challenge.has(and_(Challenge.authority_id == f.authority,
                                                      public_challenge_clause())))
    return stmt.order_by(*search.by_rank(rank), ResultsReport.published_at.desc(),
                         ResultsReport.id.desc())


def search_results(f: ResultsFilter | None = None, page: int = 1,
                   per_page: int = PER_PAGE) -> PublicPage:
    pagination = db.paginate(results_query(f), page=page, per_page=per_page, error_out=False)
    return PublicPage(pagination, [PublicResults.of(r) for r in pagination.items])


def public_results(proposal_id: int) -> PublicResults | None:
    """The published results of a public pilot, or None."""
    report = db.session.execute(
        select(ResultsReport).where(ResultsReport.proposal_id == proposal_id)
    ).scalar_one_or_none()
    return PublicResults.of(report) if is_public_results(report) else None


def newest_results(limit: int = 20) -> list[PublicResults]:
    stmt = results_query().limit(limit)
    return [PublicResults.of(r) for r in db.session.execute(stmt).scalars().unique()]


# ---------------------------------------------------------------- organisations (open data)


def organisations_query(q: str | None = None, kind: str | None = None) -> Select:
    """Organisations with at least one public pilot (the others are not listed anywhere)."""
    stmt = select(Organisation).where(
        Organisation.id.in_(select(Proposal.organisation_id).where(public_pilot_clause())),
        _search((Organisation.name, Organisation.city), q))
    if kind:
        stmt = stmt.where(Organisation.kind == kind)
    return stmt.order_by(Organisation.name, Organisation.id)


def search_organisations(q: str | None = None, kind: str | None = None, page: int = 1,
                         per_page: int = PER_PAGE) -> PublicPage:
    pagination = db.paginate(organisations_query(q, kind), page=page, per_page=per_page,
                             error_out=False)
    return PublicPage(pagination, [PublicOrganisation.of(o) for o in pagination.items])


def pilots_by_organisation(org_ids: list[int]) -> dict[int, list[PublicPilot]]:
    """The public pilots of each of the organisations `org_ids` (the directory's page of
    them), in one query."""
    found: dict[int, list[PublicPilot]] = {i: [] for i in org_ids}
    if org_ids:
        stmt = pilots_query().where(Proposal.organisation_id.in_(org_ids))
        for p in db.session.execute(stmt).scalars().unique():
            found[p.organisation_id].append(PublicPilot.of(p))
    return found


# ---------------------------------------------------------------- authorities

# How many pilots and results an authority's page lists; the rest are a link away (the lists
# of pilots and results filtered by the authority).
AUTHORITY_PAGE_LIMIT = 12


@dataclass(frozen=True)
class AuthoritySummary:
    """An authority in the index of authorities, with what it has on the showcase."""

    authority: Authority
    challenges: int  # its public challenges
    pilots: int  # the public pilots that answer them


@dataclass(frozen=True)
class AuthorityPage:
    """What the showcase shows of an authority: only what is public anyway."""

    authority: Authority
    website: str | None
    open_challenges: list[Challenge]
    closed_challenges: list[Challenge]
    pilots: list[PublicPilot]
    pilots_total: int
    results: list[PublicResults]
    results_total: int
    partners: list[PublicOrganisation]


def _public_pilots_of_authority(authority_id) -> Select:
    """The ids of the public pilots answering a public challenge of the authority (the
    authority of a pilot is that of its challenge, as in the pilots' filter)."""
    return (select(Proposal.id).join(Challenge, Proposal.challenge_id == Challenge.id)
            .where(Challenge.authority_id == authority_id, public_challenge_clause(),
                   public_pilot_clause()))


def public_authorities() -> list[AuthoritySummary]:
    """Every authority that has a showcase address, by name, with its figures (two counts per
    row in the same statement)."""
    challenges = (select(func.count(Challenge.id))
                  .where(Challenge.authority_id == Authority.id, public_challenge_clause())
                  .correlate(Authority).scalar_subquery())
    pilots = (select(func.count()).select_from(
        _public_pilots_of_authority(Authority.id).correlate(Authority).subquery())
        .scalar_subquery())
    rows = db.session.execute(select(Authority, challenges, pilots)
                              .where(Authority.slug.is_not(None)).order_by(Authority.name))
    return [AuthoritySummary(a, n_challenges, n_pilots) for a, n_challenges, n_pilots in rows]


def public_authority(slug: str, today: date | None = None) -> AuthorityPage | None:
    """The showcase page of the authority with the address `slug`, or None."""
    a = db.session.execute(select(Authority).where(Authority.slug == slug)).scalar_one_or_none()
    if a is None:
        return None
    today = today or date.today()
    challenges = list(db.session.execute(
        challenges_query(ChallengeFilter(authority=a.id), today)).scalars().unique())
    pilots_stmt = pilots_query(PilotFilter(authority=a.id))
    pilots = [PublicPilot.of(p) for p in db.session.execute(
        pilots_stmt.limit(AUTHORITY_PAGE_LIMIT)).scalars().unique()]
    results_stmt = results_query(ResultsFilter(authority=a.id))
    results = [PublicResults.of(r) for r in db.session.execute(
        results_stmt.limit(AUTHORITY_PAGE_LIMIT)).scalars().unique()]
    partners = db.session.execute(
        select(Organisation).where(Organisation.id.in_(
            select(Proposal.organisation_id).where(
                Proposal.id.in_(_public_pilots_of_authority(a.id)))))
        .options(lazyload(Organisation.memberships)).order_by(Organisation.name)
    ).scalars().unique()
    return AuthorityPage(
        authority=a, website=_http_url(a.website),
        open_challenges=[c for c in challenges if c.is_open(today)],
        closed_challenges=[c for c in challenges if not c.is_open(today)],
        pilots=pilots, pilots_total=_count(pilots_stmt), results=results,
        results_total=_count(results_stmt),
        partners=[PublicOrganisation.of(o) for o in partners])


def _count(stmt: Select) -> int:
    return db.session.execute(
        select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
