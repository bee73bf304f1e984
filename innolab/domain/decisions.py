"""Decisions on proposals: what they are taken on, and the co-signature (Mitzeichnung).

A decider's approval or rejection goes through `decide`. Below the co-signature threshold
(states.co_sign_threshold, an admin setting) and for every rejection, it is the lifecycle move
at once. Above it, an approval is recorded as pending (who, the rationale, when) and the other
deciders are asked to co-sign; `co_sign` makes the move through `workflow.apply`, whose guards
(states.co_signed_if_required among them) are checked again at that moment, and `refuse`
cancels the pending decision with a reason. Each decision keeps the snapshot of the rules that
applied (`basis`): shown on the staff page as "Grundlage der Entscheidung".
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from flask import current_app, url_for

from flask_babel import format_decimal

from innolab.i18n import format_datetime, format_euro, lazy_gettext as _l

from ..extensions import db
from ..models import Decision, DecisionState, Proposal, Recommendation, Role, TimelineEntry
from ..models._base import utcnow
from . import DomainError, audit, criteria, notifications, settings, workflow
from .locking import lock
from .review import CHECK_LABELS, OUTCOME_LABELS, RECOMMENDATION_LABELS
from .states import (
    BY_ACTION, CO_SIGN_SETTING, CoSignatureNeeded, Move, co_sign_threshold,
    co_signature_required, counting_reviews, latest_check, no_conflict_of_interest,
    pending_decision, required_checks,
)

DECISION_ACTIONS = ("approve", "reject")


class DecisionRefused(DomainError):
    """A co-signature or its refusal that cannot be made (shown with what was typed kept)."""


# ---------------------------------------------------------------- the setting


def threshold() -> int:
    """The co-signature threshold in whole euros (0: never), states.co_sign_threshold."""
    return co_sign_threshold()


def set_threshold(actor, euros: int) -> bool:
    """An admin sets the threshold (0: no co-signature); audited as every setting."""
    if euros < 0:
        raise DecisionRefused(_l("Der Schwellenwert kann nicht negativ sein."))
    return settings.set_setting(actor, CO_SIGN_SETTING, str(int(euros)))


# ---------------------------------------------------------------- what a decision rests on


@dataclass(frozen=True)
class ReviewRow:
    review: object
    scores: dict
    total: float | None
    recommendation: str | None


@dataclass(frozen=True)
class Overview:
    """The counting reviews side by side: per review its scores, weighted total and
    recommendation; the means; the knock-out criteria below their minimum; the tally."""

    criteria: tuple
    rows: list[ReviewRow]
    means: dict
    below: list
    tally: dict[str, int]


def overview(p: Proposal) -> Overview:
    of = criteria.of_proposal(p)
    counting = counting_reviews(p)
    means = criteria.averages(counting, of)
    rows = [ReviewRow(r, r.scores, criteria.review_total(r, of), r.recommendation)
            for r in counting]
    found = Counter(r.recommendation for r in counting if r.recommendation)
    tally = {rec.value: found.get(rec.value, 0) for rec in Recommendation}
    return Overview(of, rows, means, criteria.below_minimum(of, means), tally)


def basis(p: Proposal, action: str) -> dict:
    """The snapshot of the rules a decision applied, as plain JSON."""
    view = overview(p)
    below = {c.key for c in view.below}
    return {
        "action": action,
        "criteria": [{"key": c.key, "name": c.name, "name_en": c.name_en,
                      "default": c.is_default, "weight": c.weight,
                      "scale": c.scale, "minimum": c.knockout, "mean": view.means.get(c.key),
                      "below_minimum": c.key in below}
                     for c in view.criteria],
        "total": view.means.get("overall"),
        "below_minimum": sorted(below),
        "reviews": len(view.rows),
        "min_reviews": current_app.config.get("MIN_COMPLETED_REVIEWS", 1),
        "recommendations": view.tally,
        "checks": [{"kind": kind, "outcome": c.outcome if c is not None else None}
                   for kind in required_checks(p) for c in [latest_check(p, kind)]],
        "cost_estimate": p.cost_estimate,
        "threshold": co_sign_threshold(),
        "co_signature_required": co_signature_required(p, action),
    }


@dataclass(frozen=True)
class BasisCriterion:
    criterion: criteria.Criterion  # as it was (its label in the page's language)
    mean: float | None
    below_minimum: bool


@dataclass(frozen=True)
class BasisView:
    """A decision's snapshot as the staff page shows it."""

    facts: list  # (label, value) pairs
    criteria: list[BasisCriterion]


