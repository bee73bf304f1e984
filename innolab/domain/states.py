"""The lifecycle of a proposal: every allowed move, as data.

Nothing else changes a proposal's status; `workflow.apply` is the one function that
applies a row of this table. Each guard returns None when the move may happen, or a
translatable reason why it may not.
"""
from __future__ import annotations

from typing import Any

from dataclasses import dataclass, field
from datetime import date
from collections.abc import Callable

from flask import current_app
from markupsafe import escape
from sqlalchemy import case
from innolab.i18n import format_euro, lazy_gettext as _l

from ..models import (
    CheckKind, CheckOutcome, ChallengeStatus, Decision, DecisionState, Proposal, Role, Status,
)
from . import questions
from .conflicts import conflict_of
from .settings import get_setting
from .proposal_fields import FIELD_LABELS, missing_fields

MEMBER = "member"  # a member of the proposing organisation


@dataclass
class Move:
    """What a guard sees: the proposal, who acts, and what they sent with the action."""

    proposal: Proposal
    user: Any  # the signed-in user (a User; Flask-Login's proxy in a request)
    message: str | None = None
    start_date: date | None = None
    today: date = field(default_factory=date.today)
    # True only while results.accept completes the pilot: the one way to complete it.
    accepting_report: bool = False
    # The pending decision a second decider co-signs (decisions.co_sign): the one way to
    # approve above the co-signature threshold.
    co_signing: Decision | None = None


class Refusal:
    """What a guard found against a move: the reason for the user and, where the guard found
    them, the names of the fields still missing. Shown, it is its reason."""

    def __init__(self, reason, *, missing: tuple[str, ...] = ()):
        self.reason = reason
        self.missing = missing

    def __str__(self) -> str:
        return str(self.reason)

    def __html__(self) -> str:
        return str(escape(self.reason))


Guard = Callable[[Move], "str | Refusal | None"]


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[str]
    target: str
    who: str  # MEMBER or a staff Role value
    guards: tuple[Guard, ...] = ()
    label: object = None
    # The question asked before an irreversible move (web/confirm.py: a dialog, or a page
    # without JavaScript); None: the move is made at once.
    confirm: object = None


# ---------------------------------------------------------------- guards

def required_fields_complete(m: Move):
    """The fields submitting needs and the answers to the required questions."""
    missing = missing_fields(m.proposal)
    unanswered = questions.missing_answers(m.proposal)
    if missing or unanswered:
        names = [str(FIELD_LABELS[name]) for name in missing]
        names += [str(questions.label(q)) for q in unanswered]
        return Refusal(_l("Bitte füllen Sie noch aus: %(fields)s", fields=", ".join(names)),
                       missing=(*missing, *(questions.key_of(q) for q in unanswered)))
    return None


def challenge_still_open(m: Move):
    ch = m.proposal.challenge
    if ch is None:
        return None
    if ch.status != ChallengeStatus.PUBLISHED.value or ch.deadline < m.today:
        return _l("Die Herausforderung „%(title)s“ ist geschlossen; es können keine "
                  "Vorschläge mehr dazu eingereicht werden.", title=ch.title)
    return None


class OtherMove(Refusal):
    """Not a reason to show: another move of the same name is the one that applies here
    (a challenge with an anonymised first round starts its review as `start_anonymous_review`).
    `workflow.options` leaves such a move out rather than offer it disabled beside its twin."""


def open_first_round(m: Move):
    """The review of a proposal to a challenge with an anonymised first round starts with that
    round (`start_anonymous_review`), never open."""
    if has_anonymised_round(m.proposal):
        return OtherMove(_l("Die Herausforderung hat eine anonymisierte erste "
                            "Begutachtungsrunde; die Begutachtung beginnt mit ihr."))
    return None


def anonymised_round_configured(m: Move):
    if not has_anonymised_round(m.proposal):
        return OtherMove(_l("Die Herausforderung hat keine anonymisierte erste "
                            "Begutachtungsrunde."))
    return None


def has_anonymised_round(p: Proposal) -> bool:
    """The proposal answers a challenge whose first round of review is anonymised."""
    return p.challenge is not None and bool(p.challenge.anonymised_first_round)


def current_round(p: Proposal) -> int:
    """The round a review written now belongs to: 2 once the proposal was shortlisted from the
    anonymised first round, else 1 (also for a challenge without that round)."""
    return 2 if p.shortlisted_at is not None else 1


