"""Notifications: one call records an in-app notification per recipient and mails them.

`notify(recipients, kind, ...)` is the one entry point every area calls when something
happens that people should hear about. Each recipient gets a Notification (shown in the
notification centre; its text is rendered in the reader's language when shown) and, depending
on their preference for that kind, a mail now (immediate), a line in the daily digest (digest),
or nothing by mail (off). Kinds in PROCESS_KINDS are always mailed at once.

The worker (`flask --app wsgi innolab worker`, see innolab/cli.py) calls `run_pass()`: deliver
the outbox, send the daily digests that are due, create the reminders (reviews and milestones
due soon or late – each once), build the data exports people asked for (domain/privacy.py),
and deliver again.
"""
from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dataclasses import dataclass

from flask import current_app, url_for
from flask_babel import force_locale
from sqlalchemy import func, or_, select, update

from innolab.i18n import DEFAULT_LOCALE, LazyText
from innolab.i18n import lazy_gettext as _l
from innolab.links import absolute, external_url

from ..extensions import db
from ..models import (
    CheckKind,
    Delivery,
    Milestone,
    Notification,
    NotificationPreference,
    Proposal,
    Review,
    ReviewAssignment,
    Role,
    Status,
    User,
    UserRole,
)
from ..models._base import utcnow
from . import anonymise, audit, mailer, privacy, receipts, retention, sessions, settings
from .conflicts import conflict_of, conflicted_proposal_ids
from .states import current_round_sql, latest_check, required_checks

log = logging.getLogger("innolab.notifications")

@dataclass(frozen=True)
class Kind:
    """A kind of notification, as one row: everything the platform knows about it."""

    text: object        # in-app text, mail subject and digest line; may use the params of
                        # notify() (%(reference)s, %(title)s, ...), filled in when shown
    label: object       # what the preferences page calls it
    recipients: str     # who receives it, and the function that sends it
    process: bool = False       # part of a process: always mailed at once, cannot be switched off
    staff_only: bool = False    # only staff can receive it (preferences shown to staff only)
    # templates/mail/<template>.txt (and .html when it exists); a template other than
    # "notification" tells about a proposal, so a call without one gets "notification"
    template: str = "notification"

    def template_for(self, proposal) -> str:
        return self.template if proposal is not None else "notification"


MEMBERS, COORDINATORS, REVIEWERS = "members", "coordinators", "reviewers"

