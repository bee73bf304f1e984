"""Notifications: one call records an in-app notification per recipient and mails them.

`notify(recipients, kind, ...)` is the one entry point every area calls when something
happens that people should hear about. (First version: every notification is mailed at once;
preferences, daily digests and the notification centre build on it.)
"""
from __future__ import annotations

from innolab.i18n import lazy_gettext as _l

from ..extensions import db
from ..models import Notification
from . import mailer

# Every kind of event, with the German text shown in-app and used as the mail subject.
# The text may use the params given to notify() (%(reference)s, %(title)s, ...).
KINDS = {
    "submission_received": _l("Pilotvorschlag %(reference)s eingegangen"),
    "reviewer_assigned": _l("Neues Gutachten: %(reference)s"),
    "review_due_soon": _l("Gutachten zu %(reference)s bald fällig"),
    "review_overdue": _l("Gutachten zu %(reference)s überfällig"),
    "changes_requested": _l("Nachbesserung zu %(reference)s angefordert"),
    "decision": _l("Entscheidung zu %(reference)s"),
    "pilot_started": _l("Pilot %(reference)s hat begonnen"),
    "new_message": _l("Neue Nachricht im Piloten %(reference)s"),
    "milestone_due_soon": _l("Meilenstein „%(title)s“ bald fällig"),
    "milestone_late": _l("Meilenstein „%(title)s“ ist überfällig"),
    "report_returned": _l("Ergebnisbericht zu %(reference)s zurückgegeben"),
    "report_accepted": _l("Ergebnisbericht zu %(reference)s angenommen"),
    "report_published": _l("Ergebnisse von %(reference)s veröffentlicht"),
}

# Mails that are part of a process; a user cannot switch these off.
PROCESS_KINDS = {"decision", "changes_requested", "report_returned"}


def notify(recipients, kind: str, *, proposal=None, params: dict | None = None,
           link: str | None = None, mail_template: str = "notification", **mail_context) -> None:
    """Tell each of `recipients` (Users) about an event of `kind`.

    `link` is a path on this site (url_for(...)); `params` fill the kind's text.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    params = dict(params or {})
    if proposal is not None:
        params.setdefault("reference", proposal.reference or f"#{proposal.id}")
        params.setdefault("title", proposal.title)
    seen = set()
    for user in recipients:
        if user is None or user.id in seen or not user.active:
            continue
        seen.add(user.id)
        db.session.add(Notification(user_id=user.id, kind=kind, params=params, link=link,
                                    proposal_id=getattr(proposal, "id", None)))
        mailer.queue(user, mail_template, _subject(kind, params), kind=kind,
                     subject_text=_subject(kind, params),
                     link=_absolute(link), params=params, proposal=proposal, notification_kind=kind,
                     **mail_context)


def text(kind: str, params: dict | None):
    """The event's text in the current language, with its params filled in."""
    return _l(KINDS[kind]._args[0], **(params or {}))


_subject = text


def _absolute(link: str | None) -> str | None:
    if not link:
        return None
    from flask import current_app, has_request_context, request

    base = current_app.config.get("BASE_URL") or (
        request.host_url.rstrip("/") if has_request_context() else "http://127.0.0.1:5000")
    return base + link