def current_round_sql():
    """`current_round` in SQL, of the proposal joined as `Proposal` (the inbox's figures and
    the reviewers' reminders count the current round's reviews as `counting_reviews` does)."""
    return case((Proposal.shortlisted_at.is_not(None), 2), else_=1)


def reviewer_assigned(m: Move):
    if not any(a.active for a in m.proposal.assignments):
        return _l("Weisen Sie zuerst mindestens eine Gutachterin oder einen Gutachter zu.")
    return None


def message_given(m: Move):
    if not (m.message or "").strip():
        return _l("Bitte geben Sie eine Nachricht an die Partnerorganisation ein.")
    return None


def rationale_given(m: Move):
    if not (m.message or "").strip():
        return _l("Bitte begründen Sie die Entscheidung; die Begründung sieht die "
                  "Partnerorganisation.")
    return None


def reason_given(m: Move):
    if not (m.message or "").strip():
        return _l("Bitte geben Sie einen Grund an.")
    return None


def start_date_given(m: Move):
    if m.start_date is None:
        return _l("Bitte geben Sie das Startdatum des Piloten an.")
    return None


def goals_agreed(m: Move):
    if not m.proposal.goals:
        return _l("Legen Sie vor dem Start gemeinsam mit der Partnerorganisation mindestens ein "
                  "messbares Ziel des Piloten fest.")
    return None


def counting_reviews(p: Proposal) -> list:
    """The reviews that count: submitted by a reviewer without a conflict of interest, in the
    order they were submitted, of the current round (`current_round`). The decision guard,
    the staff page, the inbox and the export count these."""
    active = {a.reviewer_id for a in p.assignments if a.active}
    current = current_round(p)
    return sorted((r for r in p.reviews if r.completed and r.reviewer_id in active
                   and r.round == current),
                  key=lambda r: (r.submitted_at, r.id))


def enough_reviews(m: Move):
    needed = current_app.config.get("MIN_COMPLETED_REVIEWS", 1)
    done = counting_reviews(m.proposal)
    if len(done) < needed:
        return _l("Es liegen %(done)d von mindestens %(needed)d abgeschlossenen Gutachten vor.",
                  done=len(done), needed=needed)
    if all(r.reviewer_id == m.user.id for r in done):
        return _l("Sie haben das einzige Gutachten geschrieben; eine andere Person muss "
                  "begutachten, bevor Sie entscheiden.")
    return None


def enough_reviews_in_first_round(m: Move):
    """Not shortlisted is decided on the first round's reviews, as shortlisting is."""
    if m.proposal.status == S.ANONYMOUS_REVIEW.value:
        return enough_reviews(m)
    return None


def required_checks(p: Proposal) -> list[str]:
    kinds = [CheckKind.INFORMATION_SECURITY.value]
    if p.personal_data:
        kinds.insert(0, CheckKind.DATA_PROTECTION.value)
    return kinds


def latest_check(p: Proposal, kind: str):
    checks = [c for c in p.checks if c.kind == kind]
    return max(checks, key=lambda c: (c.created_at, c.id)) if checks else None


def checks_passed(m: Move):
    for kind in required_checks(m.proposal):
        check = latest_check(m.proposal, kind)
        if check is None or check.outcome != CheckOutcome.PASSED.value:
            if kind == CheckKind.DATA_PROTECTION.value:
                return _l("Die Datenschutzprüfung ist nicht bestanden oder steht noch aus.")
            return _l("Die Prüfung der Informationssicherheit ist nicht bestanden oder "
                      "steht noch aus.")
    return None


def open_conditions(p: Proposal, kind: str | None = None) -> list:
    """The conditions ("Auflagen") of the latest checks not yet marked met (of `kind`, or of
    every kind), in the order they were set."""
    found: list = []
    for k in [c.value for c in CheckKind] if kind is None else [kind]:
        check = latest_check(p, k)
        if check is not None:
            found.extend(c for c in check.conditions if c.met_at is None)
    return found


def conditions_met(m: Move):
    unmet = open_conditions(m.proposal)
    if unmet:
        return _l("Vor dem Start müssen die Auflagen der Prüfungen erfüllt sein. Offen: "
                  "%(conditions)s", conditions="; ".join(c.text for c in unmet))
    return None


