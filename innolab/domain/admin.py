"""Administration: staff accounts and roles, authorities, topics, footer pages, audit log.

Every function that changes something records an audit event; the caller commits.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from innolab.i18n import LOCALES
from innolab.i18n import lazy_gettext as _l
from innolab.links import external_url
from sqlalchemy import Select, event, exists, func, or_, select

from ..extensions import db
from ..models import (
    ADMIN_SOURCE, PAGE_SLUGS, PendingRoleGrant, AuditEvent, Authority, Challenge,
    ExternalIdentity, Organisation, OutboxMail,
    Proposal, Role, SitePage, Status, Topic, User, UserRole, challenge_topics, proposal_topics,
)
from . import DomainError, accounts, audit, editing, mailer, pages
from ..models._base import utcnow
from .locking import lock, lock_query
from .search import contains, starts_with
from .identities import remove_unconfirmed_identities
from .organisations import unique_slug

# In the order the admin sees them.
ROLE_LABELS = {
    Role.ADMIN.value: _l("Administration"),
    Role.COORDINATOR.value: _l("Koordination"),
    Role.REVIEWER.value: _l("Begutachtung"),
    Role.DECIDER.value: _l("Entscheidung"),
    Role.DPO.value: _l("Datenschutzbeauftragte/r"),
    Role.ISO.value: _l("Informationssicherheitsbeauftragte/r"),
}

ROLE_HINTS = {
    Role.ADMIN.value: _l("Konten, Rollen, Behörden, Themen, Seiten und Audit-Protokoll verwalten"),
    Role.COORDINATOR.value: _l("Herausforderungen veröffentlichen, Vorschläge sichten, "
                               "Gutachterinnen und Gutachter zuweisen, Piloten begleiten"),
    Role.REVIEWER.value: _l("Zugewiesene Vorschläge begutachten"),
    Role.DECIDER.value: _l("Begutachtete Vorschläge bewilligen oder ablehnen"),
    Role.DPO.value: _l("Datenschutzprüfung von Vorschlägen"),
    Role.ISO.value: _l("Prüfung der Informationssicherheit von Vorschlägen"),
}

LOCALE_LABELS = {"de": _l("Deutsch"), "en": _l("Englisch")}

PAGE_LABELS = {
    "impressum": _l("Impressum"),
    "datenschutz": _l("Datenschutz"),
    "barrierefreiheit": _l("Erklärung zur Barrierefreiheit"),
    "kontakt": _l("Kontakt"),
}

# The part of an audit action before the dot, as the admin reads it.
ACTION_PREFIX_LABELS = {
    "user": _l("Konten"),
    "organisation": _l("Organisationen"),
    "proposal": _l("Pilotvorschläge"),
    "attachment": _l("Anhänge"),
    "review": _l("Begutachtung und Prüfungen"),
    "challenge": _l("Herausforderungen"),
    "authority": _l("Behörden"),
    "topic": _l("Themen"),
    "page": _l("Seiten"),
    "report": _l("Ergebnisberichte"),
    "setting": _l("Einstellungen"),
    "accessibility": _l("Rückmeldungen zur Barrierefreiheit"),
    "sign_language": _l("Video in Gebärdensprache"),
    # failed sign-ins, refused provider answers, 403, CSRF failures, 429, mail limits
    "security": _l("Sicherheitsereignisse"),
}

OBJECT_TYPE_LABELS = {
    "users": _l("Konto"),
    "organisations": _l("Organisation"),
    "invitations": _l("Einladung"),
    "memberships": _l("Mitgliedschaft"),
    "proposals": _l("Pilotvorschlag"),
    "attachments": _l("Anhang"),
    "reviews": _l("Gutachten"),
    "review_assignments": _l("Zuweisung"),
    "checks": _l("Prüfung"),
    "challenges": _l("Herausforderung"),
    "authorities": _l("Behörde"),
    "topics": _l("Thema"),
    "site_pages": _l("Seite"),
    "external_identities": _l("Externe Anmeldung"),
    "proposal_versions": _l("Version eines Vorschlags"),
    "accessibility_feedback": _l("Rückmeldung zur Barrierefreiheit"),
    "sign_language_videos": _l("Video in Gebärdensprache"),
}

LAST_ADMIN = _l("Sie sind die einzige aktive Person mit der Rolle Administration. Geben Sie "
                "die Rolle zuerst einer anderen Person, bevor Sie sie sich selbst entziehen.")


# ------------------------------------------------------------------ dashboard


def dashboard_counts() -> dict:
    def count(stmt) -> int:
        return db.session.execute(stmt).scalar_one()

    staff_ids = select(UserRole.user_id)
    by_status = dict(db.session.execute(
        select(Proposal.status, func.count(Proposal.id)).group_by(Proposal.status)
    ).all())
    return {
        "users": count(select(func.count(User.id))),
        "staff": count(select(func.count(User.id)).where(User.id.in_(staff_ids))),
        "inactive": count(select(func.count(User.id)).where(User.active.is_(False))),
        "organisations": count(select(func.count(Organisation.id))),
        "proposals_total": sum(by_status.values()),
        "proposals": [(s.value, by_status.get(s.value, 0)) for s in Status],
        "outbox": count(select(func.count(OutboxMail.id)).where(OutboxMail.sent_at.is_(None))),
        "outbox_failed": count(select(func.count(OutboxMail.id)).where(
            OutboxMail.sent_at.is_(None), OutboxMail.attempts > 0)),
        "mails_failed": count(select(func.count(OutboxMail.id)).where(
            OutboxMail.sent_at.is_(None), OutboxMail.failed_at.is_not(None))),
    }


# ------------------------------------------------------------------ mails that were not delivered


def failed_mails():
    """The query of the failed mails (the latest first)."""
    return mailer.failed_query()


def retrying_mails() -> list[OutboxMail]:
    return list(db.session.execute(mailer.retrying_query().limit(200)).scalars())


def send_mail_again(actor: User, mail: OutboxMail) -> None:
    """A failed mail goes out again with the next delivery (with its Message-ID)."""
    if mail.sent_at is not None or mail.failed_at is None:
        raise DomainError(_l("Diese E-Mail ist nicht fehlgeschlagen und wird nicht erneut "
                             "gesendet."))
    reason = mail.last_error
    mailer.send_again(mail)
    audit.record(actor, "mail.send_again", mail, recipient=mail.recipient,
                 message_id=mail.message_id, reason=reason)


# ------------------------------------------------------------------ users and roles

USER_FILTERS = ("all", "staff", "partners", "inactive")


def users_query(q: str = "", kind: str = "all") -> Select:
    stmt = select(User)
    q = (q or "").strip()
    if q:
        stmt = stmt.where(or_(contains(User.name, q), contains(User.email, q)))
    staff_ids = select(UserRole.user_id)
    if kind == "staff":
        stmt = stmt.where(User.id.in_(staff_ids))
    elif kind == "partners":
        stmt = stmt.where(User.id.not_in(staff_ids))
    elif kind == "inactive":
        stmt = stmt.where(User.active.is_(False))
    return stmt.order_by(func.lower(User.name), User.id)


def role_labels(roles) -> list:
    values = {getattr(r, "value", r) for r in roles}
    return [label for value, label in ROLE_LABELS.items() if value in values]


def _clean_roles(roles) -> list[str]:
    wanted = {Role(r).value for r in roles}
    return [r for r in ROLE_LABELS if r in wanted]


def active_admins() -> list[User]:
    return list(db.session.execute(
        select(User).join(UserRole).where(UserRole.role == Role.ADMIN.value,
                                          User.active.is_(True))
    ).scalars().unique())


def _lock_with_admins(user: User) -> None:
    """Take `user`'s row and every admin's, so that "the last admin" is decided on what is
    committed: two admins taking each other's admin role at once leave one admin."""
    admins = select(UserRole.user_id).where(UserRole.role == Role.ADMIN.value)
    lock_query(select(User).where(or_(User.id == user.id, User.id.in_(admins))))