def basis_view(d: Decision) -> BasisView:
    b = d.basis or {}
    if d.co_signature_required:
        co_signed = (_l("mitgezeichnet von %(name)s am %(date)s",
                        name=d.co_signer.name if d.co_signer else _l("unbekannt"),
                        date=format_datetime(d.co_signed_at, "short"))
                     if d.co_signed_at else _l("ausstehend"))
    else:
        co_signed = _l("nicht erforderlich")
    threshold = b.get("threshold")
    tally = b.get("recommendations") or {}
    facts = [
        (_l("Entscheidung"), BY_ACTION[d.action].label),
        (_l("Entschieden von"), d.decider.name if d.decider else _l("unbekannt")),
        (_l("Entschieden am"), format_datetime(d.created_at, "short")),
        (_l("Begründung"), d.rationale),
        (_l("Mitzeichnung"), co_signed),
        (_l("Kostenschätzung"), format_euro(b["cost_estimate"])
         if b.get("cost_estimate") is not None else _l("keine Angabe")),
        (_l("Schwellenwert für die Mitzeichnung"),
         format_euro(threshold) if threshold else _l("keiner")),
        (_l("Zählende Gutachten"), _l("%(n)d (erforderlich: mindestens %(min)d)",
                                       n=b.get("reviews", 0), min=b.get("min_reviews", 1))),
        (_l("Gesamtwert (gewichtet, Skala 1 bis 5)"),
         format_decimal(b["total"]) if b.get("total") is not None else "–"),
        (_l("Empfehlungen"), ", ".join(f"{RECOMMENDATION_LABELS[k]}: {n}"
                                       for k, n in tally.items() if k in RECOMMENDATION_LABELS)),
        (_l("Prüfungen"), ", ".join(
            f"{CHECK_LABELS[c['kind']]}: {OUTCOME_LABELS.get(c['outcome'], '–')}"
            for c in b.get("checks", []) if c["kind"] in CHECK_LABELS)),
    ]
    rows = [BasisCriterion(criteria.Criterion(
                key=c["key"], name=c["name"], name_en=c.get("name_en"), weight=c["weight"],
                scale=c["scale"], knockout=c.get("minimum"), id=None if c["default"] else 0),
                c.get("mean"), bool(c.get("below_minimum")))
            for c in b.get("criteria", [])]
    return BasisView(facts, rows)


def latest_final(p: Proposal) -> Decision | None:
    final = [d for d in p.decisions if d.state == DecisionState.FINAL.value]
    return final[-1] if final else None


# ---------------------------------------------------------------- the steps


def decide(p: Proposal, action: str, user, *, message: str | None,
           seen_status: str | None) -> Decision:
    """The decider's approval or rejection: final at once, or pending until co-signed. The
    row is locked and every guard checked on what is committed (workflow.apply's rule)."""
    if action not in DECISION_ACTIONS:
        raise ValueError(action)
    lock(p)
    workflow.refuse_if_moved(p, seen_status)
    reason = workflow.check(p, action, user, message=message)
    message = (message or "").strip() or None
    if isinstance(reason, CoSignatureNeeded):
        return _request_co_signature(p, action, user, message)
    workflow.apply(p, action, user, message=message, seen_status=seen_status)
    decision = Decision(proposal=p, action=action, state=DecisionState.FINAL.value,
                        decider_id=user.id, rationale=message, basis=basis(p, action))
    db.session.add(decision)
    db.session.flush()
    return decision