def ready_for_decision(p: Proposal) -> bool:
    """In review with the reviews and the passed checks a decision needs: the deciders' turn.
    (Who may decide is the approve move's own question: not the only reviewer, no conflict.)"""
    if p.status != S.IN_REVIEW.value:
        return False
    if len(counting_reviews(p)) < current_app.config.get("MIN_COMPLETED_REVIEWS", 1):
        return False
    return all((c := latest_check(p, kind)) is not None and c.outcome == CheckOutcome.PASSED.value
               for kind in required_checks(p))


# ---------------------------------------------------------------- co-signature (Mitzeichnung)

CO_SIGN_SETTING = "decision.co_sign_threshold"
CO_SIGN_DEFAULT = 100_000  # euros; an admin changes it (0: never)


def co_sign_threshold() -> int:
    """The cost estimate (whole euros) above which an approval needs a second decider's
    co-signature; 0: never. The admin setting, else CO_SIGN_DEFAULT."""
    raw = get_setting(CO_SIGN_SETTING)
    if raw is None or not raw.strip().isdigit():
        return CO_SIGN_DEFAULT
    return int(raw)


def co_signature_required(p: Proposal, action: str = "approve") -> bool:
    """An approval of a proposal whose cost estimate is above the threshold. A rejection
    commits no money and is final at once."""
    threshold = co_sign_threshold()
    return (action == "approve" and threshold > 0 and p.cost_estimate is not None
            and p.cost_estimate > threshold)


def pending_decision(p: Proposal) -> Decision | None:
    """The decision waiting for co-signature, if any (at most one: decisions.decide)."""
    return next((d for d in p.decisions if d.state == DecisionState.PENDING.value), None)


class CoSignatureNeeded(Refusal):
    """Not a refusal of the decider's step: the step is recorded and waits for a second
    decider (decisions.decide). `workflow.options` offers the move with this as its note."""


def no_decision_pending(m: Move):
    """While a decision waits for co-signature, no other decision is taken beside it: a second
    decider co-signs it or refuses the co-signature first."""
    if m.co_signing is None and pending_decision(m.proposal) is not None:
        return _l("Eine Entscheidung wartet auf Mitzeichnung. Zeichnen Sie sie mit oder "
                  "verweigern Sie die Mitzeichnung, bevor anders entschieden wird.")
    return None


def co_signed_if_required(m: Move):
    """Above the threshold an approval is final only when a second decider co-signs it: a
    different person (with the decider role and no conflict of interest, which `check` asks
    of whoever acts)."""
    if not co_signature_required(m.proposal):
        return None
    if m.co_signing is None:
        return CoSignatureNeeded(_l(
            "Die Kostenschätzung liegt über %(threshold)s: Die Bewilligung wird erst "
            "wirksam, wenn eine zweite Person mit der Rolle Entscheidung mitzeichnet.",
            threshold=format_euro(co_sign_threshold())))
    if m.co_signing.decider_id == m.user.id:
        return _l("Sie haben diese Entscheidung selbst getroffen; mitzeichnen muss eine "
                  "andere Person.")
    return None


def no_conflict_of_interest(m: Move):
    """No staff move by someone with a conflict of interest (domain/conflicts.py): another
    person must make it. `workflow.check` asks it before every staff move."""
    conflict = conflict_of(m.user, m.proposal)
    if conflict is not None:
        return conflict.refusal
    return None


def results_report_submitted(m: Move):
    report = m.proposal.results_report
    if report is None or report.submitted_at is None or report.status != "submitted":
        return _l("Der Ergebnisbericht wurde noch nicht eingereicht.")
    if not m.accepting_report:
        # results.accept completes the pilot as it accepts the report: the one way.
        return _l("Der Pilot wird abgeschlossen, indem Sie den Ergebnisbericht annehmen.")
    return None


# ---------------------------------------------------------------- the table