def is_last_admin(user: User) -> bool:
    admins = active_admins()
    return user.active and user.has_role(Role.ADMIN) and [a.id for a in admins] == [user.id]


def with_external_login(user_ids) -> set[int]:
    """Which of these accounts sign in through an external provider (OIDC, GitHub)."""
    ids = list(user_ids)
    if not ids:
        return set()
    return set(db.session.execute(
        select(ExternalIdentity.user_id).where(ExternalIdentity.user_id.in_(ids))
    ).scalars())


def can_sign_in(user: User) -> bool:
    """A password or an external login: the account is more than an open invitation."""
    return bool(user.password_hash) or bool(with_external_login([user.id]))


GRANT_DAYS = 7  # how long a staff invitation link can be used

SUBJECT_NEW_STAFF = _l("Einladung zum InnoLab des ZDMV")
SUBJECT_NEW_ROLES = _l("Neue Rollen im InnoLab des ZDMV annehmen")


def invite_staff(actor: User, email: str, name: str, roles) -> tuple[User, str]:
    """Invite someone to staff roles: the roles wait in a pending grant until the link mailed
    to the address is followed by the account holder (`accept_grant`).

    An account for an unknown address is created without password and without roles; its link
    sets the password. An existing account, confirmed or not, gets nothing now: whoever
    registered the address may not own the mailbox. Returns (user, outcome) with outcome
    "created", "pending" (a link went to an existing account) or "unchanged" (it already
    holds these roles from an admin).
    """
    roles = _clean_roles(roles)
    if not roles:
        raise DomainError(_l("Bitte wählen Sie mindestens eine Rolle."))
    email = accounts.normalise_email(email)
    user = accounts.user_by_email(email)
    if user is not None:
        lock(user)
        granted = {r.role for r in user.role_rows if r.source == ADMIN_SOURCE}
        missing = [r for r in roles if r not in granted]
        if not missing:
            return user, "unchanged"
        _pending_grant(actor, user, missing, via="invite")
        return user, "pending"

    user = User(email=email, name=(name or "").strip() or email.split("@")[0],
                password_hash=None, email_confirmed_at=None,
                locale=current_app.config.get("BABEL_DEFAULT_LOCALE", "de"))
    db.session.add(user)
    db.session.flush()
    audit.record(actor, "user.invite_staff", user, email=email, roles=roles)
    _pending_grant(actor, user, roles, via="invite")
    return user, "created"


