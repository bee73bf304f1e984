"""The results report of a pilot: written by the partner, reviewed by a coordinator, published.

Lifecycle of a report (ResultsReport.status):

    draft --submit--> submitted --send_back--> returned --submit--> submitted
                       submitted --accept--> accepted   (completes the pilot via workflow)

`published_at` is separate from the status: an accepted report with the partner's consent is
published by a coordinator (and unpublished again). The showcase shows it only while the pilot
itself is public (rules in innolab.domain.showcase).

Every step writes an audit event and an entry in the proposal's timeline (actions starting
with "report_"), which is also the report's own history.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from innolab.i18n import lazy_gettext as _l

from sqlalchemy import select

from ..extensions import db
from ..models import (
    GoalResult,
    Proposal,
    ReportRecommendation,
    ReportStatus,
    ResultsReport,
    Role,
    TimelineEntry,
)
from ..models._base import utcnow
from . import DomainError, audit, editing, permissions, review, workflow
from .locking import lock
from .notifications import members, notify, staff_with

R = ReportStatus


class ReportRefused(DomainError):
    pass


# The fields of the report, with their German labels (for forms and "still missing" lists).
FIELD_LABELS = {
    "summary": _l("Zusammenfassung"),
    "what_worked": _l("Was hat funktioniert?"),
    "what_did_not_work": _l("Was hat nicht funktioniert?"),
    "lessons_learned": _l("Erkenntnisse (Lessons Learned)"),
    "recommendation": _l("Empfehlung"),
    "reuse_requirements": _l("Was braucht eine andere Behörde, um die Lösung nachzunutzen?"),
}
TEXT_FIELDS = ("summary", "what_worked", "what_did_not_work", "lessons_learned",
               "reuse_requirements")

RECOMMENDATION_LABELS = {
    ReportRecommendation.ROLL_OUT.value: _l("Ausrollen"),
    ReportRecommendation.EXTEND.value: _l("Verlängern"),
    ReportRecommendation.STOP.value: _l("Beenden"),
}
RECOMMENDATION_HINTS = {
    ReportRecommendation.ROLL_OUT.value: _l("Die Lösung soll in den Regelbetrieb gehen."),
    ReportRecommendation.EXTEND.value: _l("Der Pilot soll verlängert oder erweitert werden."),
    ReportRecommendation.STOP.value: _l("Die Lösung soll nicht weiterverfolgt werden."),
}

STATUS_LABELS = {
    R.DRAFT.value: _l("Entwurf"),
    R.SUBMITTED.value: _l("Eingereicht"),
    R.RETURNED.value: _l("Zur Überarbeitung zurückgegeben"),
    R.ACCEPTED.value: _l("Angenommen"),
}

# Timeline actions of the report (labels in states.TIMELINE_LABELS).
EVENTS = ("report_submitted", "report_returned", "report_accepted", "report_published",
          "report_unpublished")


def status_label(status: str):
    return STATUS_LABELS.get(status, status)


def recommendation_label(value: str | None):
    return RECOMMENDATION_LABELS.get(value or "", "")


def history(p: Proposal) -> list[TimelineEntry]:
    """The report's own timeline: submitted, returned, accepted, published, unpublished."""
    return [e for e in p.timeline if e.action in EVENTS]


# ---------------------------------------------------------------- goals


@dataclass(frozen=True)
class GoalRow:
    """One goal of the pilot with what the report says about it (for the table)."""

    goal: object
    result: GoalResult | None

    @property
    def reached(self) -> bool | None:
        return self.result.reached if self.result is not None else None

    @property
    def value_reached(self) -> str | None:
        return self.result.value_reached if self.result is not None else None

    @property
    def comment(self) -> str | None:
        return self.result.comment if self.result is not None else None


def goals_of(p: Proposal) -> list:
    return sorted(p.goals, key=lambda g: (g.position, g.id))


def goal_rows(p: Proposal) -> list[GoalRow]:
    report = p.results_report
    by_goal = {r.goal_id: r for r in report.goal_results} if report is not None else {}
    return [GoalRow(g, by_goal.get(g.id)) for g in goals_of(p)]


# ---------------------------------------------------------------- writing


def _clean(value):
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


CONSENT_LABEL = _l("Zustimmung zur Veröffentlichung")
REACHED_LABELS = {True: _l("Ja, erreicht"), False: _l("Nein, nicht (vollständig) erreicht")}