S = Status
TRANSITIONS: tuple[Transition, ...] = (
    Transition("submit", frozenset({S.DRAFT.value}), S.SUBMITTED.value, MEMBER,
               (required_fields_complete, challenge_still_open), _l("Einreichen"),
               _l("Möchten Sie den Vorschlag jetzt einreichen? Danach können Sie ihn nur noch "
                  "ändern, wenn das InnoLab-Team eine Nachbesserung anfordert.")),
    Transition("start_review", frozenset({S.SUBMITTED.value}), S.IN_REVIEW.value,
               Role.COORDINATOR.value, (open_first_round, reviewer_assigned),
               _l("Begutachtung starten")),
    Transition("start_anonymous_review", frozenset({S.SUBMITTED.value}),
               S.ANONYMOUS_REVIEW.value, Role.COORDINATOR.value,
               (anonymised_round_configured, reviewer_assigned), _l("Begutachtung starten")),
    Transition("shortlist", frozenset({S.ANONYMOUS_REVIEW.value}), S.IN_REVIEW.value,
               Role.COORDINATOR.value, (enough_reviews,), _l("In die zweite Runde aufnehmen"),
               _l("Möchten Sie den Vorschlag in die zweite, offene Runde aufnehmen? Die "
                  "Gutachterinnen und Gutachter sehen dann, wer ihn eingereicht hat, und "
                  "bestätigen erneut, dass sie keinen Interessenkonflikt haben.")),
    Transition("request_changes",
               frozenset({S.SUBMITTED.value, S.ANONYMOUS_REVIEW.value, S.IN_REVIEW.value}),
               S.CHANGES_REQUESTED.value, Role.COORDINATOR.value, (message_given,),
               _l("Nachbesserung anfordern")),
    Transition("resubmit", frozenset({S.CHANGES_REQUESTED.value}), S.SUBMITTED.value, MEMBER,
               (required_fields_complete,), _l("Erneut einreichen"),
               _l("Möchten Sie den überarbeiteten Vorschlag jetzt erneut einreichen? Danach "
                  "können Sie ihn nicht mehr ändern.")),
    Transition("approve", frozenset({S.IN_REVIEW.value}), S.APPROVED.value, Role.DECIDER.value,
               (rationale_given, enough_reviews, checks_passed, no_conflict_of_interest,
                no_decision_pending, co_signed_if_required),
               _l("Bewilligen"),
               _l("Möchten Sie den Vorschlag wirklich bewilligen? Die Entscheidung lässt sich "
                  "nicht zurücknehmen; die Partnerorganisation wird benachrichtigt.")),
    Transition("reject", frozenset({S.ANONYMOUS_REVIEW.value, S.IN_REVIEW.value}),
               S.REJECTED.value, Role.DECIDER.value,
               (rationale_given, enough_reviews_in_first_round, no_conflict_of_interest,
                no_decision_pending), _l("Ablehnen"),
               _l("Möchten Sie den Vorschlag wirklich ablehnen? Die Entscheidung lässt sich "
                  "nicht zurücknehmen; die Partnerorganisation wird benachrichtigt.")),
    Transition("withdraw",
               frozenset({S.SUBMITTED.value, S.ANONYMOUS_REVIEW.value, S.IN_REVIEW.value,
                          S.CHANGES_REQUESTED.value}),
               S.WITHDRAWN.value, MEMBER, (), _l("Zurückziehen"),
               _l("Möchten Sie den Vorschlag wirklich zurückziehen? Das lässt sich nicht "
                  "rückgängig machen.")),
    Transition("start_pilot", frozenset({S.APPROVED.value}), S.RUNNING.value,
               Role.COORDINATOR.value, (start_date_given, goals_agreed, conditions_met),
               _l("Pilot starten"),
               _l("Möchten Sie den Piloten wirklich starten? Das lässt sich nicht rückgängig "
                  "machen.")),
    Transition("complete", frozenset({S.RUNNING.value}), S.COMPLETED.value,
               Role.COORDINATOR.value, (results_report_submitted,), _l("Pilot abschließen"),
               _l("Möchten Sie den Piloten wirklich abschließen? Das lässt sich nicht "
                  "rückgängig machen.")),
    Transition("cancel", frozenset({S.RUNNING.value}), S.CANCELLED.value, Role.COORDINATOR.value,
               (reason_given,), _l("Pilot abbrechen"),
               _l("Möchten Sie den Piloten wirklich abbrechen? Das lässt sich nicht rückgängig "
                  "machen.")),
)

BY_ACTION = {t.action: t for t in TRANSITIONS}

# The statuses in which the partner may still change the proposal (and its attachments).
EDITABLE = frozenset({S.DRAFT.value, S.CHANGES_REQUESTED.value})