def _request_co_signature(p: Proposal, action: str, user, message: str | None) -> Decision:
    decision = Decision(proposal=p, action=action, state=DecisionState.PENDING.value,
                        decider_id=user.id, rationale=message, co_signature_required=True,
                        basis=basis(p, action))
    db.session.add(decision)
    _note(p, user, "co_sign_requested", message)
    db.session.flush()
    audit.record(user, "decision.co_sign_requested", decision, proposal_id=p.id,
                 reference=p.reference, decision=action, cost_estimate=p.cost_estimate,
                 threshold=co_sign_threshold())
    others = [u for u in notifications.staff_with(Role.DECIDER) if u.id != user.id]
    notifications.notify(others, "co_signature_needed", proposal=p, internal=True,
                         link=url_for("review.proposal", proposal_id=p.id))
    return decision


def cannot_co_sign(p: Proposal, user):
    """Why `user` cannot co-sign the pending decision now (None: they can). The same guards
    as the move: a different person, a decider, no conflict of interest, the move's rules."""
    pending = pending_decision(p)
    if pending is None:
        return _l("Es wartet keine Entscheidung auf Mitzeichnung; vielleicht hat eine andere "
                  "Person sie schon mitgezeichnet oder die Mitzeichnung verweigert.")
    return workflow.check(p, pending.action, user, message=pending.rationale,
                          co_signing=pending)


def co_sign(p: Proposal, user, *, seen_status: str | None) -> Decision:
    """The second decider co-signs: only now does the move happen (workflow.apply checks the
    guards again). Of two co-signatures at the same moment one goes through; the other finds
    no decision pending any more after the lock."""
    lock(p)
    workflow.refuse_if_moved(p, seen_status)
    pending = pending_decision(p)
    reason = cannot_co_sign(p, user)
    if reason is not None or pending is None:
        raise DecisionRefused(reason)
    workflow.apply(p, pending.action, user, message=pending.rationale, co_signing=pending)
    pending.state = DecisionState.FINAL.value
    pending.co_signer_id = user.id
    pending.co_signed_at = utcnow()
    pending.basis = basis(p, pending.action)
    _note(p, user, "co_signed", None)
    audit.record(user, "decision.co_signed", pending, proposal_id=p.id, reference=p.reference,
                 decision=pending.action, decider_id=pending.decider_id)
    return pending


def cannot_refuse(p: Proposal, user):
    """Why `user` cannot refuse the co-signature (None: they can): the same person rules as
    co-signing, whatever the move's other guards say."""
    pending = pending_decision(p)
    if pending is None:
        return cannot_co_sign(p, user)
    if not user.has_role(Role.DECIDER):
        return _l("Ihnen fehlt die Berechtigung für diese Aktion.")
    if pending.decider_id == user.id:
        return _l("Sie haben diese Entscheidung selbst getroffen; über die Mitzeichnung "
                  "entscheidet eine andere Person.")
    return no_conflict_of_interest(Move(proposal=p, user=user))


def refuse(p: Proposal, user, reason: str | None, *, seen_status: str | None) -> Decision:
    """A second decider refuses the co-signature: the pending decision is cancelled, the
    proposal stays in review, the decider who asked is told."""
    lock(p)
    workflow.refuse_if_moved(p, seen_status)
    reason = (reason or "").strip()
    pending = pending_decision(p)
    found = cannot_refuse(p, user)
    if found is not None or pending is None:
        raise DecisionRefused(found)
    if not reason:
        raise DecisionRefused(_l("Bitte geben Sie an, warum Sie die Mitzeichnung verweigern."))
    pending.state = DecisionState.REFUSED.value
    pending.refused_by_id = user.id
    pending.refused_at = utcnow()
    pending.refusal_reason = reason
    _note(p, user, "co_sign_refused", reason)
    audit.record(user, "decision.co_sign_refused", pending, proposal_id=p.id,
                 reference=p.reference, decision=pending.action, decider_id=pending.decider_id)
    if pending.decider is not None:
        notifications.notify([pending.decider], "co_signature_refused", proposal=p,
                             internal=True, link=url_for("review.proposal", proposal_id=p.id))
    return pending


def _note(p: Proposal, user, action: str, message: str | None) -> None:
    """An internal timeline entry (staff only) of a step of the co-signature."""
    db.session.add(TimelineEntry(proposal=p, actor_id=user.id, action=action,
                                 from_status=p.status, to_status=p.status, message=message,
                                 internal=True))