def _pending_grant(actor: User, user: User, roles: list[str], via: str) -> PendingRoleGrant:
    """Store the roles as pending and mail the link that makes them take effect."""
    token, digest = accounts.random_token()
    grant = PendingRoleGrant(user_id=user.id, roles=" ".join(roles), token_hash=digest,
                             granted_by_id=actor.id,
                             expires_at=utcnow() + timedelta(days=GRANT_DAYS))
    db.session.add(grant)
    db.session.flush()
    audit.record(actor, "user.roles_pending", user, email=user.email, roles=roles,
                 grant_id=grant.id, via=via)
    existing = can_sign_in(user)
    mailer.queue(user, "staff_invitation", SUBJECT_NEW_ROLES if existing else SUBJECT_NEW_STAFF,
                 kind="staff_invitation", existing=existing, added=role_labels(roles),
                 inviter=actor, link=external_url("auth.staff_invitation", token=token),
                 forgot_url=external_url("auth.forgot_password"))
    return grant


def pending_grants(user: User) -> list[PendingRoleGrant]:
    now = utcnow()
    return [g for g in sorted(user.pending_grants, key=lambda g: g.id) if g.expires_at > now]


def grant_by_token(token: str) -> PendingRoleGrant | None:
    """The open (unused, unexpired) grant of a staff invitation link, else None."""
    if not token or len(token) > 200:
        return None
    grant = db.session.execute(
        select(PendingRoleGrant).where(PendingRoleGrant.token_hash == accounts.hash_token(token))
    ).scalar_one_or_none()
    if grant is None or grant.expires_at <= utcnow() or not grant.user.active:
        return None
    return grant