# Every kind of notification. The lifecycle moves that notify (TRANSITION_KINDS) send theirs
# through `transition` to the audiences named in `audiences`.
KINDS: dict[str, Kind] = {
    "submission_received": Kind(
        _l("Pilotvorschlag %(reference)s eingegangen"),
        _l("Ein Pilotvorschlag ist eingegangen"),
        "Partnerorganisation und Koordination (transition: submit)", template="transition"),
    "review_started": Kind(
        _l("Pilotvorschlag %(reference)s wird begutachtet"),
        _l("Die Begutachtung eines Pilotvorschlags hat begonnen"),
        "Partnerorganisation (transition: start_review)", template="transition"),
    "check_needed": Kind(
        _l("Ihre Prüfung ist erbeten: %(reference)s"),
        _l("Ein Pilotvorschlag wartet auf Ihre Prüfung"),
        "Datenschutz- und Informationssicherheitsbeauftragte (transition: start_review)",
        staff_only=True),
    "check_overdue": Kind(
        _l("Prüfung zu %(reference)s überfällig"), _l("Eine Prüfung ist überfällig"),
        "die Beauftragten, deren Prüfung fehlt, und die Koordination (create_reminders)",
        staff_only=True),
    "decision_overdue": Kind(
        _l("Entscheidung zu %(reference)s überfällig"), _l("Eine Entscheidung ist überfällig"),
        "Entscheidung und Koordination (create_reminders)", staff_only=True),
    "ready_for_decision": Kind(
        _l("Bereit zur Entscheidung: %(reference)s"),
        _l("Ein Pilotvorschlag ist bereit zur Entscheidung"),
        "Entscheidung und Koordination (review.save_review, review.record_check)",
        staff_only=True),
    "co_signature_needed": Kind(
        _l("Mitzeichnung erbeten: %(reference)s"),
        _l("Eine Entscheidung wartet auf Ihre Mitzeichnung"),
        "Entscheidung außer der Person, die entschieden hat (decisions.decide)",
        staff_only=True),
    "co_signature_refused": Kind(
        _l("Mitzeichnung verweigert: %(reference)s"),
        _l("Die Mitzeichnung Ihrer Entscheidung wurde verweigert"),
        "die Person, die entschieden hat (decisions.refuse)", staff_only=True),
    "reviewer_assigned": Kind(
        _l("Neues Gutachten: %(reference)s"), _l("Ihnen wurde ein Gutachten zugewiesen"),
        "die zugewiesene Gutachterin (review.assign)", staff_only=True,
        template="reviewer_assigned"),
    "second_round": Kind(
        _l("Zweite Runde: %(reference)s"),
        _l("Ein Vorschlag, den Sie begutachten, ist in der zweiten, offenen Runde"),
        "die zugewiesenen Gutachterinnen und Gutachter (transition: shortlist)",
        staff_only=True),
    "review_due_soon": Kind(
        _l("Gutachten zu %(reference)s bald fällig"), _l("Ein Gutachten ist bald fällig"),
        "die Gutachterin (create_reminders)", staff_only=True),
    "review_overdue": Kind(
        _l("Gutachten zu %(reference)s überfällig"), _l("Ein Gutachten ist überfällig"),
        "die Gutachterin und wer sie zugewiesen hat (create_reminders)", staff_only=True),
    "changes_requested": Kind(
        _l("Nachbesserung zu %(reference)s angefordert"),
        _l("Eine Nachbesserung wurde angefordert"),
        "Partnerorganisation (transition: request_changes)", process=True,
        template="transition"),
    "decision": Kind(
        _l("Entscheidung zu %(reference)s"), _l("Über einen Pilotvorschlag wurde entschieden"),
        "Partnerorganisation (transition: approve, reject)", process=True,
        template="transition"),
    "pilot_started": Kind(
        _l("Pilot %(reference)s hat begonnen"), _l("Ein Pilot hat begonnen"),
        "Partnerorganisation (transition: start_pilot)", template="transition"),
    "new_message": Kind(
        _l("Neue Nachricht im Piloten %(reference)s"),
        _l("Neue Nachricht im Arbeitsbereich eines Piloten"),
        "Team des Piloten außer der Verfasserin (workspace.post_message)"),
    "milestone_due_soon": Kind(
        _l("Meilenstein „%(title)s“ bald fällig"), _l("Ein Meilenstein ist bald fällig"),
        "Partnerorganisation und Koordination (create_reminders)"),
    "milestone_late": Kind(
        _l("Meilenstein „%(title)s“ ist überfällig"), _l("Ein Meilenstein ist überfällig"),
        "Partnerorganisation und Koordination (create_reminders)"),
    "report_submitted": Kind(
        _l("Ergebnisbericht zu %(reference)s eingereicht"),
        _l("Ein Ergebnisbericht wurde eingereicht"),
        "Koordination (results.submit)", staff_only=True),
    "report_returned": Kind(
        _l("Ergebnisbericht zu %(reference)s zurückgegeben"),
        _l("Ein Ergebnisbericht wurde zur Überarbeitung zurückgegeben"),
        "Partnerorganisation (results.send_back)", process=True),
    "report_accepted": Kind(
        _l("Ergebnisbericht zu %(reference)s angenommen"),
        _l("Ein Ergebnisbericht wurde angenommen"),
        "Partnerorganisation (results.accept)"),
    "report_published": Kind(
        _l("Ergebnisse von %(reference)s veröffentlicht"), _l("Ergebnisse wurden veröffentlicht"),
        "Partnerorganisation (results.publish)"),
    "proposal_resubmitted": Kind(
        _l("Pilotvorschlag %(reference)s erneut eingereicht"),
        _l("Ein Pilotvorschlag wurde überarbeitet und erneut eingereicht"),
        "Partnerorganisation und Koordination (transition: resubmit)", template="transition"),
    "proposal_withdrawn": Kind(
        _l("Pilotvorschlag %(reference)s zurückgezogen"),
        _l("Ein Pilotvorschlag wurde zurückgezogen"),
        "Koordination (transition: withdraw)", staff_only=True, template="transition"),
    "pilot_cancelled": Kind(
        _l("Pilot %(reference)s abgebrochen"), _l("Ein Pilot wurde abgebrochen"),
        "Partnerorganisation (transition: cancel)", process=True, template="transition"),
    "consent_withdrawn": Kind(
        _l("Zustimmung zur Veröffentlichung widerrufen: %(reference)s"),
        _l("Eine Partnerorganisation hat ihre Zustimmung zur Veröffentlichung widerrufen"),
        "Koordination (consent.withdraw)", process=True, staff_only=True),
    "consent_given": Kind(
        _l("Zustimmung zur Veröffentlichung erteilt: %(reference)s"),
        _l("Eine Partnerorganisation hat der Veröffentlichung zugestimmt"),
        "Koordination (consent.give)", staff_only=True),
    "member_joined": Kind(
        _l("%(name)s ist der Organisation %(org)s beigetreten"),
        _l("Jemand ist Ihrer Organisation beigetreten"),
        "die Eigentümerinnen und Eigentümer der Organisation (organisations.accept)"),
    "data_export_ready": Kind(
        _l("Ihre Datenauskunft steht bereit"),
        _l("Ihre Datenauskunft steht zum Herunterladen bereit"),
        "die Person, die sie angefordert hat (privacy.run)", process=True),
}