def _edited_fields(report: ResultsReport) -> dict:
    data = {name: getattr(report, name) for name in FIELD_LABELS}
    data["publication_consent"] = bool(report.publication_consent)
    by_goal = {r.goal_id: r for r in report.goal_results}
    for g in goals_of(report.proposal):
        r = by_goal.get(g.id)
        data[f"goal_{g.id}_value"] = r.value_reached if r is not None else None
        data[f"goal_{g.id}_reached"] = r.reached if r is not None else None
        data[f"goal_{g.id}_comment"] = r.comment if r is not None else None
    return data


def _edited_labels(report: ResultsReport) -> dict:
    labels = {}
    for g in goals_of(report.proposal):
        labels[f"goal_{g.id}_value"] = _l("Erreichter Wert für „%(goal)s“", goal=g.title)
        labels[f"goal_{g.id}_reached"] = _l("Zielwert erreicht? – %(goal)s", goal=g.title)
        labels[f"goal_{g.id}_comment"] = _l("Erläuterung zu „%(goal)s“", goal=g.title)
    labels.update(FIELD_LABELS)
    labels["publication_consent"] = CONSENT_LABEL
    return labels


def _show(report, name: str, value) -> str:
    if name == "recommendation" and value in RECOMMENDATION_LABELS:
        return str(RECOMMENDATION_LABELS[value])
    if name.endswith("_reached") and value in REACHED_LABELS:
        return str(REACHED_LABELS[value])
    return editing.show_value(value)


# What the report form edits (not its status or the coordinator's comment), for editing.
EDIT = editing.Editable(fields=_edited_fields, labels=_edited_labels, show=_show)


def save_draft(p: Proposal, user, content: dict, goal_results: dict[int, dict],
               seen_version: int | None = None) -> ResultsReport:
    """Save what the partner wrote (complete or not). `goal_results`: goal id -> dict with
    value_reached, reached (True/False/None) and comment. `seen_version`: the version the
    form was opened with, 0 when there was no report yet (editing.EditConflict if another
    member saved other values since)."""
    allowed = permissions.write_report(user, p)
    if not allowed:
        raise ReportRefused(allowed.reason)
    existing = p.results_report
    created = existing is None
    report = existing if existing is not None else ResultsReport(proposal=p,
                                                                 status=R.DRAFT.value)
    if created:
        db.session.add(report)
    with editing.edit(EDIT, report, user, seen_version,
                      reload=lambda: db.session.execute(select(ResultsReport).where(
                          ResultsReport.proposal_id == p.id)).scalar_one_or_none()):
        _write(p, report, content, goal_results)
        audit.record(user, "report.create" if created else "report.save", report,
                     reference=p.reference)
    return report


def _write(p: Proposal, report: ResultsReport, content: dict, goal_results: dict) -> None:
    for name in TEXT_FIELDS:
        if name in content:
            setattr(report, name, _clean(content[name]))
    if "recommendation" in content:
        value = _clean(content["recommendation"])
        report.recommendation = value if value in RECOMMENDATION_LABELS else None
    if "publication_consent" in content:
        report.publication_consent = bool(content["publication_consent"])
    goal_ids = {g.id for g in p.goals}
    existing = {r.goal_id: r for r in report.goal_results}
    for goal_id, data in goal_results.items():
        if goal_id not in goal_ids:
            continue  # a goal of another pilot: ignored, never stored
        row = existing.get(goal_id)
        if row is None:
            row = GoalResult(goal_id=goal_id)
            report.goal_results.append(row)
        row.value_reached = _clean(data.get("value_reached"))
        row.reached = data.get("reached")
        row.comment = _clean(data.get("comment"))
    report.updated_at = utcnow()


def missing(p: Proposal) -> list[tuple[str, object]]:
    """(field name, label) of what must still be filled in before submitting."""
    report = p.results_report
    result: list[tuple[str, object]] = []
    for name, label in FIELD_LABELS.items():
        if report is None or getattr(report, name) in (None, ""):
            result.append((name, label))
    by_goal = {r.goal_id: r for r in report.goal_results} if report is not None else {}
    for g in goals_of(p):
        r = by_goal.get(g.id)
        if r is None or not r.value_reached:
            result.append((f"goal_{g.id}_value",
                           _l("Erreichter Wert für „%(goal)s“", goal=g.title)))
        if r is None or r.reached is None:
            result.append((f"goal_{g.id}_reached",
                           _l("Ziel erreicht? für „%(goal)s“", goal=g.title)))
    return result