def accept_grant(user: User, token: str) -> list[str]:
    """The account holder followed the link: the roles take effect (as the admin's).

    The link reached the mailbox, so the address counts as confirmed too (identities linked
    before are removed, as on every confirmation). Returns the roles added.
    """

    lock(user)
    grant = grant_by_token(token)
    if grant is None or grant.user_id != user.id:
        raise DomainError(GRANT_INVALID)
    have = {r.role: r for r in user.role_rows}
    added = []
    for role in _clean_roles(grant.role_values):
        row = have.get(role)
        if row is None:
            user.role_rows.append(UserRole(role=role, source=ADMIN_SOURCE))
            added.append(role)
        elif row.source != ADMIN_SOURCE:
            row.source = ADMIN_SOURCE  # now the admin's: it stays without the provider
            added.append(role)
    if not user.email_confirmed:
        user.email_confirmed_at = utcnow()
        audit.record(user, "user.confirm_email", user, via="staff_invitation")
        remove_unconfirmed_identities(user, reason="email_confirmed")
    audit.record(user, "user.roles_accepted", user, email=user.email, roles=added,
                 grant_id=grant.id, granted_by=grant.granted_by_id)
    db.session.delete(grant)
    db.session.flush()
    return added


GRANT_INVALID = _l("Dieser Einladungslink ist ungültig, abgelaufen oder wurde bereits "
                   "verwendet. Bitte wenden Sie sich an die Administration des InnoLab.")


def role_sources(user: User) -> list[tuple[str, object, str | None]]:
    """(role value, label, provider key or None for the admin) in the admin's order."""
    rows = {r.role: r for r in user.role_rows}
    return [(value, label, rows[value].provider_key) for value, label in ROLE_LABELS.items()
            if value in rows]


def set_roles(actor: User, user: User, roles) -> tuple[list[str], list[str]]:
    """Give `user` exactly `roles`: roles taken away go now; new roles wait for the link
    mailed to the account's address (a pending grant). Returns (pending, removed)."""
    _lock_with_admins(user)
    wanted = _clean_roles(roles)
    mine = [r.role for r in user.role_rows]
    removed = [r for r in mine if r not in wanted]
    if Role.ADMIN.value in removed and is_last_admin(user):
        raise DomainError(LAST_ADMIN)
    pending = [r for r in wanted if r not in mine]
    for row in list(user.role_rows):
        if row.role in removed:
            user.role_rows.remove(row)
    if removed:
        audit.record(actor, "user.roles_change", user, email=user.email, added=[],
                     removed=removed)
    if pending:
        _pending_grant(actor, user, pending, via="roles")
    return pending, removed


def deactivate(actor: User, user: User) -> None:
    _lock_with_admins(user)
    if user.id == actor.id:
        raise DomainError(_l("Sie können Ihr eigenes Konto nicht deaktivieren."))
    if not user.active:
        raise DomainError(_l("Das Konto ist bereits deaktiviert."))
    if is_last_admin(user):
        raise DomainError(LAST_ADMIN)
    user.active = False
    user.end_all_sessions("deactivated")
    audit.record(actor, "user.deactivate", user, email=user.email)


def reactivate(actor: User, user: User) -> None:
    _lock_with_admins(user)
    if user.deleted_at is not None:
        raise DomainError(_l("Die Person hat dieses Konto gelöscht; es kann nicht wieder "
                             "aktiviert werden."))
    if user.active:
        raise DomainError(_l("Das Konto ist bereits aktiv."))
    user.active = True
    audit.record(actor, "user.reactivate", user, email=user.email)


# ------------------------------------------------------------------ authorities


def authorities() -> list[tuple[Authority, int]]:
    """Every authority with the number of challenges that name it."""
    used = (select(Challenge.authority_id, func.count(Challenge.id).label("n"))
            .group_by(Challenge.authority_id).subquery())
    rows = db.session.execute(
        select(Authority, func.coalesce(used.c.n, 0))
        .outerjoin(used, used.c.authority_id == Authority.id)
        .order_by(func.lower(Authority.name))
    ).all()
    return [(a, n) for a, n in rows]


def authority_name_taken(name: str, exclude_id: int | None = None) -> bool:
    stmt = select(Authority.id).where(func.lower(Authority.name) == name.strip().lower())
    if exclude_id:
        stmt = stmt.where(Authority.id != exclude_id)
    return db.session.execute(stmt).first() is not None


