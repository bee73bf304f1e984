"""The deletion schedule (Löschkonzept): how long each kind of personal data is kept.

Each rule has a period in days, a default (documented and justified in docs/privacy.md) that
an admin may change within bounds (`/admin/retention`), and a function that removes what is
due at a given moment. The worker runs the schedule once a day (`run_if_due`); every run is
recorded in the audit log with counts only, never content. The privacy page shows the
periods from the same settings (`periods()`).

Where a person could still want what is about to go (a draft), they get a mail a month
before; the deletion waits until the warning is that old, and editing the draft starts the
period again.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import ngettext
from sqlalchemy import delete, func, or_, select, update

from innolab.i18n import lazy_gettext as _l

from ..extensions import db, rows_changed
from ..links import external_url
from ..models import (
    AuditEvent, Notification, OutboxMail, PendingRoleGrant, Proposal, RetentionNotice, Status,
    TimelineEntry, User,
)
from ..models._base import utcnow
from . import audit, mailer, privacy, settings
from . import proposals as proposal_domain

SETTING_PREFIX = "retention."
LAST_RUN_SETTING = "retention.last_run"


@dataclass(frozen=True)
class Rule:
    key: str
    label: object          # what the admin page and the privacy page call the data
    default_days: int
    min_days: int
    max_days: int
    reason: object         # why this period (shown to admins, in docs/privacy.md)
    warn_days: int = 0     # days before the deletion a mail warns the people concerned


RULES: tuple[Rule, ...] = (
    Rule("unconfirmed_accounts", _l("Nicht bestätigte Konten"), 7, 1, 90,
         _l("Ein Konto, dessen E-Mail-Adresse nie bestätigt wurde, kann nicht genutzt werden; "
            "der Bestätigungslink ist nur wenige Tage sinnvoll.")),
    Rule("stale_drafts", _l("Entwürfe, die nicht mehr bearbeitet werden"), 365, 90, 3 * 365,
         _l("Ein Entwurf ist noch kein Verwaltungsvorgang. Nach einem Jahr ohne Bearbeitung "
            "wird er gelöscht; die Organisation wird einen Monat vorher per E-Mail gewarnt."),
         warn_days=30),
    Rule("closed_proposals", _l("Abgelehnte und zurückgezogene Vorschläge mit ihren Dateien"),
         3 * 365, 365, 10 * 365,
         _l("Aufbewahrung als Unterlage des Verfahrens, solange Nachfragen und "
            "Rechtsbehelfe zu erwarten sind; danach werden sie mit allen Dateien gelöscht.")),
    Rule("audit_ips", _l("IP-Adressen im Audit-Protokoll"), 90, 7, 365,
         _l("Die Adressen dienen der Aufklärung von Angriffen, die in aller Regel binnen "
            "Wochen erkannt werden; die Einträge selbst bleiben als Nachweis.")),
    Rule("sent_mails", _l("Zugestellte und endgültig gescheiterte E-Mails im Postausgang"),
         30, 1, 365,
         _l("Die Kopie dient nur der Nachverfolgung der Zustellung.")),
    Rule("notifications", _l("Benachrichtigungen auf der Plattform"), 365, 30, 3 * 365,
         _l("Benachrichtigungen verweisen auf Vorgänge, die selbst erhalten bleiben.")),
    Rule("inactive_accounts", _l("Konten von Partnerinnen und Partnern ohne Anmeldung"),
         3 * 365, 365, 10 * 365,
         _l("Wer sich jahrelang nicht angemeldet hat, nutzt die Plattform nicht mehr. Die "
            "Person wird einen Monat vorher per E-Mail gewarnt; eine Anmeldung erhält das "
            "Konto. Gelöscht wird wie beim Löschen durch die Person selbst."),
         warn_days=30),
)
RULES_BY_KEY = {rule.key: rule for rule in RULES}


# ---------------------------------------------------------------- the periods


def days(key: str) -> int:
    rule = RULES_BY_KEY[key]
    raw = settings.get_setting(SETTING_PREFIX + key)
    try:
        value = int(raw) if raw is not None else rule.default_days
    except ValueError:
        return rule.default_days
    return min(max(value, rule.min_days), rule.max_days)


def set_days(actor, values: dict[str, int]) -> list[str]:
    """Store the admin's periods (each within its bounds); returns the keys that changed."""
    changed = []
    for key, value in values.items():
        rule = RULES_BY_KEY[key]
        if not rule.min_days <= value <= rule.max_days:
            raise ValueError(f"{key}: {value} outside {rule.min_days}..{rule.max_days}")
        if value != days(key) and settings.set_setting(actor, SETTING_PREFIX + key, str(value)):
            changed.append(key)
    return changed