def _timeline(p: Proposal, actor, action: str, message: str | None = None) -> TimelineEntry:
    entry = TimelineEntry(proposal=p, actor_id=getattr(actor, "id", None), action=action,
                          from_status=p.status, to_status=p.status, message=message,
                          internal=False)
    db.session.add(entry)
    return entry


def _link(p: Proposal) -> str:
    """The report's page, the link of every notification about it (notify makes it absolute
    for the mail through innolab.links)."""
    return url_for("results.edit", proposal_id=p.id)


def _existing(p: Proposal) -> ResultsReport:
    """The report a move works on; the permission checked before lets no move pass without."""
    report = p.results_report
    assert report is not None, "the permission check lets no move on a missing report pass"
    return report


def submit(p: Proposal, user) -> ResultsReport:
    lock(p)
    allowed = permissions.submit_report(user, p)
    if not allowed:
        raise ReportRefused(allowed.reason)
    gaps = missing(p)
    if gaps:
        raise ReportRefused(_l("Bitte füllen Sie noch aus: %(fields)s",
                               fields=", ".join(str(label) for _, label in gaps)))
    report = _existing(p)
    resubmitted = report.status == R.RETURNED.value
    report.status = R.SUBMITTED.value
    report.submitted_at = utcnow()
    _timeline(p, user, "report_submitted")
    db.session.flush()
    audit.record(user, "report.submit", report, reference=p.reference, again=resubmitted)
    notify(staff_with(Role.COORDINATOR), "report_submitted", proposal=p, link=_link(p))
    return report


def send_back(p: Proposal, user, comment: str | None) -> ResultsReport:
    lock(p)
    allowed = permissions.review_report(user, p)
    if not allowed:
        raise ReportRefused(allowed.reason)
    comment = _clean(comment)
    if not comment:
        raise ReportRefused(_l("Bitte schreiben Sie, was die Partnerorganisation am Bericht "
                               "überarbeiten soll."))
    report = _existing(p)
    report.status = R.RETURNED.value
    report.returned_at = utcnow()
    report.return_comment = comment
    _timeline(p, user, "report_returned", message=comment)
    db.session.flush()
    audit.record(user, "report.return", report, reference=p.reference)
    notify(members(p), "report_returned", proposal=p, link=_link(p), message=comment)
    return report


def accept(p: Proposal, user) -> ResultsReport:
    """Accept the report; this completes the pilot (through the workflow)."""
    lock(p)
    allowed = permissions.review_report(user, p)
    if not allowed:
        raise ReportRefused(allowed.reason)
    report = _existing(p)
    try:
        workflow.apply(p, "complete", user, accepting_report=True)
    except workflow.TransitionRefused as exc:
        raise ReportRefused(exc.reason) from exc
    report.status = R.ACCEPTED.value
    report.accepted_at = utcnow()
    _timeline(p, user, "report_accepted")
    db.session.flush()
    audit.record(user, "report.accept", report, reference=p.reference)
    notify(members(p), "report_accepted", proposal=p, link=_link(p))
    return report


def publish(p: Proposal, user) -> ResultsReport:
    """Publish the accepted report (partner consent needed). If the pilot is not in the
    showcase yet but may be (partner consented to that too), it is published with it."""
    lock(p)
    allowed = permissions.publish_results(user, p)
    if not allowed:
        raise ReportRefused(allowed.reason)

    report = _existing(p)
    pilot_too = p.published_at is None
    if pilot_too:
        review.publish(p, user)
    report.published_at = utcnow()
    _timeline(p, user, "report_published")
    db.session.flush()
    audit.record(user, "report.publish", report, reference=p.reference, with_pilot=pilot_too)
    notify(members(p), "report_published", proposal=p, link=_link(p))
    return report


def unpublish(p: Proposal, user) -> ResultsReport:
    lock(p)
    allowed = permissions.unpublish_results(user, p)
    if not allowed:
        raise ReportRefused(allowed.reason)
    report = _existing(p)
    report.published_at = None
    _timeline(p, user, "report_unpublished")
    db.session.flush()
    audit.record(user, "report.unpublish", report, reference=p.reference)
    return report