# Views of the table, for the preferences page and its form.
KIND_LABELS = {key: kind.label for key, kind in KINDS.items()}
PROCESS_KINDS = frozenset(key for key, kind in KINDS.items() if kind.process)
STAFF_KINDS = frozenset(key for key, kind in KINDS.items() if kind.staff_only)

# Lifecycle move -> (kind, audiences). Moves not listed notify nobody ("start_review" is
# internal; "complete" follows accepting the results report, which notifies "report_accepted").
TRANSITION_KINDS = {
    "submit": ("submission_received", (MEMBERS, COORDINATORS)),
    "start_review": ("review_started", (MEMBERS,)),
    "start_anonymous_review": ("review_started", (MEMBERS,)),
    # the reviewers confirm again that they have no conflict, now knowing who applied
    "shortlist": ("second_round", (REVIEWERS,)),
    "resubmit": ("proposal_resubmitted", (MEMBERS, COORDINATORS)),
    "request_changes": ("changes_requested", (MEMBERS,)),
    "approve": ("decision", (MEMBERS,)),
    "reject": ("decision", (MEMBERS,)),
    "start_pilot": ("pilot_started", (MEMBERS,)),
    "withdraw": ("proposal_withdrawn", (COORDINATORS,)),
    "cancel": ("pilot_cancelled", (MEMBERS,)),
}

DELIVERY_LABELS = {
    Delivery.IMMEDIATE.value: _l("Sofort per E-Mail"),
    Delivery.DIGEST.value: _l("Tägliche Zusammenfassung"),
    Delivery.OFF.value: _l("Keine E-Mail (nur hier auf der Plattform)"),
}

# Reminders: how many days before the due date.
REVIEW_DUE_SOON_DAYS = 2
MILESTONE_DUE_SOON_DAYS = 3
REVIEW_DUE_DAYS = 14  # default due date of a review: assigned + 14 days
CHECK_DUE_DAYS = 10   # the officers' checks: the review's start + 10 days
DECISION_DUE_DAYS = 7  # the decision: ready for decision + 7 days

PER_PAGE = 20


# ---------------------------------------------------------------- texts


class _Params(dict):
    """Params for a kind's text; a value missing from an old notification shows as "…"."""

    def __missing__(self, key):
        return "…"


def _render(kind: str, params: dict | None) -> str:
    values = _Params(params or {})
    values.setdefault("kind", kind)
    row = KINDS.get(kind)
    if row is None:
        return str(values["kind"])
    try:
        return str(row.text) % values
    except (TypeError, ValueError):  # a broken translation never breaks a page: German then
        with force_locale(DEFAULT_LOCALE):
            return str(row.text) % values


