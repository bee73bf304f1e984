"""Consent to publication, given and withdrawn by the partner at any time.

Withdrawing takes the pilot (or its results) out of the showcase in the same transaction, so
the next request of any page, API answer or feed no longer has it (the open-data answers are
never served from a cache without asking again, see api/routes.py). Giving consent again
publishes nothing: a coordinator decides on publication anew.
"""
from __future__ import annotations

from flask import url_for

from innolab.i18n import lazy_gettext as _l

from ..models import Proposal
from . import DomainError, audit, notifications, permissions
from .locking import lock
from .permissions import CONSENT_PILOT, CONSENT_RESULTS
from .review import _timeline

WHATS = (CONSENT_PILOT, CONSENT_RESULTS)


def current(p: Proposal, what: str) -> bool:
    if what == CONSENT_PILOT:
        return bool(p.publication_consent)
    return bool(p.results_report is not None and p.results_report.publication_consent)


def is_public(p: Proposal, what: str) -> bool:
    if what == CONSENT_PILOT:
        return p.published_at is not None
    return p.results_report is not None and p.results_report.published_at is not None


def _checked(p: Proposal, user, what: str, wanted: bool) -> None:
    if what not in WHATS:
        raise ValueError(what)
    lock(p)
    allowed = permissions.change_publication_consent(user, p, what)
    if not allowed:
        raise DomainError(allowed.reason)
    if current(p, what) is wanted:
        raise DomainError(
            _l("Die Zustimmung ist bereits erteilt.") if wanted
            else _l("Die Zustimmung ist bereits widerrufen."))


def _tell_coordinators(p: Proposal, kind: str) -> None:
    # which consent it was, the timeline of the proposal says
    notifications.notify(notifications.coordinators_outside(p), kind, proposal=p,
                         link=url_for("review.proposal", proposal_id=p.id))


def withdraw(p: Proposal, user, what: str) -> bool:
    """Withdraw the consent; returns whether something left the showcase with it."""
    _checked(p, user, what, False)
    report = p.results_report
    was_public = is_public(p, what)
    if what == CONSENT_PILOT:
        p.publication_consent = False
        p.published_at = None
        if report is not None:
            # the results are shown only with their pilot: they go with it
            report.published_at = None
    else:
        assert report is not None  # the permission needs a submitted report
        report.publication_consent = False
        report.published_at = None
    _timeline(p, user, f"{what}_consent_withdrawn", internal=False)
    audit.record(user, "consent.withdraw", p, what=what, reference=p.reference,
                 was_public=was_public)
    _tell_coordinators(p, "consent_withdrawn")
    return was_public


def give(p: Proposal, user, what: str) -> None:
    _checked(p, user, what, True)
    if what == CONSENT_PILOT:
        p.publication_consent = True
    else:
        assert p.results_report is not None
        p.results_report.publication_consent = True
    _timeline(p, user, f"{what}_consent_given", internal=False)
    audit.record(user, "consent.give", p, what=what, reference=p.reference)
    _tell_coordinators(p, "consent_given")
