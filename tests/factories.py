"""Factories for test data. Each returns a committed object."""
from __future__ import annotations

import itertools
from datetime import date, timedelta

from innolab.domain import sessions
from innolab.domain.accounts import hash_password
from innolab.extensions import db
from innolab.models import (
    Authority, Challenge, ChallengeCriterion, ChallengeQuestion, ChallengeStatus, Check, GoalResult,
    Membership, MemberRole, Organisation, PilotGoal, Proposal, ResultsReport, Review,
    ReviewAssignment, Role, Topic, User, UserRole,
)
from innolab.models._base import utcnow

_seq = itertools.count(1)
PASSWORD = "ein-sicheres-Passwort-42"
_HASH = None


def _password_hash():
    global _HASH
    if _HASH is None:
        _HASH = hash_password(PASSWORD)
    return _HASH


def user(email=None, name=None, roles=(), confirmed=True, active=True, locale="de", **kw) -> User:
    n = next(_seq)
    u = User(email=email or f"user{n}@example.org", name=name or f"Test Person {n}",
             password_hash=_password_hash(), locale=locale, active=active,
             email_confirmed_at=utcnow() if confirmed else None, **kw)
    for role in roles:
        u.role_rows.append(UserRole(role=Role(role).value))
    db.session.add(u)
    db.session.commit()
    return u


def session_token(user: User, method: str = "password") -> str:
    """A signed-in session of `user` (a row of user_sessions); the token goes into the
    cookie as Flask-Login's id (`session["_user_id"]`)."""
    token, _row = sessions.open_session(user, method)
    db.session.commit()
    return token


def staff(*roles, **kw) -> User:
    return user(roles=roles, **kw)


def organisation(owner: User | None = None, members=(), name=None, kind="startup", **kw):
    n = next(_seq)
    org = Organisation(name=name or f"Start-up {n} GmbH", slug=f"start-up-{n}", kind=kind,
                       city="Schwerin", website="https://example.org",
                       description="Wir entwickeln Software für die Verwaltung.", **kw)
    db.session.add(org)
    if owner is not None:
        org.memberships.append(Membership(user=owner, role=MemberRole.OWNER.value))
    for m in members:
        org.memberships.append(Membership(user=m, role=MemberRole.MEMBER.value))
    db.session.commit()
    return org


def authority(name=None, short_name=None) -> Authority:
    n = next(_seq)
    a = Authority(name=name or f"Landesamt Nummer {n}",
                  short_name=f"LA{n}" if short_name is None else (short_name or None))
    db.session.add(a)
    db.session.commit()
    return a


def topic(slug=None, name_de=None, name_en=None) -> Topic:
    n = next(_seq)
    t = Topic(slug=slug or f"thema-{n}", name_de=name_de or f"Thema {n}",
              name_en=name_en or f"Topic {n}")
    db.session.add(t)
    db.session.commit()
    return t


def challenge(status=ChallengeStatus.PUBLISHED.value, deadline=None, authority_=None, topics=(),
              title=None, **kw) -> Challenge:
    n = next(_seq)
    kw.setdefault("summary", "Eine kurze Zusammenfassung.")
    kw.setdefault("description", "Die Behörde braucht eine **bessere** Lösung.")
    c = Challenge(title=title or f"Herausforderung {n}",
                  authority=authority_ or authority(), status=status,
                  deadline=deadline or date.today() + timedelta(days=30),
                  published_at=utcnow() if status != ChallengeStatus.DRAFT.value else None, **kw)
    c.topics.extend(topics)
    db.session.add(c)
    db.session.commit()
    return c


def criteria(c: Challenge, *specs) -> list[ChallengeCriterion]:
    """The challenge's own criteria: each spec (name, weight, scale_max[, knockout_min])."""
    for name, weight, scale, *knockout in specs:
        c.criteria.append(ChallengeCriterion(
            position=len(c.criteria), name_de=name, name_en=f"{name} (en)",
            description_de=f"Wie gut ist {name}?", weight=weight, scale_max=scale,
            knockout_min=knockout[0] if knockout else None))
    db.session.commit()
    return list(c.criteria)


def question(c: Challenge | None, kind="short_text", label=None, required=False, **kw):
    """A question of `c` (None: of the default set), after the ones it has."""
    challenge_id = c.id if c is not None else None
    position = db.session.query(ChallengeQuestion).filter_by(challenge_id=challenge_id).count()
    if kind in ("single_choice", "multiple_choice"):
        kw.setdefault("options", [{"de": "Bund", "en": "Federal"}, {"de": "Land", "en": "State"},
                                  {"de": "Kommune", "en": None}])
    q = ChallengeQuestion(challenge_id=challenge_id, position=position, kind=kind,
                          label_de=label or f"Frage {position + 1}", required=required, **kw)
    db.session.add(q)
    db.session.commit()
    return q