def text(kind: str, params: dict | None) -> LazyText:
    """The event's text in the current language, with its params filled in."""
    return LazyText(_render, kind, dict(params or {}))


_subject = text


# ---------------------------------------------------------------- preferences


def kinds_for(user) -> list[str]:
    """The kinds this user can receive (staff kinds for staff only), in KINDS order."""
    staff = bool(getattr(user, "is_staff", False))
    return [k for k in KINDS if staff or k not in STAFF_KINDS]


def preferences(user) -> dict[str, str]:
    """kind -> delivery for every kind (immediate where nothing was chosen)."""
    chosen = dict(db.session.execute(
        select(NotificationPreference.kind, NotificationPreference.delivery)
        .where(NotificationPreference.user_id == user.id)).all())
    result = {}
    for kind in KINDS:
        value = chosen.get(kind, Delivery.IMMEDIATE.value)
        result[kind] = Delivery.IMMEDIATE.value if kind in PROCESS_KINDS else value
    return result


def delivery_for(user, kind: str) -> str:
    if kind in PROCESS_KINDS:
        return Delivery.IMMEDIATE.value
    value = db.session.execute(
        select(NotificationPreference.delivery)
        .where(NotificationPreference.user_id == user.id, NotificationPreference.kind == kind)
    ).scalar_one_or_none()
    return value if value in {d.value for d in Delivery} else Delivery.IMMEDIATE.value


def set_preferences(user, choices: dict[str, str]) -> dict[str, str]:
    """Store the user's choices; process kinds and unknown kinds/values are ignored.

    Returns what changed (kind -> new delivery).
    """
    valid = {d.value for d in Delivery}
    rows = {p.kind: p for p in db.session.execute(
        select(NotificationPreference).where(NotificationPreference.user_id == user.id)
    ).scalars()}
    changed = {}
    for kind, value in choices.items():
        if kind not in KINDS or kind in PROCESS_KINDS or value not in valid:
            continue
        row = rows.get(kind)
        before = row.delivery if row is not None else Delivery.IMMEDIATE.value
        if row is None:
            row = NotificationPreference(user_id=user.id, kind=kind, delivery=value)
            db.session.add(row)
        row.delivery = value
        if before != value:
            changed[kind] = value
    db.session.flush()
    if changed:
        audit.record(user, "notification.preferences", user, **changed)
    return changed


# ---------------------------------------------------------------- the entry point