@event.listens_for(Authority, "before_insert")
def _address_of_new_authority(mapper, connection, authority: Authority) -> None:
    """Every authority gets the address of its showcase page when it is created (by the
    admin, the demo data or a test alike): its short name or name as a slug, unique."""
    if not authority.slug:
        authority.slug = unique_slug(authority.short_name or authority.name,
                                     Authority.__table__.c.slug, connection)


def save_authority(actor: User, authority: Authority | None, *, name: str,
                   short_name: str | None, website: str | None,
                   description: str | None = None) -> Authority:
    name = name.strip()
    if authority_name_taken(name, authority.id if authority else None):
        raise DomainError(_l("Eine Behörde mit diesem Namen gibt es bereits."))
    created = authority is None
    if authority is None:
        authority = Authority(name=name)
        db.session.add(authority)
    before = {"name": authority.name, "short_name": authority.short_name,
              "website": authority.website, "description": authority.description}
    authority.name = name
    authority.short_name = (short_name or "").strip() or None
    authority.website = (website or "").strip() or None
    authority.description = (description or "").strip() or None
    db.session.flush()
    if created:
        audit.record(actor, "authority.create", authority, name=name)
    else:
        after = {"name": authority.name, "short_name": authority.short_name,
                 "website": authority.website, "description": authority.description}
        changed = [k for k in after if after[k] != before[k]]
        audit.record(actor, "authority.update", authority, name=name, changed=changed)
    return authority


def delete_authority(actor: User, authority: Authority) -> None:
    used = db.session.execute(
        select(func.count(Challenge.id)).where(Challenge.authority_id == authority.id)
    ).scalar_one()
    if used:
        raise DomainError(_l("„%(name)s“ wird von %(n)d Herausforderung(en) verwendet und "
                             "kann deshalb nicht gelöscht werden.", name=authority.name, n=used))
    audit.record(actor, "authority.delete", authority, name=authority.name)
    db.session.delete(authority)


# ------------------------------------------------------------------ topics


def topics() -> list[tuple[Topic, int]]:
    """Every topic with the number of challenges and proposals that use it."""
    rows = []
    for t in db.session.execute(select(Topic).order_by(func.lower(Topic.name_de))).scalars():
        rows.append((t, topic_usage(t)))
    return rows


def topic_usage(topic: Topic) -> int:
    n_challenges = db.session.execute(
        select(func.count()).select_from(challenge_topics)
        .where(challenge_topics.c.topic_id == topic.id)
    ).scalar_one()
    n_proposals = db.session.execute(
        select(func.count()).select_from(proposal_topics)
        .where(proposal_topics.c.topic_id == topic.id)
    ).scalar_one()
    return n_challenges + n_proposals


def slugify(text: str) -> str:
    text = (text or "").strip().lower()
    for a, b in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(a, b)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:80]


def topic_slug_taken(slug: str, exclude_id: int | None = None) -> bool:
    stmt = select(Topic.id).where(Topic.slug == slug)
    if exclude_id:
        stmt = stmt.where(Topic.id != exclude_id)
    return db.session.execute(stmt).first() is not None


def save_topic(actor: User, topic: Topic | None, *, slug: str | None, name_de: str,
               name_en: str) -> Topic:
    slug = slugify(slug or name_de)
    if not slug:
        raise DomainError(_l("Bitte geben Sie eine Kennung aus Buchstaben oder Ziffern an."))
    if topic_slug_taken(slug, topic.id if topic else None):
        raise DomainError(_l("Ein Thema mit der Kennung „%(slug)s“ gibt es bereits.", slug=slug))
    created = topic is None
    if topic is None:
        topic = Topic(slug=slug, name_de=name_de.strip(), name_en=name_en.strip())
        db.session.add(topic)
    topic.slug = slug
    topic.name_de = name_de.strip()
    topic.name_en = name_en.strip()
    db.session.flush()
    audit.record(actor, "topic.create" if created else "topic.update", topic, slug=slug,
                 name=topic.name_de)
    return topic


def delete_topic(actor: User, topic: Topic) -> None:
    used = topic_usage(topic)
    if used:
        raise DomainError(_l("„%(name)s“ wird von %(n)d Herausforderung(en) oder Vorschlägen "
                             "verwendet und kann deshalb nicht gelöscht werden.",
                             name=topic.name_de, n=used))
    audit.record(actor, "topic.delete", topic, slug=topic.slug, name=topic.name_de)
    db.session.delete(topic)