def human(n_days: int) -> str:
    """7 -> "7 Tage", 365 -> "1 Jahr", 1095 -> "3 Jahre"."""
    if n_days >= 365 and n_days % 365 == 0:
        years = n_days // 365
        return ngettext("%(num)d Jahr", "%(num)d Jahre", years)
    return ngettext("%(num)d Tag", "%(num)d Tage", n_days)


@dataclass(frozen=True)
class Period:
    key: str
    label: object
    days: int
    text: str
    reason: object
    default_days: int


def periods() -> list[Period]:
    """Every rule with its period now in force (the admin page and the privacy page)."""
    return [Period(r.key, r.label, days(r.key), human(days(r.key)), r.reason, r.default_days)
            for r in RULES]


# ---------------------------------------------------------------- the rules


def _cutoff(key: str, now: datetime) -> datetime:
    return now - timedelta(days=days(key))


def _unconfirmed_accounts(now: datetime) -> int:
    cutoff = _cutoff("unconfirmed_accounts", now)
    open_grant = select(PendingRoleGrant.id).where(
        PendingRoleGrant.user_id == User.id, PendingRoleGrant.expires_at > now)
    users = db.session.execute(select(User).where(
        User.email_confirmed_at.is_(None), User.created_at < cutoff,
        ~User.role_rows.any(), ~User.memberships.any(), ~open_grant.exists(),
    )).scalars().all()
    for user in users:
        db.session.delete(user)
    return len(users)


def _warn_draft(p: Proposal, delete_on: datetime) -> None:
    for membership in p.organisation.memberships:
        if membership.user.active:
            mailer.queue(membership.user, "draft_deletion_warning",
                         _l("Ihr Entwurf „%(title)s“ wird bald gelöscht", title=p.title),
                         kind="retention", title=p.title, delete_on=delete_on,
                         period_days=days("stale_drafts"),
                         link=external_url("proposals.show", proposal_id=p.id))


def _notices(rule: Rule, ids: list[int]) -> dict[int, RetentionNotice]:
    return {n.object_id: n for n in db.session.execute(select(RetentionNotice).where(
        RetentionNotice.rule == rule.key, RetentionNotice.object_id.in_(ids))).scalars()}


def _due_after_warning(rule: Rule, notices: dict[int, RetentionNotice], object_id: int,
                       last_change: datetime, now: datetime, warn) -> RetentionNotice | None:
    """The warning step of a rule with `warn_days`: the first time (or when the object changed
    since the last warning) `warn()` is called and the notice kept; the notice is returned once
    the object is past its period and the warning is `warn_days` old (the caller deletes)."""
    notice = notices.get(object_id)
    if notice is None or notice.object_updated_at < last_change:
        if notice is None:
            notice = RetentionNotice(rule=rule.key, object_id=object_id)
            db.session.add(notice)
        notice.warned_at = now
        notice.object_updated_at = last_change
        warn()
        return None
    if (last_change < _cutoff(rule.key, now)
            and notice.warned_at <= now - timedelta(days=rule.warn_days)):
        return notice
    return None


def _stale_drafts(now: datetime) -> int:
    rule = RULES_BY_KEY["stale_drafts"]
    warn_from = _cutoff(rule.key, now) + timedelta(days=rule.warn_days)
    drafts = db.session.execute(select(Proposal).where(
        Proposal.status == Status.DRAFT.value, Proposal.updated_at < warn_from)).scalars().all()
    notices = _notices(rule, [p.id for p in drafts])
    removed = 0
    for p in drafts:
        # editing the draft after a warning starts the period again
        notice = _due_after_warning(
            rule, notices, p.id, p.updated_at, now,
            lambda p=p: _warn_draft(p, now + timedelta(days=rule.warn_days)))
        if notice is not None:
            db.session.delete(notice)
            proposal_domain.purge(p)
            removed += 1
    return removed