def notify(recipients, kind: str, *, proposal=None, params: dict | None = None,
           link: str | None = None, internal: bool = False,
           **mail_context) -> list[Notification]:
    """Tell each of `recipients` (Users) about an event of `kind`.

    `link` is a path on this site (url_for(...)); `params` fill the kind's text.
    `internal=True` (e.g. an internal note) reaches staff only: anyone without a staff role is
    dropped from the recipients, whatever the caller passed.
    Extra keyword arguments go to the kind's mail template (KINDS[kind].template), with `link`
    made absolute (innolab.links).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    params = dict(params or {})
    if proposal is not None:
        params.setdefault("reference", proposal.reference or f"#{proposal.id}")
        params.setdefault("title", proposal.title)
    now = utcnow()
    created = []
    seen = set()
    for user in recipients:
        if user is None or user.id in seen or not user.active:
            continue
        if internal and not user.is_staff:
            continue
        if proposal is not None and _conflicted(user, proposal, internal):
            continue
        seen.add(user.id)
        delivery = delivery_for(user, kind)
        # a reviewer of the anonymised first round hears of the proposal as they see it
        shown = proposal if proposal is None else anonymise.as_seen_by(user, proposal)
        own = params if shown is proposal else {
            **params, "title": anonymise.redact(proposal, params.get("title"))}
        n = Notification(user_id=user.id, kind=kind, params=own, link=link,
                         proposal_id=getattr(proposal, "id", None), created_at=now,
                         digest_due=delivery == Delivery.DIGEST.value)
        db.session.add(n)
        created.append(n)
        if delivery == Delivery.IMMEDIATE.value:
            n.mailed_at = now
            mailer.queue(user, KINDS[kind].template_for(proposal), _subject(kind, own),
                         kind=kind,
                         subject_text=_subject(kind, own),
                         link=absolute(link), params=own, proposal=shown,
                         notification_kind=kind, **mail_context)
    return created


def _conflicted(user, proposal, internal: bool) -> bool:
    """A staff member with a conflict of interest hears nothing about the proposal, unless
    they are a member of its organisation and it is not internal (then they hear it as one)."""
    if conflict_of(user, proposal) is None:
        return False
    return internal or not proposal.organisation.is_member(user)


# ---------------------------------------------------------------- the notification centre


def _not_conflicted(user):
    """Notifications about proposals the user has since come to have a conflict of interest
    with are no longer shown (those of their own organisation as a member stay)."""
    return or_(Notification.proposal_id.is_(None),
               Notification.proposal_id.not_in(conflicted_proposal_ids(user, as_member=False)))


def unread_count(user) -> int:
    return db.session.execute(
        select(func.count(Notification.id))
        .where(Notification.user_id == user.id, Notification.read_at.is_(None),
               _not_conflicted(user))
    ).scalar_one()


def page_of(user, page: int = 1, per_page: int = PER_PAGE):
    return db.paginate(
        select(Notification).where(Notification.user_id == user.id, _not_conflicted(user))
        .order_by(Notification.created_at.desc(), Notification.id.desc()),
        page=page, per_page=per_page, error_out=False)


def own(user, notification_id: int) -> Notification | None:
    """The user's notification, or None (someone else's is as unknown as a missing one)."""
    n = db.session.get(Notification, notification_id)
    return n if n is not None and n.user_id == user.id else None


def mark_read(user, n: Notification) -> None:
    if n.read_at is None:
        n.read_at = utcnow()
        audit.record(user, "notification.read", user, notification_id=n.id, kind=n.kind)


def mark_all_read(user) -> int:
    result = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow()).execution_options(synchronize_session=False))
    if result.rowcount:  # type: ignore[attr-defined]  # an UPDATE: CursorResult
        audit.record(user, "notification.read_all", user, count=result.rowcount)  # type: ignore[attr-defined]  # an UPDATE: CursorResult
    return result.rowcount  # type: ignore[attr-defined]  # an UPDATE: CursorResult


# ---------------------------------------------------------------- the daily digest


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Europe/Berlin")


def _local_today(now: datetime) -> date:
    return now.astimezone(_zone()).date()


def digest_cutoff(now: datetime) -> datetime | None:
    """Today's digest time (DIGEST_HOUR local time, as UTC), or None while it has not come."""
    hour = int(current_app.config.get("DIGEST_HOUR", 7))
    local_now = now.astimezone(_zone())
    cutoff = datetime.combine(local_now.date(), time(hour=hour), tzinfo=_zone())
    if local_now < cutoff:
        return None
    return cutoff.astimezone(UTC)


def send_digests(now: datetime | None = None, *, force: bool = False) -> int:
    """One mail per user bundling their digest notifications since their last digest.

    Due once a day at DIGEST_HOUR (local time): a user who got a digest since today's digest
    time waits for tomorrow. `force` sends whatever waits regardless of the hour. Notifications
    the user already read on the platform are not mailed again. Returns the number of mails.
    """
    now = now or utcnow()
    cutoff = digest_cutoff(now)
    if cutoff is None and not force:
        return 0
    pending = db.session.execute(
        select(Notification)
        .where(Notification.digest_due.is_(True), Notification.mailed_at.is_(None))
        .order_by(Notification.user_id, Notification.created_at, Notification.id)
        .with_for_update(skip_locked=True)
    ).scalars().all()
    by_user: dict[int, list[Notification]] = {}
    for n in pending:
        by_user.setdefault(n.user_id, []).append(n)
    sent = 0
    for user_id, items in by_user.items():
        user = db.session.get(User, user_id)
        if not force and cutoff is not None:
            last = db.session.execute(
                select(func.max(Notification.mailed_at))
                .where(Notification.user_id == user_id, Notification.digest_due.is_(True))
            ).scalar_one()
            if last is not None and last >= cutoff:
                continue  # today's digest went out already
        hidden = set(db.session.execute(conflicted_proposal_ids(user, as_member=False))
                     .scalars()) if user is not None else set()
        unread = [n for n in items if n.read_at is None and n.proposal_id not in hidden]
        for n in items:
            n.mailed_at = now
        if user is None or not user.active or not unread:
            continue
        mailer.queue(user, "digest", _l("Ihre Benachrichtigungen im InnoLab"), kind="digest",
                     items=[(text(n.kind, n.params), absolute(n.link), n.created_at)
                            for n in unread],
                     centre=external_url("notifications.index"),
                     preferences=external_url("notifications.preferences"))
        sent += 1
    db.session.commit()
    return sent