# ------------------------------------------------------------------ footer pages



def page_defaults(slug: str, locale: str) -> tuple[str, str]:
    """The built-in title and Markdown body of a footer page (domain.pages.DEFAULTS)."""
    page = pages.default_page(slug, locale)
    if page is None:
        return str(PAGE_LABELS.get(slug, slug)), ""
    return page.title, page.body


def site_page(slug: str, locale: str) -> SitePage | None:
    return db.session.execute(
        select(SitePage).where(SitePage.slug == slug, SitePage.locale == locale)
    ).scalar_one_or_none()


def pages_overview() -> list[dict]:
    saved = {(p.slug, p.locale): p for p in db.session.execute(select(SitePage)).scalars()}
    return [{"slug": slug, "label": PAGE_LABELS[slug], "locale": locale,
             "locale_label": LOCALE_LABELS[locale], "page": saved.get((slug, locale))}
            for slug in PAGE_SLUGS for locale in LOCALES]


# What the page form edits, for domain.editing.
PAGE = editing.Editable(fields=lambda page: {"title": page.title, "body": page.body},
                        labels=lambda page: {"title": _l("Überschrift"),
                                             "body": _l("Text (Markdown)")})


def save_page(actor: User, slug: str, locale: str, title: str, body: str,
              seen_version: int | None = None) -> SitePage:
    """Save a footer page's text. `seen_version`: the version the form was opened with, 0
    while the default text was shown (editing.EditConflict if another admin saved other
    text since)."""
    if slug not in PAGE_SLUGS or locale not in LOCALES:
        raise DomainError(_l("Diese Seite gibt es nicht."))
    page = site_page(slug, locale)
    if page is None:
        # starts from the default text: that is what the editor was shown
        default_title, default_body = page_defaults(slug, locale)
        page = SitePage(slug=slug, locale=locale, title=default_title, body=default_body)
        db.session.add(page)
    with editing.edit(PAGE, page, actor, seen_version,
                      reload=lambda: site_page(slug, locale)):
        page.title = title.strip()
        page.body = body.replace("\r\n", "\n").strip() + "\n"
        page.updated_by_id = actor.id
        audit.record(actor, "page.update", page, slug=slug, locale=locale)
    return page


# ------------------------------------------------------------------ audit log


def audit_prefixes() -> list[tuple[str, object]]:
    actions = db.session.execute(select(AuditEvent.action).distinct()).scalars().all()
    # The security events are always offered: "none" is an answer an admin looks for too.
    prefixes = sorted({a.split(".", 1)[0] for a in actions if a} | {"security"})
    return [(p, ACTION_PREFIX_LABELS.get(p, p)) for p in prefixes]


def audit_object_types() -> list[tuple[str, object]]:
    types = db.session.execute(
        select(AuditEvent.object_type).distinct().where(AuditEvent.object_type.is_not(None))
    ).scalars().all()
    return [(t, OBJECT_TYPE_LABELS.get(t, t)) for t in sorted(t for t in types if t)]


def _local_midnight(d: date) -> datetime:
    tz = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Europe/Berlin"))
    # stored in UTC (SQLite keeps no zone): compare in UTC
    return datetime.combine(d, time.min, tzinfo=tz).astimezone(UTC)


def audit_query(prefix: str | None = None, actor: str | None = None,
                object_type: str | None = None, date_from: date | None = None,
                date_to: date | None = None) -> Select:
    stmt = select(AuditEvent)
    if prefix:
        stmt = stmt.where(or_(AuditEvent.action == prefix,
                              starts_with(AuditEvent.action, prefix + ".")))
    actor = (actor or "").strip()
    if actor:
        stmt = stmt.where(exists().where(User.id == AuditEvent.actor_id,
                                         contains(User.email, actor)))
    if object_type:
        stmt = stmt.where(AuditEvent.object_type == object_type)
    if date_from:
        stmt = stmt.where(AuditEvent.created_at >= _local_midnight(date_from))
    if date_to:
        stmt = stmt.where(AuditEvent.created_at < _local_midnight(date_to + timedelta(days=1)))
    return stmt.order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())