def _closed_at(p: Proposal) -> datetime | None:
    if p.status == Status.REJECTED.value:
        return p.decided_at
    return db.session.execute(
        select(TimelineEntry.created_at).where(TimelineEntry.proposal_id == p.id,
                                               TimelineEntry.action == "withdraw")
        .order_by(TimelineEntry.created_at.desc()).limit(1)).scalar_one_or_none() \
        or p.updated_at


def _closed_proposals(now: datetime) -> int:
    cutoff = _cutoff("closed_proposals", now)
    closed = db.session.execute(select(Proposal).where(
        Proposal.status.in_((Status.REJECTED.value, Status.WITHDRAWN.value)),
        Proposal.updated_at < cutoff)).scalars().all()
    removed = 0
    for p in closed:
        when = _closed_at(p)
        if when is not None and when < cutoff:
            proposal_domain.purge(p)
            removed += 1
    return removed


def _audit_ips(now: datetime) -> int:
    return rows_changed(update(AuditEvent).where(
        AuditEvent.created_at < _cutoff("audit_ips", now), AuditEvent.ip.is_not(None))
        .values(ip=None))


def _sent_mails(now: datetime) -> int:
    cutoff = _cutoff("sent_mails", now)
    return rows_changed(delete(OutboxMail).where(or_(
        OutboxMail.sent_at < cutoff, OutboxMail.failed_at < cutoff)))


def _notifications(now: datetime) -> int:
    return rows_changed(delete(Notification).where(
        Notification.created_at < _cutoff("notifications", now)))


def _last_seen(user: User) -> datetime:
    return max(d for d in (user.last_login_at, user.created_at) if d is not None)


def _inactive_accounts(now: datetime) -> int:
    """Partner accounts without a sign-in for the period: warned a month before, then deleted
    as the person would delete them (privacy.delete_account); staff accounts are the
    admins' to end. An account that cannot be deleted yet (the last owner of an organisation
    with other members) stays and is tried again the next day."""
    rule = RULES_BY_KEY["inactive_accounts"]
    warn_from = _cutoff(rule.key, now) + timedelta(days=rule.warn_days)
    seen = func.coalesce(User.last_login_at, User.created_at)
    users = db.session.execute(select(User).where(
        User.active.is_(True), User.deleted_at.is_(None), User.email_confirmed_at.is_not(None),
        ~User.role_rows.any(), seen < warn_from)).scalars().all()
    notices = _notices(rule, [u.id for u in users])
    removed = 0
    for user in users:
        notice = _due_after_warning(
            rule, notices, user.id, _last_seen(user), now,
            lambda user=user: mailer.queue(
                user, "inactive_account_warning",
                _l("Ihr Konto beim InnoLab wird bald gelöscht"), kind="retention",
                delete_on=now + timedelta(days=rule.warn_days), period_days=days(rule.key),
                login_url=external_url("auth.login")))
        if notice is None:
            continue
        try:
            with db.session.begin_nested():
                privacy.delete_account(user, method="retention")
        except privacy.DeletionRefused:
            continue  # the last owner of an organisation with others: again tomorrow
        db.session.delete(notice)
        removed += 1
    return removed


APPLY = {
    "unconfirmed_accounts": _unconfirmed_accounts,
    "stale_drafts": _stale_drafts,
    "closed_proposals": _closed_proposals,
    "audit_ips": _audit_ips,
    "sent_mails": _sent_mails,
    "notifications": _notifications,
    "inactive_accounts": _inactive_accounts,
}


# ---------------------------------------------------------------- running it


def run(now: datetime | None = None) -> dict[str, int]:
    """Apply every rule at `now`; commits, and records the counts in the audit log."""
    now = now or utcnow()
    counts = {}
    for rule in RULES:
        counts[rule.key] = APPLY[rule.key](now)
        db.session.flush()
    audit.record(None, "retention.run", None, counts=counts,
                 periods={r.key: days(r.key) for r in RULES})
    settings.remember(LAST_RUN_SETTING, now.date().isoformat())
    db.session.commit()
    return counts


def run_if_due(now: datetime | None = None) -> int:
    """The worker's step: run once a day; returns how many things were removed."""
    now = now or utcnow()
    if settings.get_setting(LAST_RUN_SETTING) == now.date().isoformat():
        return 0
    return sum(run(now).values())


def last_run() -> AuditEvent | None:
    return db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "retention.run")
        .order_by(AuditEvent.id.desc()).limit(1)).scalar_one_or_none()