# ---------------------------------------------------------------- reminders


def staff_with(role: Role) -> list[User]:
    """Active staff with `role`."""
    return list(db.session.execute(
        select(User).join(UserRole)
        .where(UserRole.role == role.value, User.active.is_(True))
        .order_by(User.id)
    ).scalars().unique())


def coordinators_outside(p: Proposal) -> list[User]:
    """Active coordinators who are not members of the proposing organisation (a coordinator
    who is a member hears what the members hear)."""
    member_ids = {m.user_id for m in p.organisation.memberships}
    return [u for u in staff_with(Role.COORDINATOR) if u.id not in member_ids]


def members(p: Proposal) -> list[User]:
    """Active members of the proposing organisation."""
    return [m.user for m in p.organisation.memberships if m.user.active]


def transition(p: Proposal, action: str, actor, message: str | None) -> None:
    """Tell the audiences of a lifecycle move (TRANSITION_KINDS) about it; workflow.apply calls
    this. Coordinators who are members of the organisation hear it as members."""
    if action in ("start_review", "shortlist"):  # the checks begin with the open round
        checks_needed(p)
    if action not in TRANSITION_KINDS:
        return
    kind, audiences = TRANSITION_KINDS[action]
    partner = members(p)
    if MEMBERS in audiences and partner:
        endpoint = "pilots.workspace" if action == "start_pilot" else "proposals.show"
        notify(partner, kind, proposal=p, link=url_for(endpoint, proposal_id=p.id),
               action=action, message=message, as_staff=False)
    if COORDINATORS in audiences:
        notify(coordinators_outside(p), kind, proposal=p,
               link=url_for("review.proposal", proposal_id=p.id),
               action=action, message=message, as_staff=True)
    if REVIEWERS in audiences:
        notify([a.reviewer for a in p.assignments if a.active], kind, proposal=p,
               link=url_for("review.gate", proposal_id=p.id))


def _check_officers(kind: str) -> list[User]:
    role = Role.DPO if kind == CheckKind.DATA_PROTECTION.value else Role.ISO
    return staff_with(role)


def checks_needed(p: Proposal) -> None:
    """The review has begun: each officer whose check the decision needs is asked for it
    (the data-protection officer only where personal data is processed)."""
    for kind in required_checks(p):
        notify(_check_officers(kind), "check_needed", proposal=p,
               link=url_for("review.check", proposal_id=p.id, kind=kind))


def ready_for_decision(p: Proposal) -> None:
    """Every review and check the decision needs is in: the deciders are told it is their
    turn, the coordinators that it is ready. The decision is due DECISION_DUE_DAYS later."""
    p.decision_due_on = decision_due_date()
    p.reminded_decision_overdue_at = None
    notify([*staff_with(Role.DECIDER), *coordinators_outside(p)], "ready_for_decision",
           proposal=p, link=url_for("review.proposal", proposal_id=p.id))


def reviewer_assigned(p: Proposal, reviewer: User, due_date=None) -> None:
    notify([reviewer], "reviewer_assigned", proposal=p,
           link=url_for("review.proposal", proposal_id=p.id), due_date=due_date)


def check_due_date(today: date | None = None) -> date:
    return (today or date.today()) + timedelta(days=CHECK_DUE_DAYS)


def decision_due_date(today: date | None = None) -> date:
    return (today or date.today()) + timedelta(days=DECISION_DUE_DAYS)