COMPLETE = dict(
    public_summary="Ein Chatbot beantwortet Fragen zu Anträgen.",
    problem="Bürgerinnen und Bürger warten lange auf Antworten.",
    solution="Ein KI-Assistent, der auf geprüften Texten arbeitet.",
    benefit="Weniger Anrufe in der Hotline.",
    trl=6, duration_months=6, cost_estimate=45000, personal_data=False,
    hosting_location="Rechenzentrum in Schwerin", security_notes="BSI-Grundschutz",
    contact_name="Erika Mustermann", contact_email="erika@example.org",
    contact_phone="0385 123456", publication_consent=True,
)


def proposal(org: Organisation | None = None, status="draft", complete=True, title=None,
             challenge_=None, **kw) -> Proposal:
    """A proposal in `status`, moved there directly (for tests of what follows a state)."""
    n = next(_seq)
    org = org or organisation(owner=user())
    fields = dict(COMPLETE) if complete else {}
    fields.update(kw)
    p = Proposal(organisation=org, title=title or f"Pilotvorschlag {n}", status=status,
                 challenge=challenge_,
                 created_by=org.memberships[0].user if org.memberships else None,
                 **fields)
    if status != "draft":
        p.reference = f"IL-{date.today().year}-{n:04d}"
        p.submitted_at = utcnow()
        p.version = 1
    db.session.add(p)
    db.session.commit()
    return p


def goal(p: Proposal, title="Bearbeitungszeit je Antrag", baseline="14 Tage", target="7 Tage",
         measurement="Auswertung des Fachverfahrens") -> PilotGoal:
    """A measurable goal of a pilot (agreed before it starts)."""
    g = PilotGoal(proposal=p, title=title, baseline=baseline, target=target,
                  measurement=measurement, position=len(p.goals))
    db.session.add(g)
    db.session.commit()
    return g


def ready_for_decision(p: Proposal, reviewer: User, officer: User) -> Proposal:
    """An assigned reviewer's completed review and a passed security check (and a data
    protection check where personal data is processed): what a decision needs."""
    db.session.add(ReviewAssignment(no_conflict_confirmed_at=utcnow(),
                                    proposal_id=p.id, reviewer_id=reviewer.id))
    db.session.add(Review(proposal_id=p.id, reviewer_id=reviewer.id, innovation=4, benefit=4,
                          feasibility=4, cost_effectiveness=4, privacy_security=4,
                          recommendation="approve", comment="Solide Idee.",
                          submitted_at=utcnow()))
    kinds = ["information_security"] + (["data_protection"] if p.personal_data else [])
    for kind in kinds:
        db.session.add(Check(proposal_id=p.id, kind=kind, officer_id=officer.id,
                             outcome="passed", comment="geprüft"))
    db.session.commit()
    return p


def results_report(p: Proposal, status="submitted") -> ResultsReport:
    """A complete results report of a running pilot, with a result for every goal."""
    report = ResultsReport(
        proposal=p, status=status, summary="Die Bearbeitungszeit wurde halbiert.",
        what_worked="Die Vorprüfung.", what_did_not_work="Die alte Schnittstelle.",
        lessons_learned="Früh mit der Fachaufsicht sprechen.", recommendation="roll_out",
        reuse_requirements="Eine Schnittstelle zum Fachverfahren.", publication_consent=True,
        submitted_at=utcnow() if status != "draft" else None)
    for g in p.goals:
        report.goal_results.append(GoalResult(goal=g, value_reached="6 Tage", reached=True))
    db.session.add(report)
    db.session.commit()
    return report


def proposal_form(**overrides) -> dict:
    """What the proposal form sends for a complete proposal (a draft save unless `save`)."""
    data = {
        "title": "KI-Assistent für Bauanträge",
        "public_summary": "Ein Assistent beantwortet Fragen zu Bauanträgen.",
        "problem": "Die Bauämter bekommen viele gleiche Fragen.",
        "solution": "Ein Assistent auf geprüften Texten.",
        "benefit": "Weniger Anrufe, schnellere Bearbeitung.",
        "trl": "6", "duration_months": "6", "cost_estimate": "45000",
        "personal_data": "no", "personal_data_details": "",
        "hosting_location": "Rechenzentrum Schwerin", "security_notes": "BSI-Grundschutz",
        "contact_name": "Erika Mustermann", "contact_email": "erika@example.org",
        "contact_phone": "0385 123456", "publication_consent": "y",
        "challenge_id": "", "save": "draft",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}
