"""The co-signature rule (Mitzeichnung): above the cost threshold an approval is final only
when a second decider without a conflict of interest co-signs it. In memory, as the table's
tests (tests/unit/test_states.py)."""
from __future__ import annotations

import pytest

from innolab.domain import states, workflow
from innolab.models import Decision, DecisionState, Membership, Role, Status
from tests.unit.test_states import _check, _user, make_world


@pytest.fixture
def threshold(monkeypatch):
    """threshold(value) sets the admin setting as stored (a string, or None: not set)."""

    def _set(value):
        monkeypatch.setattr(states, "get_setting",
                            lambda key: value if key == states.CO_SIGN_SETTING else None)

    _set(None)
    return _set


def _pending(w, decider) -> Decision:
    d = Decision(id=1, action="approve", state=DecisionState.PENDING.value,
                 decider_id=decider.id, decider=decider, rationale="Passt.",
                 co_signature_required=True)
    w.p.decisions.append(d)
    return d


def _world(cost):
    w = make_world(Status.IN_REVIEW.value, cost_estimate=cost)
    w.users["second"] = _user(70, Role.DECIDER.value)
    return w


@pytest.mark.parametrize("stored,expected", [
    (None, 100_000), ("250000", 250_000), ("0", 0), ("", 100_000), ("viel", 100_000),
])
def test_threshold_is_the_setting_else_the_default(app_ctx, threshold, stored, expected):
    threshold(stored)
    assert states.co_sign_threshold() == expected


@pytest.mark.parametrize("cost,required", [
    (100_001, True), (100_000, False), (99_999, False), (None, False), (0, False),
])
def test_only_an_approval_above_the_threshold_needs_it(app_ctx, threshold, cost, required):
    w = _world(cost)
    assert states.co_signature_required(w.p) is required
    assert states.co_signature_required(w.p, "reject") is False
    reason = _check(w, "approve", "decider")
    assert isinstance(reason, states.CoSignatureNeeded) is required
    if not required:
        assert reason is None  # below the threshold the approval is final at once


def test_threshold_zero_never_asks(app_ctx, threshold):
    threshold("0")
    assert _check(_world(5_000_000), "approve", "decider") is None


def test_a_rejection_is_never_held_for_co_signature(app_ctx, threshold):
    assert _check(_world(900_000), "reject", "decider") is None


def test_the_first_decider_is_offered_the_approval_with_the_note(app_ctx, threshold):
    w = _world(200_000)
    [approve] = [o for o in workflow.options(w.p, w.users["decider"]) if o.action == "approve"]
    assert approve.allowed
    assert "100.000" in str(approve.note) and "zweite Person" in str(approve.note)
    threshold("500000")
    [approve] = [o for o in workflow.options(w.p, w.users["decider"]) if o.action == "approve"]
    assert approve.allowed and approve.note is None


def test_a_different_decider_may_co_sign(app_ctx, threshold):
    w = _world(200_000)
    pending = _pending(w, w.users["decider"])
    assert _check(w, "approve", "second", message=pending.rationale, co_signing=pending) is None


def test_the_same_person_may_not_co_sign(app_ctx, threshold):
    w = _world(200_000)
    pending = _pending(w, w.users["decider"])
    reason = _check(w, "approve", "decider", message=pending.rationale, co_signing=pending)
    assert "mitzeichnen muss eine andere Person" in str(reason)


def test_a_co_signer_with_a_conflict_of_interest_is_refused(app_ctx, threshold):
    w = _world(200_000)
    pending = _pending(w, w.users["decider"])
    second = w.users["second"]
    w.org.memberships.append(Membership(user_id=second.id, user=second, role="member"))
    reason = _check(w, "approve", "second", message=pending.rationale, co_signing=pending)
    assert "Interessenkonflikt" in str(reason)


def test_a_co_signer_without_the_decider_role_is_refused(app_ctx, threshold):
    w = _world(200_000)
    pending = _pending(w, w.users["decider"])
    reason = _check(w, "approve", "coordinator", message=pending.rationale, co_signing=pending)
    assert "Berechtigung" in str(reason)


def test_the_guards_are_asked_again_at_co_signature(app_ctx, threshold):
    w = _world(200_000)
    pending = _pending(w, w.users["decider"])
    w.p.checks[1].outcome = "failed"  # the security check failed since the first decision
    reason = _check(w, "approve", "second", message=pending.rationale, co_signing=pending)
    assert "Informationssicherheit" in str(reason)


@pytest.mark.parametrize("action", ["approve", "reject"])
def test_no_other_decision_beside_a_pending_one(app_ctx, threshold, action):
    w = _world(200_000)
    _pending(w, w.users["decider"])
    reason = _check(w, action, "second")
    assert "wartet auf Mitzeichnung" in str(reason)
    assert states.pending_decision(w.p) is w.p.decisions[0]