def review_due_date(today: date | None = None) -> date:
    return (today or date.today()) + timedelta(days=REVIEW_DUE_DAYS)


def _overdue_steps(now: datetime, today: date) -> int:
    """Checks and decisions past their due date: once each, to those whose turn it is and,
    as the escalation, to the coordinators."""
    count = 0
    in_review = select(Proposal).where(Proposal.status == Status.IN_REVIEW.value)
    late_checks = db.session.execute(
        in_review.where(Proposal.checks_due_on < today,
                        Proposal.reminded_checks_overdue_at.is_(None))
        .order_by(Proposal.id).with_for_update(skip_locked=True, of=Proposal)
    ).scalars().all()
    for p in late_checks:
        missing = [kind for kind in required_checks(p) if latest_check(p, kind) is None]
        if not missing:
            continue
        p.reminded_checks_overdue_at = now
        officers = [u for kind in missing for u in _check_officers(kind)]
        assert p.checks_due_on is not None  # the query selects proposals with a due date
        params = {"due_date": p.checks_due_on.isoformat()}
        notify([*officers, *coordinators_outside(p)], "check_overdue", proposal=p,
               params=params, link=url_for("review.proposal", proposal_id=p.id),
               due_date=p.checks_due_on)
        count += 1
    late_decisions = db.session.execute(
        in_review.where(Proposal.decision_due_on < today,
                        Proposal.reminded_decision_overdue_at.is_(None))
        .order_by(Proposal.id).with_for_update(skip_locked=True, of=Proposal)
    ).scalars().all()
    for p in late_decisions:
        p.reminded_decision_overdue_at = now
        assert p.decision_due_on is not None
        notify([*staff_with(Role.DECIDER), *coordinators_outside(p)], "decision_overdue",
               proposal=p, params={"due_date": p.decision_due_on.isoformat()},
               link=url_for("review.proposal", proposal_id=p.id), due_date=p.decision_due_on)
        count += 1
    return count


def create_reminders(now: datetime | None = None) -> int:
    """Reviews due soon / overdue, milestones due soon / late – each reminder once.

    The stamps on ReviewAssignment and Milestone record that a reminder went out. Rows are
    locked with FOR UPDATE SKIP LOCKED on PostgreSQL, so two workers never remind twice.
    Returns the number of reminders (events, not recipients). Commits.
    """
    now = now or utcnow()
    today = _local_today(now)
    count = 0

    # Reviews: an active assignment without a submitted review, while the proposal is in review.
    submitted = select(Review.id).where(
        Review.proposal_id == ReviewAssignment.proposal_id,
        Review.reviewer_id == ReviewAssignment.reviewer_id,
        Review.submitted_at.is_not(None), Review.round == current_round_sql()).exists()
    open_assignments = (
        select(ReviewAssignment).join(Proposal, Proposal.id == ReviewAssignment.proposal_id)
        .where(ReviewAssignment.due_date.is_not(None),
               ReviewAssignment.conflict_declared_at.is_(None),
               Proposal.status.in_((Status.SUBMITTED.value, Status.ANONYMOUS_REVIEW.value,
                                    Status.IN_REVIEW.value)),
               ~submitted)
        .order_by(ReviewAssignment.id)
    )
    overdue = db.session.execute(
        open_assignments.where(ReviewAssignment.due_date < today,
                               ReviewAssignment.reminded_overdue_at.is_(None))
        .with_for_update(skip_locked=True, of=ReviewAssignment)
    ).scalars().all()
    for a in overdue:
        a.reminded_overdue_at = now
        a.reminded_due_at = a.reminded_due_at or now  # "due soon" would come too late now
        p = a.proposal
        assert a.due_date is not None  # the query selects assignments with a due date
        params = {"due_date": a.due_date.isoformat()}
        notify([a.reviewer], "review_overdue", proposal=p, params=params,
               link=url_for("review.review", proposal_id=p.id), due_date=a.due_date)
        assigner = db.session.get(User, a.assigned_by_id) if a.assigned_by_id else None
        if assigner is not None and assigner.id != a.reviewer_id:
            notify([assigner], "review_overdue", proposal=p, params=params,
                   link=url_for("review.proposal", proposal_id=p.id), due_date=a.due_date,
                   reviewer_name=a.reviewer.name)
        count += 1
    due_soon = db.session.execute(
        open_assignments.where(ReviewAssignment.due_date >= today,
                               ReviewAssignment.due_date <= today + timedelta(
                                   days=REVIEW_DUE_SOON_DAYS),
                               ReviewAssignment.reminded_due_at.is_(None))
        .with_for_update(skip_locked=True, of=ReviewAssignment)
    ).scalars().all()
    for a in due_soon:
        a.reminded_due_at = now
        p = a.proposal
        assert a.due_date is not None  # the query selects assignments with a due date
        notify([a.reviewer], "review_due_soon", proposal=p,
               params={"due_date": a.due_date.isoformat()},
               link=url_for("review.review", proposal_id=p.id), due_date=a.due_date)
        count += 1

    count += _overdue_steps(now, today)

    # Milestones of running pilots that are not done.
    open_milestones = (
        select(Milestone).join(Proposal, Proposal.id == Milestone.proposal_id)
        .where(Milestone.done_at.is_(None), Proposal.status == Status.RUNNING.value)
        .order_by(Milestone.id)
    )
    late = db.session.execute(
        open_milestones.where(Milestone.due_date < today, Milestone.reminded_late_at.is_(None))
        .with_for_update(skip_locked=True, of=Milestone)
    ).scalars().all()
    for m in late:
        m.reminded_late_at = now
        m.reminded_due_at = m.reminded_due_at or now
        _milestone_notice(m, "milestone_late")
        count += 1
    soon = db.session.execute(
        open_milestones.where(Milestone.due_date >= today,
                              Milestone.due_date <= today + timedelta(days=MILESTONE_DUE_SOON_DAYS),
                              Milestone.reminded_due_at.is_(None))
        .with_for_update(skip_locked=True, of=Milestone)
    ).scalars().all()
    for m in soon:
        m.reminded_due_at = now
        _milestone_notice(m, "milestone_due_soon")
        count += 1
    db.session.commit()
    return count


