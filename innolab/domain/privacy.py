"""The DSGVO rights a person exercises themselves: a copy of all their data, deleting the account.

**Datenauskunft (export).** `request_export` records a `DataExport`; an account whose files
come to at most DATA_EXPORT_INLINE_MAX_BYTES gets its ZIP at once, a larger one is built by
the worker (`run`, called by `notifications.run_pass`), which then notifies the person
("Ihre Datenauskunft steht bereit", a process kind: always mailed). The ZIP holds `daten.json`
(what `collect` finds, see docs/privacy.md), `README.txt` in German and English, and the files
under `dateien/`. It can be downloaded for DATA_EXPORT_DAYS days; then the worker deletes it.
Of other people it holds nothing: in records others wrote too only what the person wrote,
staff appear as "InnoLab-Team", other members as "Mitglied der Organisation", e-mail addresses
of others are taken out of the audit details.

**Deleting the account.** `delete_account` removes what is not needed any more at once and
keeps what is the record of an administrative procedure (proposals with a decision, the
decisions, the audit log) with the person replaced by "Gelöschtes Konto (<pseudonym>)". It
refuses while the person holds a staff role (an admin removes the roles first) or is the last
owner of an organisation with other members (hand over first); an organisation in which the
person is the only member is dissolved with it. How the person confirms is one of
`CONFIRMATIONS` (the password, or a link by mail for an account without one); another method
(a second factor) is one more entry there.

No Flask request here; the caller commits.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from flask import current_app, url_for
from flask_babel import force_locale
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import String, cast, delete, func, or_, select, update

from innolab.i18n import lazy_gettext as _l
from innolab.links import external_url

from ..extensions import db, rows_changed
from ..models import (
    AuditEvent, Attachment, Challenge, Check, DataExport, DocumentVersion, EditSnapshot,
    ExportStatus, ExternalIdentity, FormReceipt, Invitation,
    MailSend, MemberRole, Membership, Message, Milestone, Notification, NotificationPreference,
    Organisation, OutboxMail, PendingRoleGrant, PilotGoal, Proposal, ProposalVersion, Review,
    RecoveryCode, ReviewAssignment, SecondFactor, SignInThrottle, Status, TimelineEntry, User,
    UserRole, UserSession,
)
from ..models._base import utcnow
from . import (
    DomainError, audit, mail_limits, mailer, notifications, search, storage, throttle, uploads,
)
from . import mfa
from . import proposals as proposal_domain
from . import terms
from .accounts import normalise_email, verify_password
from .locking import lock

log = logging.getLogger("innolab.privacy")

EXPORT_KIND = "data_export_ready"
CLAIM_FOR = timedelta(hours=1)   # a worker that took an export and died leaves it for this long
STALE_FILE_SECONDS = 3600        # files of the export folder without a row go after an hour
DELETION_MAIL_KIND = "account_deleted"
DELETION_MAIL_KEEP = timedelta(days=7)
DELETE_LINK_MAX_AGE = 3600       # seconds the confirmation link of a deletion works
PSEUDONYM_BYTES = 3              # six hex digits: "Gelöschtes Konto (a1b2c3)"

TEAM = _l("InnoLab-Team")
OTHER_MEMBER = _l("Mitglied der Organisation")
SYSTEM = _l("System")
OTHER_PERSON = _l("andere Person")
REMOVED = "…"

# A proposal with a decision is the record of an administrative procedure: it is kept.
DECIDED = frozenset({Status.APPROVED.value, Status.REJECTED.value, Status.RUNNING.value,
                     Status.COMPLETED.value, Status.CANCELLED.value})

_EMAIL = re.compile(r"[^@\s\"'<>,;]+@[^@\s\"'<>,;]+")


class DeletionRefused(DomainError):
    """The account cannot be deleted yet; `reason` says what to do first."""


# ====================================================================== the export


@dataclass
class _File:
    arcname: str
    stored: Attachment | DocumentVersion


def export_folder() -> Path:
    path = Path(current_app.config["DATA_EXPORT_FOLDER"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def export_path(export: DataExport) -> Path:
    name = export.stored_name or ""
    if not name or "/" in name or os.sep in name or name.startswith("."):
        raise FileNotFoundError(name)
    return export_folder() / name


def export_days() -> int:
    return int(current_app.config.get("DATA_EXPORT_DAYS", 7))


def exports_of(user) -> list[DataExport]:
    return list(db.session.execute(
        select(DataExport).where(DataExport.user_id == user.id)
        .order_by(DataExport.created_at.desc(), DataExport.id.desc())).scalars())


def own_export(user, export_id: int) -> DataExport | None:
    """The user's export, or None (someone else's is as unknown as a missing one)."""
    export = db.session.get(DataExport, export_id)
    return export if export is not None and export.user_id == user.id else None


def is_downloadable(export: DataExport, now: datetime | None = None) -> bool:
    return (export.status == ExportStatus.READY.value and export.expires_at is not None
            and export.expires_at > (now or utcnow()))


def pending_export(user) -> DataExport | None:
    return db.session.execute(
        select(DataExport).where(DataExport.user_id == user.id,
                                 DataExport.status == ExportStatus.REQUESTED.value)
        .order_by(DataExport.id)).scalars().first()


def request_export(user) -> DataExport:
    """Ask for a copy of all the person's data.

    Small accounts get the ZIP at once (status ready); larger ones wait for the worker. While
    one request waits, asking again returns it (also when two requests arrive at once: the
    account row is locked first).
    """
    lock(user)
    waiting = pending_export(user)
    if waiting is not None:
        return waiting
    export = DataExport(user_id=user.id, status=ExportStatus.REQUESTED.value)
    db.session.add(export)
    db.session.flush()
    size = sum(f.stored.size or 0 for f in _files(user))
    limit = int(current_app.config.get("DATA_EXPORT_INLINE_MAX_BYTES", 0))
    if limit > 0 and size <= limit:  # 0: always by the worker
        try:
            _build(export, user)
        except OSError:  # e.g. the disk is full: the worker tries again
            log.exception("Data export %s could not be made at once", export.id)
        else:
            audit.record(user, "privacy.export", export, background=False, size=export.size)
            return export
    audit.record(user, "privacy.export_requested", export, background=True)
    return export


def _build(export: DataExport, user: User) -> None:
    """Write the ZIP for `export` and mark it ready."""
    now = utcnow()
    with force_locale(user.locale or "de"):
        data, files = collect(user, now)
        readme = _readme(user, now)
    name = secrets.token_hex(16) + ".zip"
    folder = export_folder()
    temp = folder / (".tmp-" + name)
    try:
        with zipfile.ZipFile(temp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("README.txt", readme)
            zf.writestr("daten.json", json.dumps(data, ensure_ascii=False, indent=2,
                                                 default=_json_default))
            store = storage.current()
            for f in files:
                try:
                    _add_stored(zf, store, f)
                except FileNotFoundError:
                    log.warning("Export %s: file %s is missing", export.id, f.arcname)
        os.replace(temp, folder / name)
    finally:
        if temp.exists():
            temp.unlink()
    export.stored_name = name
    export.size = (folder / name).stat().st_size
    export.status = ExportStatus.READY.value
    export.ready_at = now
    export.expires_at = now + timedelta(days=export_days())
    export.error = None


def _add_stored(zf: zipfile.ZipFile, store: storage.Storage, f: _File) -> None:
    """Copy a stored file into the ZIP (read from the storage, in pieces); FileNotFoundError
    when it is not there."""
    with store.open(f.stored.stored_name) as source:
        when = f.stored.created_at or utcnow()
        info = zipfile.ZipInfo(f.arcname, date_time=when.timetuple()[:6])
        info.compress_type = zipfile.ZIP_DEFLATED
        with zf.open(info, "w") as target:
            shutil.copyfileobj(source, target, storage.CHUNK)


def _json_default(value):
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


# ---------------------------------------------------------------- what goes in


def _label(user: User, other: User | None, org: Organisation | None = None) -> str:
    """How another person appears in the export: never by name."""
    if other is None:
        return str(SYSTEM)
    if other.id == user.id:
        return user.name
    if other.is_staff and (org is None or not org.is_member(other)):
        return str(TEAM)
    if org is not None and org.is_member(other):
        return str(OTHER_MEMBER)
    return str(OTHER_PERSON)


def scrub(value, keep: str | None = None):
    """`value` (audit details) with every e-mail address but `keep` replaced by "…"."""
    keep = normalise_email(keep or "")
    if isinstance(value, str):
        return _EMAIL.sub(lambda m: m.group(0) if normalise_email(m.group(0)) == keep
                          else REMOVED, value)
    if isinstance(value, list):
        return [scrub(v, keep) for v in value]
    if isinstance(value, dict):
        return {k: scrub(v, keep) for k, v in value.items()}
    return value


def _safe_name(name: str) -> str:
    name = uploads.clean_filename(name).replace("/", "_") or "datei"
    return name


def _authored(user: User) -> list[Proposal]:
    return list(db.session.execute(
        select(Proposal).where(Proposal.created_by_id == user.id).order_by(Proposal.id)
    ).scalars().unique())


def _files(user: User) -> list[_File]:
    """The files of the export: what the person uploaded, and the (non-internal) attachments of
    the proposals they wrote."""
    authored_ids = [p.id for p in _authored(user)]
    conditions = [Attachment.uploaded_by_id == user.id]
    if authored_ids:
        conditions.append(Attachment.proposal_id.in_(authored_ids)
                          & Attachment.message_id.is_(None) & Attachment.internal.is_(False))
    files = [_File(f"dateien/anhaenge/{a.id}-{_safe_name(a.filename)}", a)
             for a in db.session.execute(
                 select(Attachment).where(or_(*conditions)).order_by(Attachment.id)).scalars()]
    files += [_File(f"dateien/dokumente/{v.id}-{_safe_name(v.filename)}", v)
              for v in db.session.execute(
                  select(DocumentVersion).where(DocumentVersion.uploaded_by_id == user.id)
                  .order_by(DocumentVersion.id)).scalars()]
    return files


def _when(value):
    return value.isoformat() if value is not None else None


def _ref(p: Proposal | None) -> dict | None:
    if p is None:
        return None
    return {"id": p.id, "reference": p.reference, "title": p.title}


def collect(user: User, now: datetime | None = None) -> tuple[dict, list[_File]]:
    """Everything stored about `user`, as plain data, and the files that go with it."""
    now = now or utcnow()
    uid = user.id
    email = normalise_email(user.email)
    files = _files(user)
    file_of = {(type(f.stored).__name__, f.stored.id): f.arcname for f in files}

    def attachment_row(a: Attachment) -> dict:
        return {"id": a.id, "filename": a.filename, "content_type": a.content_type,
                "size": a.size, "created_at": _when(a.created_at),
                "uploaded_by_you": a.uploaded_by_id == uid, "proposal": _ref(a.proposal),
                "file": file_of.get(("Attachment", a.id))}

    def rows(stmt):
        return list(db.session.execute(stmt).scalars().unique())

    data: dict = {
        "format": "innolab-datenauskunft/1",
        "created_at": now.isoformat(),
        "account": {
            "id": uid, "name": user.name, "email": user.email, "locale": user.locale,
            "created_at": _when(user.created_at),
            "email_confirmed_at": _when(user.email_confirmed_at),
            "last_login_at": _when(user.last_login_at), "active": user.active,
            "has_password": bool(user.password_hash),
        },
        "sign_in_identities": [
            {"provider": i.provider, "subject": i.subject, "email": i.email,
             "created_at": _when(i.created_at), "last_login_at": _when(i.last_login_at)}
            for i in rows(select(ExternalIdentity).where(ExternalIdentity.user_id == uid)
                          .order_by(ExternalIdentity.id))],
        # signed-in devices (kept until a day after they end)
        "sessions": [
            {"started_at": _when(x.created_at), "last_used_at": _when(x.last_seen_at),
             "ended_at": _when(x.ended_at), "method": x.method, "address": x.client_address,
             "browser": x.user_agent}
            for x in rows(select(UserSession).where(UserSession.user_id == uid)
                          .order_by(UserSession.id))],
        # which second factors, never their secrets or keys
        "second_factors": [
            {"kind": x.kind, "name": x.name, "created_at": _when(x.created_at),
             "last_used_at": _when(x.last_used_at)}
            for x in rows(select(SecondFactor).where(SecondFactor.user_id == uid)
                          .order_by(SecondFactor.id))],
        "recovery_codes_left": db.session.execute(
            select(func.count()).select_from(RecoveryCode).where(
                RecoveryCode.user_id == uid, RecoveryCode.used_at.is_(None))).scalar_one(),
        "staff_roles": [
            {"role": r.role, "granted_at": _when(r.granted_at), "source": r.source}
            for r in rows(select(UserRole).where(UserRole.user_id == uid).order_by(UserRole.id))],
        "pending_role_grants": [
            {"roles": g.role_values, "created_at": _when(g.created_at),
             "expires_at": _when(g.expires_at), "granted_by": str(TEAM)}
            for g in rows(select(PendingRoleGrant).where(PendingRoleGrant.user_id == uid)
                          .order_by(PendingRoleGrant.id))],
        "organisations": [
            {"organisation": m.organisation.name, "slug": m.organisation.slug, "role": m.role,
             "member_since": _when(m.created_at)}
            for m in rows(select(Membership).where(Membership.user_id == uid)
                          .order_by(Membership.id))],
        "invitations_received": [
            {"organisation": i.organisation.name, "email": i.email,
             "created_at": _when(i.created_at), "expires_at": _when(i.expires_at),
             "accepted_at": _when(i.accepted_at), "revoked_at": _when(i.revoked_at)}
            for i in rows(select(Invitation).where(func.lower(Invitation.email) == email)
                          .order_by(Invitation.id))],
        "invitations_sent": [
            {"organisation": i.organisation.name, "created_at": _when(i.created_at),
             "expires_at": _when(i.expires_at), "accepted_at": _when(i.accepted_at),
             "revoked_at": _when(i.revoked_at)}
            for i in rows(select(Invitation).where(Invitation.invited_by_id == uid)
                          .order_by(Invitation.id))],
    }

    authored = _authored(user)
    data["proposals_authored"] = [_proposal(user, p, attachment_row) for p in authored]
    authored_ids = {p.id for p in authored}
    data["proposal_submissions"] = [
        {"proposal": _ref(v.proposal), "version": v.number, "created_at": _when(v.created_at)}
        for v in rows(select(ProposalVersion).where(ProposalVersion.created_by_id == uid)
                      .order_by(ProposalVersion.id))
        if v.proposal_id not in authored_ids]
    data["edits"] = _edits(uid)
    data["timeline_entries"] = [
        {"proposal": _ref(e.proposal), "action": e.action, "from_status": e.from_status,
         "to_status": e.to_status, "message": e.message, "internal": e.internal,
         "created_at": _when(e.created_at)}
        for e in rows(select(TimelineEntry).where(TimelineEntry.actor_id == uid)
                      .order_by(TimelineEntry.id))
        if e.proposal_id not in authored_ids]
    data["attachments_uploaded"] = [
        attachment_row(a) for a in rows(select(Attachment).where(Attachment.uploaded_by_id == uid)
                                        .order_by(Attachment.id))]
    data["messages"] = [
        {"proposal": _ref(m.proposal), "body": m.body, "internal": m.internal,
         "created_at": _when(m.created_at),
         "attachments": [file_of.get(("Attachment", a.id)) for a in m.attachments
                         if a.uploaded_by_id == uid]}
        for m in rows(select(Message).where(Message.author_id == uid).order_by(Message.id))]
    data["documents"] = [
        {"proposal": _ref(v.document.proposal), "document": v.document.title,
         "version": v.number, "filename": v.filename, "content_type": v.content_type,
         "size": v.size, "note": v.note, "created_at": _when(v.created_at),
         "file": file_of.get(("DocumentVersion", v.id))}
        for v in rows(select(DocumentVersion).where(DocumentVersion.uploaded_by_id == uid)
                      .order_by(DocumentVersion.id))]
    data["pilot_goals"] = [
        {"proposal": _ref(g.proposal), "title": g.title, "baseline": g.baseline,
         "target": g.target, "measurement": g.measurement, "created_at": _when(g.created_at)}
        for g in rows(select(PilotGoal).where(PilotGoal.created_by_id == uid)
                      .order_by(PilotGoal.id))]
    data["milestones"] = [
        {"proposal": _ref(m.proposal), "title": m.title, "description": m.description,
         "due_date": _when(m.due_date), "done_at": _when(m.done_at),
         "created_at": _when(m.created_at)}
        for m in rows(select(Milestone).where(Milestone.created_by_id == uid)
                      .order_by(Milestone.id))]
    data["reviews"] = [
        {"proposal": _ref(r.proposal), **r.scores, "recommendation": r.recommendation,
         "comment": r.comment, "submitted_at": _when(r.submitted_at),
         "updated_at": _when(r.updated_at)}
        for r in rows(select(Review).where(Review.reviewer_id == uid).order_by(Review.id))]
    data["review_assignments"] = [
        {"proposal": _ref(a.proposal), "due_date": _when(a.due_date),
         "created_at": _when(a.created_at),
         "conflict_declared_at": _when(a.conflict_declared_at),
         "conflict_reason": a.conflict_reason}
        for a in rows(select(ReviewAssignment).where(ReviewAssignment.reviewer_id == uid)
                      .order_by(ReviewAssignment.id))]
    data["checks"] = [
        {"proposal": _ref(c.proposal), "kind": c.kind, "outcome": c.outcome,
         "comment": c.comment, "created_at": _when(c.created_at)}
        for c in rows(select(Check).where(Check.officer_id == uid).order_by(Check.id))]
    data["challenges_created"] = [
        {"id": c.id, "title": c.title, "created_at": _when(c.created_at)}
        for c in rows(select(Challenge).where(Challenge.created_by_id == uid)
                      .order_by(Challenge.id))]
    data["consents"] = _consents(user, authored)
    data["notifications"] = [
        {"kind": n.kind, "text": str(notifications.text(n.kind, n.params)), "link": n.link,
         "created_at": _when(n.created_at), "read_at": _when(n.read_at),
         "mailed_at": _when(n.mailed_at)}
        for n in rows(select(Notification).where(Notification.user_id == uid)
                      .order_by(Notification.id))]
    data["notification_preferences"] = notifications.preferences(user)
    data["audit_events"] = _audit(user)
    data["sign_in_throttle"] = [
        {"failures": t.failures, "last_failure_at": _when(t.last_failure_at),
         "blocked_until": _when(t.blocked_until)}
        for t in rows(select(SignInThrottle).where(SignInThrottle.key == _throttle_key(email)))]
    data["mail_limit_counts"] = [
        {"purpose": m.purpose, "created_at": _when(m.created_at)}
        for m in rows(select(MailSend).where(MailSend.recipient_hash == _mail_hash(email))
                      .order_by(MailSend.id))]
    data["mails"] = [
        {"subject": m.subject, "kind": m.kind, "created_at": _when(m.created_at),
         "sent_at": _when(m.sent_at), "failed_at": _when(m.failed_at)}
        for m in rows(select(OutboxMail).where(func.lower(OutboxMail.recipient) == email)
                      .order_by(OutboxMail.id))]
    data["form_receipts"] = [
        {"endpoint": r.endpoint, "created_at": _when(r.created_at)}
        for r in rows(select(FormReceipt).where(FormReceipt.user_id == uid)
                      .order_by(FormReceipt.id))]
    data["data_exports"] = [
        {"status": e.status, "created_at": _when(e.created_at), "ready_at": _when(e.ready_at),
         "expires_at": _when(e.expires_at)}
        for e in rows(select(DataExport).where(DataExport.user_id == uid)
                      .order_by(DataExport.id))]
    return data, files


def _proposal(user: User, p: Proposal, attachment_row: Callable) -> dict:
    org = p.organisation
    report = p.results_report
    return {
        "id": p.id, "reference": p.reference, "organisation": org.name, "status": p.status,
        "created_at": _when(p.created_at), "updated_at": _when(p.updated_at),
        "submitted_at": _when(p.submitted_at), "decided_at": _when(p.decided_at),
        "decision_rationale": p.decision_rationale,
        "content": p.snapshot(),
        "versions": [{"number": v.number, "created_at": _when(v.created_at),
                      "submitted_by": _label(user, db.session.get(User, v.created_by_id)
                                             if v.created_by_id else None, org),
                      "content": v.content} for v in p.versions],
        "attachments": [attachment_row(a) for a in p.attachments
                        if a.message_id is None and (not a.internal
                                                     or a.uploaded_by_id == user.id)],
        "timeline": [
            {"action": e.action, "from_status": e.from_status, "to_status": e.to_status,
             "by": _label(user, e.actor, org),
             "message": e.message if e.actor is None or e.actor_id == user.id
             or (e.actor.is_staff and not org.is_member(e.actor)) else None,
             "created_at": _when(e.created_at)}
            for e in p.timeline if not e.internal],
        "results_report": None if report is None else {
            "status": report.status, "summary": report.summary,
            "what_worked": report.what_worked, "what_did_not_work": report.what_did_not_work,
            "lessons_learned": report.lessons_learned, "recommendation": report.recommendation,
            "reuse_requirements": report.reuse_requirements,
            "publication_consent": report.publication_consent,
            "submitted_at": _when(report.submitted_at), "accepted_at": _when(report.accepted_at),
            "goal_results": [{"goal": r.goal.title, "value_reached": r.value_reached,
                              "reached": r.reached, "comment": r.comment}
                             for r in report.goal_results]},
    }


def _edits(uid: int) -> list[dict]:
    """Each save the person made of a versioned record, with only the fields that save changed
    (what they wrote, not what others had written before)."""
    mine = list(db.session.execute(
        select(EditSnapshot).where(EditSnapshot.user_id == uid).order_by(EditSnapshot.id)
    ).scalars().unique())
    result = []
    for snap in mine:
        before = db.session.execute(
            select(EditSnapshot.data).where(EditSnapshot.kind == snap.kind,
                                            EditSnapshot.record_id == snap.record_id,
                                            EditSnapshot.version < snap.version)
            .order_by(EditSnapshot.version.desc()).limit(1)).scalar_one_or_none()
        changed = None if before is None else {
            k: v for k, v in (snap.data or {}).items() if before.get(k) != v}
        result.append({"record": snap.kind, "record_id": snap.record_id,
                       "version": snap.version, "created_at": _when(snap.created_at),
                       "fields_you_changed": changed})
    return result


def _consents(user: User, authored: list[Proposal]) -> list[dict]:
    registered = db.session.execute(
        select(AuditEvent.created_at).where(AuditEvent.action == "user.register",
                                            AuditEvent.actor_id == user.id)
        .order_by(AuditEvent.id).limit(1)).scalar_one_or_none()
    result = []
    if registered is not None:
        result.append({"consent": "privacy_notice_on_registration", "given": True,
                       "at": _when(registered)})
    for c in terms.history(user):
        result.append({"consent": "privacy_notice", "version": c.version, "given": True,
                       "at": _when(c.given_at)})
    for p in authored:
        result.append({"consent": "proposal_publication", "proposal": _ref(p),
                       "given": p.publication_consent})
        if p.results_report is not None:
            result.append({"consent": "results_publication", "proposal": _ref(p),
                           "given": p.results_report.publication_consent})
    return result


def _audit_about(user: User):
    """Audit events in which the person acted or which are about their account or address."""
    email = normalise_email(user.email)
    return select(AuditEvent).where(or_(
        AuditEvent.actor_id == user.id,
        (AuditEvent.object_type == User.__tablename__) & (AuditEvent.object_id == user.id),
        search.contains(cast(AuditEvent.details, String), email)))


def _audit(user: User) -> list[dict]:
    events = db.session.execute(_audit_about(user).order_by(AuditEvent.id)).scalars().unique()
    return [{"created_at": _when(e.created_at), "action": e.action,
             "object_type": e.object_type, "object_id": e.object_id,
             "by": _label(user, e.actor),
             "ip": e.ip if e.actor_id == user.id else None,
             "details": scrub(e.details, user.email)} for e in events]


def _throttle_key(email: str) -> str:
    return throttle._hash("account", normalise_email(email)[:254])


def _mail_hash(email: str) -> str:
    return mail_limits._hash(email)


# ---------------------------------------------------------------- the README

SECTIONS = {
    "account": _l("Ihr Konto: Name, E-Mail-Adresse, Sprache, wann registriert, bestätigt und "
                  "zuletzt angemeldet, ob ein Passwort gesetzt ist (das Passwort selbst "
                  "speichern wir nur als Hash; er ist nicht enthalten)."),
    "sign_in_identities": _l("Mit Ihrem Konto verknüpfte Anmeldungen über andere Anbieter."),
    "staff_roles": _l("Ihre Rollen im ZDMV und ausstehende Rollen-Einladungen "
                      "(pending_role_grants)."),
    "organisations": _l("Ihre Mitgliedschaften in Organisationen mit Ihrer Rolle."),
    "invitations_received": _l("Einladungen an Ihre Adresse (invitations_received) und "
                               "Einladungen, die Sie verschickt haben (invitations_sent; ohne "
                               "die Adresse der eingeladenen Person)."),
    "proposals_authored": _l("Pilotvorschläge, die Sie angelegt haben: Inhalt, alle "
                             "eingereichten Fassungen, Anhänge, Verlauf (ohne interne "
                             "Einträge), Entscheidung und Ergebnisbericht."),
    "edits": _l("Jede Ihrer Bearbeitungen (auch an Vorschlägen anderer): nur die Felder, die "
                "Sie dabei geändert haben. proposal_submissions: Fassungen, die Sie für "
                "Vorschläge anderer eingereicht haben; timeline_entries: Ihre Schritte im "
                "Verlauf anderer Vorschläge."),
    "attachments_uploaded": _l("Dateien, die Sie hochgeladen haben; die Dateien selbst "
                               "liegen im Ordner dateien/."),
    "messages": _l("Ihre Nachrichten in den Arbeitsbereichen der Piloten, Ihre Dokumente "
                   "(documents), Ziele (pilot_goals) und Meilensteine (milestones)."),
    "reviews": _l("Nur für Mitarbeitende: Ihre Gutachten, Zuweisungen, Prüfungen und angelegten "
                  "Herausforderungen."),
    "consents": _l("Ihre Einwilligungen: Datenschutzhinweise bei der Registrierung, "
                   "Veröffentlichung von Vorschlägen und Ergebnissen."),
    "notifications": _l("Ihre Benachrichtigungen und Ihre Einstellungen dazu "
                        "(notification_preferences)."),
    "audit_events": _l("Einträge im Protokoll, die Sie ausgelöst haben oder die Ihr Konto "
                       "betreffen; E-Mail-Adressen anderer Personen sind durch „…“ ersetzt."),
    "sign_in_throttle": _l("Zähler fehlgeschlagener Anmeldungen und gesendeter "
                           "Sicherheits-E-Mails (mail_limit_counts)."),
    "mails": _l("E-Mails an Ihre Adresse: Betreff, Art, wann erstellt und versandt."),
    "form_receipts": _l("Quittungen gesendeter Formulare (Schutz vor doppeltem Absenden, "
                        "einen Tag lang) und Ihre Datenauskünfte (data_exports)."),
}


def _readme(user: User, now: datetime) -> str:
    parts = []
    for locale, title in (("de", "Deutsch"), ("en", "English")):
        with force_locale(locale):
            lines = [
                f"== {title} ==", "",
                str(_l("Datenauskunft des InnoLab des Zentrums für Digitalisierung "
                       "Mecklenburg-Vorpommern (ZDMV)")),
                str(_l("Erstellt am %(date)s für %(email)s.", date=now.strftime("%Y-%m-%d"),
                       email=user.email)), "",
                str(_l("Diese Datei enthält alle personenbezogenen Daten, die die Plattform über "
                       "Sie gespeichert hat (Art. 15 und 20 DSGVO). daten.json enthält die Daten "
                       "in maschinenlesbarer Form (JSON), der Ordner dateien/ die Dateien. Daten "
                       "anderer Personen sind nicht enthalten: Mitarbeitende des ZDMV erscheinen "
                       "als „InnoLab-Team“, andere Mitglieder Ihrer Organisation als „Mitglied "
                       "der Organisation“.")), "",
                str(_l("Die Abschnitte in daten.json:")),
            ]
            lines += [f"- {key}: {text}" for key, text in SECTIONS.items()]
            lines += ["", str(_l("Zeitangaben sind in UTC (ISO 8601)."))]
            parts.append("\n".join(str(line) for line in lines))
    return "\n\n".join(parts) + "\n"


# ---------------------------------------------------------------- the worker


def run(now: datetime | None = None) -> int:
    """The worker's step: build the waiting exports (each by one worker), expire old ones,
    remove files without a row and the sent confirmation mails of deletions. Commits;
    returns the number of exports built."""
    now = now or utcnow()
    built = 0
    for export_id in _claim(now):
        built += _build_claimed(export_id)
    expire(now)
    _prune_files(now)
    db.session.execute(delete(OutboxMail).where(
        OutboxMail.kind == DELETION_MAIL_KIND,
        or_(OutboxMail.sent_at.is_not(None), OutboxMail.created_at < now - DELETION_MAIL_KEEP)))
    db.session.commit()
    return built


def _claim(now: datetime) -> list[int]:
    free = or_(DataExport.started_at.is_(None), DataExport.started_at < now - CLAIM_FOR)
    ids = db.session.execute(
        select(DataExport.id).where(DataExport.status == ExportStatus.REQUESTED.value, free)
        .order_by(DataExport.id).limit(20)).scalars().all()
    taken = []
    for export_id in ids:
        if rows_changed(
                update(DataExport).where(DataExport.id == export_id,
                                         DataExport.status == ExportStatus.REQUESTED.value, free)
                .values(started_at=now).execution_options(synchronize_session=False)) == 1:
            taken.append(export_id)
    db.session.commit()
    return taken


def _build_claimed(export_id: int) -> int:
    export = db.session.get(DataExport, export_id)
    if export is None or export.status != ExportStatus.REQUESTED.value:
        return 0
    user = db.session.get(User, export.user_id)
    try:
        if user is None or user.deleted_at is not None:
            raise RuntimeError("the account is gone")
        _build(export, user)
        audit.record(user, "privacy.export", export, background=True, size=export.size)
        notifications.notify(
            [user], EXPORT_KIND, link=url_for("privacy.export"),
            message=_l("Sie können sie bis zum %(date)s herunterladen. Melden Sie sich dazu an "
                       "und öffnen Sie „Mein Konto“ → „Daten herunterladen“.",
                       date=export.expires_at.strftime("%d.%m.%Y")
                       if export.expires_at else ""))
        db.session.commit()
        return 1
    except Exception as exc:  # recorded on the row; the person can ask again
        db.session.rollback()
        log.exception("Data export %s failed", export_id)
        db.session.execute(
            update(DataExport).where(DataExport.id == export_id)
            .values(status=ExportStatus.FAILED.value, error=f"{type(exc).__name__}: {exc}"[:500])
            .execution_options(synchronize_session=False))
        db.session.commit()
        return 0


def expire(now: datetime | None = None) -> int:
    """Ready exports past their date: the file is deleted, the row says expired."""
    now = now or utcnow()
    old = db.session.execute(
        select(DataExport).where(DataExport.status == ExportStatus.READY.value,
                                 DataExport.expires_at <= now)).scalars().all()
    for export in old:
        _remove_file(export)
        export.status = ExportStatus.EXPIRED.value
        export.stored_name = None
    return len(old)


def _remove_file(export: DataExport) -> None:
    with contextlib.suppress(FileNotFoundError):
        export_path(export).unlink()


def _prune_files(now: datetime) -> None:
    folder = export_folder()
    known = set(db.session.execute(
        select(DataExport.stored_name).where(DataExport.stored_name.is_not(None))).scalars())
    limit = now.timestamp() - STALE_FILE_SECONDS
    for path in folder.iterdir():
        if path.is_file() and path.name not in known and path.stat().st_mtime < limit:
            path.unlink(missing_ok=True)


# ====================================================================== deleting the account


@dataclass
class Confirmation:
    """One way to confirm the deletion. `inline`: typed into the deletion form and checked by
    `check(user, value)`; otherwise a link by mail (`send_deletion_link`)."""

    key: str
    label: object
    available: Callable[[User], bool]
    inline: bool = True
    check: Callable[[User, str], bool] | None = None


CONFIRMATIONS: dict[str, Confirmation] = {
    "password": Confirmation("password", _l("Mit Ihrem Passwort"),
                             available=lambda u: bool(u.password_hash),
                             check=lambda u, value: verify_password(u, value or "")),
    "second_factor": Confirmation(
        "second_factor", _l("Mit Ihrem zweiten Faktor"), available=lambda u: mfa.has_factor(u),
        check=lambda u, value: mfa.prove(u, code=value, purpose="account_delete").ok),
    "mail_link": Confirmation("mail_link", _l("Mit einem Bestätigungslink per E-Mail"),
                              available=lambda u: not u.password_hash and not mfa.has_factor(u),
                              inline=False),
}


def confirmations_for(user: User) -> list[Confirmation]:
    return [c for c in CONFIRMATIONS.values() if c.available(user)]


def confirm(user: User, method: str, value: str) -> bool:
    """Whether `value` confirms the deletion by `method` (an inline method of the user)."""
    c = CONFIRMATIONS.get(method)
    if c is None or not c.inline or c.check is None or not c.available(user):
        return False
    ok = c.check(user, value)
    if not ok:
        audit.record(user, "security.account_delete_confirm_failed", user, method=method)
    return ok


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"],
                                  salt="innolab-delete-account")


def _fingerprint(user: User) -> str:
    raw = f"{user.email}|{user.password_hash or ''}|{user.deleted_at or ''}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def deletion_token(user: User) -> str:
    return _serializer().dumps({"u": user.id, "f": _fingerprint(user)})


def user_for_deletion_token(token: str) -> User | None:
    try:
        data = _serializer().loads(token, max_age=DELETE_LINK_MAX_AGE)
    except (BadSignature, SignatureExpired):
        return None
    if not isinstance(data, dict):
        return None
    user = db.session.get(User, data.get("u"))
    if user is None or user.deleted_at is not None or data.get("f") != _fingerprint(user):
        return None
    return user


def send_deletion_link(user: User) -> bool:
    """Mail the confirmation link (accounts without a password); False when the address had
    enough mails of this kind for now."""
    if not mail_limits.allow(user.email, "account_delete"):
        return False
    mailer.queue(user, "account_delete_link", _l("Löschen Ihres Kontos bestätigen"),
                 kind="account", url=external_url("privacy.delete_confirm",
                                                  token=deletion_token(user)))
    audit.record(user, "account.delete_link_sent", user)
    return True


@dataclass
class Plan:
    """What deleting the account would do, for the page and for `delete_account`."""

    staff: bool = False
    blocking: list[Organisation] = field(default_factory=list)  # last owner, other members
    dissolved: list[Organisation] = field(default_factory=list)  # the person is the only member
    left: list[Organisation] = field(default_factory=list)       # membership just ends
    proposals_deleted: list[Proposal] = field(default_factory=list)
    proposals_kept: list[Proposal] = field(default_factory=list)

    @property
    def allowed(self) -> bool:
        return not self.staff and not self.blocking


STAFF_REFUSED = _l("Sie haben Rollen im ZDMV. Konten von Mitarbeitenden löscht die "
                   "Administration, nachdem sie Ihnen die Rollen entzogen hat: Bitte wenden Sie "
                   "sich an die Administration des InnoLab.")


def plan(user: User) -> Plan:
    result = Plan(staff=bool(user.role_rows))
    memberships = db.session.execute(
        select(Membership).where(Membership.user_id == user.id).order_by(Membership.id)
    ).scalars().unique().all()
    for m in memberships:
        org = m.organisation
        others = [x for x in org.memberships if x.user_id != user.id]
        if not others:
            result.dissolved.append(org)
        elif m.role == MemberRole.OWNER.value and not any(
                x.role == MemberRole.OWNER.value for x in others):
            result.blocking.append(org)
        else:
            result.left.append(org)
    for org in result.dissolved:
        for p in db.session.execute(select(Proposal).where(Proposal.organisation_id == org.id)
                                    .order_by(Proposal.id)).scalars().unique():
            (result.proposals_kept if p.status in DECIDED else result.proposals_deleted).append(p)
    return result


def refusal(p: Plan):
    """Why the account cannot be deleted now (a translatable text), or None."""
    if p.staff:
        return STAFF_REFUSED
    if p.blocking:
        return _l("Sie sind die einzige Eigentümerin bzw. der einzige Eigentümer einer "
                  "Organisation, die weitere Mitglieder hat. Übergeben Sie die Eigentümerschaft "
                  "zuerst an ein anderes Mitglied: %(orgs)s",
                  orgs=", ".join(o.name for o in p.blocking))
    return None


def new_pseudonym() -> str:
    while True:
        value = secrets.token_hex(PSEUDONYM_BYTES)
        taken = db.session.execute(select(User.id).where(User.pseudonym == value)).first()
        if taken is None:
            return value


def deleted_name(pseudonym: str) -> str:
    return f"Gelöschtes Konto ({pseudonym})"


@dataclass
class Deleted:
    email: str
    pseudonym: str
    counts: dict


def delete_account(user: User, method: str) -> Deleted:
    """Delete the account of `user`, who confirmed it by `method` (see CONFIRMATIONS).

    Takes the account and the organisations it belongs to first, then checks again what
    refuses it (a staff role, the last owner of an organisation with other members).
    """
    org_ids = db.session.execute(
        select(Membership.organisation_id).where(Membership.user_id == user.id)).scalars().all()
    orgs = [db.session.get(Organisation, i) for i in org_ids]
    lock(user, *orgs)
    if user.deleted_at is not None:
        raise DeletionRefused(_l("Dieses Konto ist bereits gelöscht."))
    p = plan(user)
    reason = refusal(p)
    if reason is not None:
        raise DeletionRefused(reason)

    now = utcnow()
    uid = user.id
    email = normalise_email(user.email)
    old_email, locale, name = user.email, user.locale, user.name
    pseudonym = new_pseudonym()
    label = deleted_name(pseudonym)
    counts: dict[str, int] = {}

    # Organisations in which the person is the only member are dissolved.
    counts["proposals_deleted"] = len(p.proposals_deleted)
    counts["proposals_kept"] = len(p.proposals_kept)
    files_deleted = sum(proposal_domain.purge(proposal) for proposal in p.proposals_deleted)
    counts["organisations_dissolved"] = len(p.dissolved)
    counts["organisations_deleted"] = 0
    for org in p.dissolved:
        kept = any(x.organisation_id == org.id for x in p.proposals_kept)
        audit.record(user, "organisation.dissolve", org, kept_for_records=kept)
        if kept:  # the record of its decided proposals; without members and invitations
            for inv in list(org.invitations):
                db.session.delete(inv)
        else:
            counts["organisations_deleted"] += 1
            db.session.delete(org)
    db.session.flush()
    counts["files_deleted"] = files_deleted

    # Rows that are the person's own and are needed no longer.
    def gone(stmt) -> int:
        return rows_changed(stmt.execution_options(synchronize_session=False))

    counts["memberships"] = gone(delete(Membership).where(Membership.user_id == uid))
    counts["identities"] = gone(delete(ExternalIdentity).where(ExternalIdentity.user_id == uid))
    counts["second_factors"] = gone(delete(SecondFactor).where(SecondFactor.user_id == uid))
    counts["sessions"] = gone(delete(UserSession).where(UserSession.user_id == uid))
    counts["recovery_codes"] = gone(delete(RecoveryCode).where(RecoveryCode.user_id == uid))
    counts["pending_role_grants"] = gone(delete(PendingRoleGrant)
                                         .where(PendingRoleGrant.user_id == uid))
    counts["notifications"] = gone(delete(Notification).where(Notification.user_id == uid))
    counts["notification_preferences"] = gone(delete(NotificationPreference)
                                              .where(NotificationPreference.user_id == uid))
    counts["invitations_received"] = gone(delete(Invitation)
                                          .where(func.lower(Invitation.email) == email))
    counts["sign_in_throttles"] = gone(delete(SignInThrottle)
                                       .where(SignInThrottle.key == _throttle_key(email)))
    counts["mail_limit_counts"] = gone(delete(MailSend)
                                       .where(MailSend.recipient_hash == _mail_hash(email)))
    counts["mails"] = gone(delete(OutboxMail).where(func.lower(OutboxMail.recipient) == email))
    counts["form_receipts"] = gone(delete(FormReceipt).where(FormReceipt.user_id == uid))
    exports = db.session.execute(select(DataExport).where(DataExport.user_id == uid)).scalars()
    for export in exports:
        _remove_file(export)
    counts["data_exports"] = gone(delete(DataExport).where(DataExport.user_id == uid))
    gone(delete(UserRole).where(UserRole.user_id == uid))

    # Kept records: the person's contact data in proposals, e-mail and IP in the audit log.
    counts["contact_data_removed"] = _scrub_contact(uid, email, name, label)
    counts["audit_events_pseudonymised"] = _scrub_audit(uid, email, name, label)

    # The account row stays (kept records point to it), with nothing left that names anyone.
    db.session.flush()
    db.session.expire_all()  # the bulk deletes above left loaded rows behind
    db.session.refresh(user)
    user.name = label
    user.email = f"deleted-{pseudonym}@invalid"
    user.pseudonym = pseudonym
    user.deleted_at = now
    user.password_hash = None
    user.email_confirmed_at = None
    user.last_login_at = None
    user.active = False
    user.end_all_sessions()
    db.session.flush()

    # The confirmation to the old address (the only mail left for it; the worker removes it
    # once sent) and the audit event, with counts only.
    mailer.queue(old_email, "account_deleted", _l("Ihr Konto beim InnoLab wurde gelöscht"),
                 locale=locale, kind=DELETION_MAIL_KIND, name=name, pseudonym=pseudonym,
                 kept=counts["proposals_kept"], register_url=external_url("auth.register"))
    event = audit.record(user, "account.delete", user, method=method,
                         **{k: v for k, v in counts.items() if v})
    event.ip = None  # counts only: nothing that leads back to the person
    return Deleted(email=old_email, pseudonym=pseudonym, counts=counts)


def _replace(value, email: str, name: str, label: str):
    """`value` with the address replaced wherever it occurs and the name where it is a whole
    value (a name inside other text may be a word of it)."""
    if isinstance(value, str):
        if name and value.strip() == name.strip():
            return label
        return re.sub(re.escape(email), label, value, flags=re.IGNORECASE) if email else value
    if isinstance(value, list):
        return [_replace(v, email, name, label) for v in value]
    if isinstance(value, dict):
        return {k: _replace(v, email, name, label) for k, v in value.items()}
    return value


def _is_contact(content: dict | None, email: str, name: str) -> bool:
    if not content:
        return False
    return (normalise_email(content.get("contact_email") or "") == email
            or (bool(name) and (content.get("contact_name") or "").strip() == name.strip()))


def _without_contact(content: dict, label: str) -> dict:
    content = dict(content)
    content.update(contact_name=label, contact_email=None, contact_phone=None)
    return content


def _scrub_contact(uid: int, email: str, name: str, label: str) -> int:
    """Where a kept proposal names the person as its contact, the contact data goes (also in
    its versions and edit snapshots)."""
    changed = 0
    candidates = db.session.execute(select(Proposal).where(or_(
        func.lower(Proposal.contact_email) == email, Proposal.contact_name == name,
        Proposal.created_by_id == uid))).scalars().unique().all()
    for proposal in candidates:
        touched = False
        if _is_contact({"contact_email": proposal.contact_email,
                        "contact_name": proposal.contact_name}, email, name):
            proposal.contact_name, proposal.contact_email = label, None
            proposal.contact_phone = None
            touched = True
        for v in proposal.versions:
            if _is_contact(v.content, email, name):
                v.content = _without_contact(v.content, label)
                touched = True
        for snap in db.session.execute(select(EditSnapshot).where(
                EditSnapshot.kind == Proposal.__tablename__,
                EditSnapshot.record_id == proposal.id)).scalars():
            if _is_contact(snap.data, email, name):
                snap.data = _without_contact(snap.data, label)
                touched = True
        changed += touched
    return changed


def _scrub_audit(uid: int, email: str, name: str, label: str) -> int:
    """Audit events stay (who did what when), with the person's address replaced and the IP
    of their own events removed; the actor is the anonymised account."""
    events = db.session.execute(select(AuditEvent).where(or_(
        AuditEvent.actor_id == uid,
        (AuditEvent.object_type == User.__tablename__) & (AuditEvent.object_id == uid),
        search.contains(cast(AuditEvent.details, String), email)))).scalars().unique().all()
    for event in events:
        if event.details:
            event.details = _replace(event.details, email, name, label)
        if event.actor_id == uid:
            event.ip = None
    return len(events)