def is_editable(p: Proposal) -> bool:
    return p.status in EDITABLE

STATUS_LABELS = {
    S.DRAFT.value: _l("Entwurf"),
    S.SUBMITTED.value: _l("Eingereicht"),
    S.ANONYMOUS_REVIEW.value: _l("Anonymisierte Begutachtung (1. Runde)"),
    S.IN_REVIEW.value: _l("In Begutachtung"),
    S.CHANGES_REQUESTED.value: _l("Nachbesserung angefordert"),
    S.APPROVED.value: _l("Bewilligt"),
    S.REJECTED.value: _l("Abgelehnt"),
    S.WITHDRAWN.value: _l("Zurückgezogen"),
    S.RUNNING.value: _l("Pilot läuft"),
    S.COMPLETED.value: _l("Abgeschlossen"),
    S.CANCELLED.value: _l("Abgebrochen"),
}


# What a timeline entry is called: the moves in the past tense, and the other events.
TIMELINE_LABELS = {
    "submit": _l("Eingereicht"),
    "start_review": _l("Begutachtung begonnen"),
    "start_anonymous_review": _l("Anonymisierte Begutachtung (1. Runde) begonnen"),
    "shortlist": _l("In die zweite Runde aufgenommen"),
    "attachment_released": _l("Anlage für die anonymisierte Runde freigegeben"),
    "attachment_withheld": _l("Anlage für die anonymisierte Runde zurückgehalten"),
    "request_changes": _l("Nachbesserung angefordert"),
    "resubmit": _l("Überarbeitet und erneut eingereicht"),
    "approve": _l("Bewilligt"),
    "reject": _l("Abgelehnt"),
    "withdraw": _l("Zurückgezogen"),
    "start_pilot": _l("Pilot gestartet"),
    "complete": _l("Pilot abgeschlossen"),
    "cancel": _l("Pilot abgebrochen"),
    "reviewer_assigned": _l("Gutachter/in zugewiesen"),
    "reviewer_unassigned": _l("Gutachter/in entfernt"),
    "conflict_declared": _l("Interessenkonflikt erklärt"),
    "no_conflict_confirmed": _l("Kein Interessenkonflikt bestätigt"),
    "co_sign_requested": _l("Entscheidung getroffen, Mitzeichnung erbeten"),
    "co_signed": _l("Entscheidung mitgezeichnet"),
    "co_sign_refused": _l("Mitzeichnung verweigert"),
    "review_submitted": _l("Gutachten abgeschlossen"),
    "review_reopened": _l("Gutachten wieder geöffnet"),
    "condition_met": _l("Auflage einer Prüfung erfüllt"),
    "data_protection_passed": _l("Datenschutzprüfung bestanden"),
    "data_protection_failed": _l("Datenschutzprüfung nicht bestanden"),
    "information_security_passed": _l("Prüfung der Informationssicherheit bestanden"),
    "information_security_failed": _l("Prüfung der Informationssicherheit nicht bestanden"),
    "published": _l("Im Schaufenster veröffentlicht"),
    "unpublished": _l("Aus dem Schaufenster entfernt"),
    "report_submitted": _l("Ergebnisbericht eingereicht"),
    "report_returned": _l("Ergebnisbericht zur Überarbeitung zurückgegeben"),
    "report_accepted": _l("Ergebnisbericht angenommen"),
    "report_published": _l("Ergebnisse im Schaufenster veröffentlicht"),
    "report_unpublished": _l("Ergebnisse aus dem Schaufenster entfernt"),
    "pilot_consent_withdrawn": _l("Zustimmung zur Veröffentlichung des Piloten widerrufen"),
    "pilot_consent_given": _l("Zustimmung zur Veröffentlichung des Piloten erteilt"),
    "results_consent_withdrawn": _l("Zustimmung zur Veröffentlichung der Ergebnisse widerrufen"),
    "results_consent_given": _l("Zustimmung zur Veröffentlichung der Ergebnisse erteilt"),
}


def status_label(status: str):
    """What a proposal's status is called (the one lookup: pages, forms, mails, open data)."""
    return STATUS_LABELS.get(status, status)


def timeline_label(action: str):
    """What a timeline entry is called, by its action (the one lookup for every timeline)."""
    return TIMELINE_LABELS.get(action, action)