def _milestone_notice(m: Milestone, kind: str) -> None:
    p = m.proposal
    link = url_for("pilots.milestone", proposal_id=p.id, milestone_id=m.id)
    params = {"title": m.title, "due_date": m.due_date.isoformat()}
    notify(members(p), kind, proposal=p, params=params, link=link, due_date=m.due_date)
    notify(coordinators_outside(p), kind, proposal=p, params=params, link=link,
           due_date=m.due_date)


# ---------------------------------------------------------------- the worker


def run_pass(now: datetime | None = None, *, force_digest: bool = False) -> dict[str, int]:
    """One pass of the worker: deliver, digests, reminders, data exports, deliver what they
    queued, prune, and once a day the deletion schedule.

    Each step runs whatever the one before did: a mail that fails is recorded on its row by
    the mailer, and should a step raise (the database or the configuration fails), the others
    still run; the failed step runs again next pass.
    """
    counts = {"sent": 0, "digests": 0, "reminders": 0, "receipts": 0, "exports": 0,
              "sessions": 0, "retention": 0}
    steps = (("sent", mailer.deliver_all),
             ("digests", lambda: send_digests(now, force=force_digest)),
             ("reminders", lambda: create_reminders(now)),
             ("exports", lambda: privacy.run(now)),
             ("sent", mailer.deliver_all),
             ("receipts", lambda: receipts.prune(now)),
             ("sessions", lambda: sessions.prune(now)),
             # the deletion schedule, once a day; the warnings it queues go out next pass
             ("retention", lambda: retention.run_if_due(now)))
    for name, step in steps:
        try:
            counts[name] += step()
        except Exception:  # one failing step does not stop the others; it runs again next pass
            db.session.rollback()
            log.exception("Worker step %s failed", name)
    try:  # for monitoring (/metrics: innolab_worker_last_run_timestamp_seconds)
        settings.remember("worker.last_run", (now or utcnow()).isoformat())
        db.session.commit()
    except Exception:  # monitoring never stops the worker
        db.session.rollback()
        log.exception("Worker could not record its pass")
    return counts
