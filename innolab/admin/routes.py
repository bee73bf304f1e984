"""The administration: staff accounts and roles, authorities, topics, pages, failed mails,
audit log."""
from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..domain import DomainError, identities, permissions
from ..domain.editing import EditConflict
from ..domain import admin as domain
from ..extensions import db, htmx, login_manager
from ..models import PAGE_SLUGS, AuditEvent, Authority, OutboxMail, Topic, User
from ..web import page_number, redirect_to, render, require
from ..web.input_checks import bounded_int
from . import bp
from .forms import (
    AccountStatusForm, AuditFilterForm, AuthorityForm, InviteStaffForm, PageForm, RolesForm,
    SignInSettingsForm, TopicForm, UserFilterForm,
)
from ..domain import settings

PER_PAGE = 25


@bp.before_request
def _admins_only():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    require(permissions.administer(current_user))
    return None


# ------------------------------------------------------------------ dashboard


@bp.get("/")
def index():
    return render("admin/index.html", counts=domain.dashboard_counts())


# ------------------------------------------------------------------ mails not delivered


@bp.get("/mails")
def mails():
    page = db.paginate(domain.failed_mails(), page=page_number(), per_page=PER_PAGE,
                       error_out=False)
    return render("admin/mails.html", page=page, retrying=domain.retrying_mails())


@bp.post("/mails/<int:mail_id>/send-again")
def send_mail_again(mail_id):
    mail = db.get_or_404(OutboxMail, mail_id)
    try:
        domain.send_mail_again(current_user, mail)
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.reason), "error")
    else:
        db.session.commit()
        flash(_("Die E-Mail an %(recipient)s wird erneut gesendet.", recipient=mail.recipient),
              "success")
    return redirect_to(url_for("admin.mails"))


# ------------------------------------------------------------------ sign-in settings


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in_settings():
    """Switch local passwords off for staff (they then use the staff identity provider)."""

    staff_provider = identities.staff_provider_configured()
    enabled = identities.staff_local_login_enabled()
    form = SignInSettingsForm(data={"staff_local_login": "on" if enabled else "off"})
    status = 200
    if form.validate_on_submit():
        wanted = form.staff_local_login.data == "on"
        if not wanted and not staff_provider:
            form.staff_local_login.errors.append(_(
                "Lokale Passwörter können für Mitarbeitende erst abgeschaltet werden, wenn ein "
                "Identitätsanbieter für Beschäftigte eingerichtet ist – sonst könnte sich "
                "niemand aus dem ZDMV mehr anmelden."))
            status = 422
        else:
            settings.set_setting(current_user, identities.STAFF_LOCAL_LOGIN_SETTING,
                                 "true" if wanted else "false")
            db.session.commit()
            flash(_("Die Einstellung ist gespeichert."), "success")
            return redirect_to(url_for("admin.sign_in_settings"))
    elif form.is_submitted():
        status = 422
    return render("admin/sign_in.html", form=form, staff_provider=staff_provider,
                  enabled=enabled, status=status)


# ------------------------------------------------------------------ users


@bp.get("/users")
def users():
    form = UserFilterForm(request.args)
    form.validate()  # an unknown filter shows every account; an overlong search is ignored
    kind = form.kind.data if form.kind.data in domain.USER_FILTERS else "all"
    form.kind.data = kind
    q = (form.q.data or "").strip() if not form.q.errors else ""
    page = db.paginate(domain.users_query(q, kind), page=page_number(), per_page=PER_PAGE,
                       error_out=False)
    args = {k: v for k, v in {"q": q, "kind": kind if kind != "all" else ""}.items() if v}
    return render("admin/users.html", block="results",
                  form=form, page=page, args=args, role_labels=domain.role_labels,
                  external=domain.with_external_login(u.id for u in page.items))


@bp.route("/users/invite", methods=["GET", "POST"])
def invite_staff():
    form = InviteStaffForm()
    if form.validate_on_submit():
        try:
            user, outcome = domain.invite_staff(current_user, form.email.data, form.name.data,
                                                form.roles.data)
        except DomainError as exc:
            form.roles.errors.append(str(exc.reason))
        else:
            db.session.commit()
            messages = {
                "created": _("Das Konto für %(email)s wurde angelegt. Eine Einladung mit einem "
                             "Link zum Festlegen des Passworts ist unterwegs.", email=user.email),
                "pending": _("Für %(email)s gibt es bereits ein Konto. Die gewählten Rollen "
                             "gelten erst, wenn die Person sie über den Link in der E-Mail "
                             "annimmt, die jetzt an diese Adresse unterwegs ist.",
                             email=user.email),
                "unchanged": _("Das Konto von %(email)s hat diese Rollen bereits; es wurde "
                               "nichts geändert.", email=user.email),
            }
            flash(messages[outcome], "info" if outcome == "unchanged" else "success")
            return redirect_to(url_for("admin.user", user_id=user.id))
    status = 422 if form.errors else 200
    return render("admin/invite.html", status=status, form=form, hints=domain.ROLE_HINTS)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user(user_id):
    """One account: its roles (give and take) and whether it is active."""
    user = db.get_or_404(User, user_id)
    roles_form = RolesForm(data={"roles": [r.role for r in user.role_rows]})
    status_form = AccountStatusForm()
    status = 200
    which = request.form.get("form") if request.method == "POST" else None
    if which == "roles":
        if roles_form.validate_on_submit():
            try:
                added, removed = domain.set_roles(current_user, user, roles_form.roles.data)
            except DomainError as exc:
                roles_form.roles.errors.append(str(exc.reason))
            else:
                db.session.commit()
                if added:
                    flash(_("Die Rollen von %(name)s wurden gespeichert. Neue Rollen gelten "
                            "erst, wenn die Person sie über den Link in der E-Mail annimmt, "
                            "die an %(email)s unterwegs ist.", name=user.name,
                            email=user.email), "success")
                elif removed:
                    flash(_("Die Rollen von %(name)s wurden gespeichert.", name=user.name),
                          "success")
                else:
                    flash(_("Die Rollen sind unverändert."), "info")
                return redirect_to(url_for("admin.user", user_id=user.id))
        status = 422
    elif which == "status":
        if not status_form.validate_on_submit():
            abort(400)
        try:
            if status_form.action.data == "deactivate":
                domain.deactivate(current_user, user)
                message = _("Das Konto von %(name)s ist deaktiviert; alle Sitzungen wurden "
                            "beendet.", name=user.name)
            else:
                domain.reactivate(current_user, user)
                message = _("Das Konto von %(name)s ist wieder aktiv.", name=user.name)
        except DomainError as exc:
            flash(str(exc.reason), "error")
        else:
            db.session.commit()
            flash(message, "success")
        return redirect_to(url_for("admin.user", user_id=user.id))
    elif which == "identity":
        # CSRFProtect has checked the token of every POST
        identity_id = bounded_int(request.form.get("identity"))
        if identity_id is None:
            abort(400)
        try:
            key = identities.admin_remove_identity(current_user, user, identity_id)
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc.reason), "error")
        else:
            db.session.commit()
            provider = identities.get_provider(key)
            flash(_("Die Verknüpfung mit %(provider)s wurde entfernt; die Rollen aus diesem "
                    "Anbieter und alle Sitzungen des Kontos sind beendet.",
                    provider=provider.display_name if provider else key), "success")
        return redirect_to(url_for("admin.user", user_id=user.id))
    elif request.method == "POST":
        abort(400)
    memberships = [(m.organisation, m.role) for m in user.memberships]
    events = db.session.execute(
        domain.audit_query().where(AuditEvent.object_type == "users",
                                   AuditEvent.object_id == user.id).limit(10)
    ).scalars().all()
    return render("admin/user.html", status=status, user=user, roles_form=roles_form,
                  status_form=status_form, role_labels=domain.role_labels,
                  hints=domain.ROLE_HINTS, memberships=memberships, events=events,
                  is_last_admin=domain.is_last_admin(user),
                  external=domain.with_external_login([user.id]),
                  role_sources=domain.role_sources(user), pending=domain.pending_grants(user),
                  identities=identities.identities_of(user),
                  provider_names={p.key: p.display_name for p in identities.providers()})


# ------------------------------------------------------------------ authorities and topics
# Both are small lists the admins keep: one form to create or edit an entry, one button to
# delete it while nothing uses it. The two helpers below hold what the handlers share.


def _save_entry(form, error_field, save, done_message, back_endpoint):
    """Validate `form`, then save. Returns the redirect after success, else None.

    `save()` creates or updates the entry and returns it; a refusal of the domain shows at
    `error_field`. `done_message(entry)` is the flash text after the commit.
    """
    if not form.validate_on_submit():
        return None
    try:
        entry = save()
    except DomainError as exc:
        error_field.errors.append(str(exc.reason))
        return None
    db.session.commit()
    flash(done_message(entry), "success")
    return redirect_to(url_for(back_endpoint))


def _delete_entry(delete, done_message, back_endpoint):
    """Run `delete()`; flash the refusal or `done_message` and go back to the list."""
    try:
        delete()
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.reason), "error")
    else:
        db.session.commit()
        flash(done_message, "success")
    return redirect_to(url_for(back_endpoint))


@bp.route("/authorities", methods=["GET", "POST"])
def authorities():
    form = AuthorityForm()
    done = _save_entry(
        form, form.name,
        lambda: domain.save_authority(current_user, None, name=form.name.data,
                                      short_name=form.short_name.data,
                                      website=form.website.data),
        lambda saved: _("Die Behörde „%(name)s“ wurde angelegt.", name=saved.name),
        "admin.authorities")
    if done is not None:
        return done
    return render("admin/authorities.html", status=422 if form.errors else 200, form=form,
                  rows=domain.authorities())


@bp.route("/authorities/<int:authority_id>", methods=["GET", "POST"])
def edit_authority(authority_id):
    authority = db.get_or_404(Authority, authority_id)
    form = AuthorityForm(obj=authority)
    done = _save_entry(
        form, form.name,
        lambda: domain.save_authority(current_user, authority, name=form.name.data,
                                      short_name=form.short_name.data,
                                      website=form.website.data),
        lambda saved: _("Die Behörde „%(name)s“ wurde gespeichert.", name=saved.name),
        "admin.authorities")
    if done is not None:
        return done
    return render("admin/edit_authority.html", status=422 if form.errors else 200, form=form,
                  authority=authority)


@bp.post("/authorities/<int:authority_id>/delete")
def delete_authority(authority_id):
    authority = db.get_or_404(Authority, authority_id)
    return _delete_entry(lambda: domain.delete_authority(current_user, authority),
                         _("Die Behörde „%(name)s“ wurde gelöscht.", name=authority.name),
                         "admin.authorities")


@bp.route("/topics", methods=["GET", "POST"])
def topics():
    form = TopicForm()
    done = _save_entry(
        form, form.slug,
        lambda: domain.save_topic(current_user, None, slug=form.slug.data,
                                  name_de=form.name_de.data, name_en=form.name_en.data),
        lambda saved: _("Das Thema „%(name)s“ wurde angelegt.", name=saved.name_de),
        "admin.topics")
    if done is not None:
        return done
    return render("admin/topics.html", status=422 if form.errors else 200, form=form,
                  rows=domain.topics())


@bp.route("/topics/<int:topic_id>", methods=["GET", "POST"])
def edit_topic(topic_id):
    topic = db.get_or_404(Topic, topic_id)
    form = TopicForm(obj=topic)
    done = _save_entry(
        form, form.slug,
        lambda: domain.save_topic(current_user, topic, slug=form.slug.data,
                                  name_de=form.name_de.data, name_en=form.name_en.data),
        lambda saved: _("Das Thema „%(name)s“ wurde gespeichert.", name=saved.name_de),
        "admin.topics")
    if done is not None:
        return done
    return render("admin/edit_topic.html", status=422 if form.errors else 200, form=form,
                  topic=topic)


@bp.post("/topics/<int:topic_id>/delete")
def delete_topic(topic_id):
    topic = db.get_or_404(Topic, topic_id)
    return _delete_entry(lambda: domain.delete_topic(current_user, topic),
                         _("Das Thema „%(name)s“ wurde gelöscht.", name=topic.name_de),
                         "admin.topics")


# ------------------------------------------------------------------ audit log


@bp.get("/audit")
def audit():
    form = AuditFilterForm(request.args)
    form.prefix.choices = [("", _("Alle Bereiche"))] + domain.audit_prefixes()
    form.object_type.choices = [("", _("Alle Objektarten"))] + domain.audit_object_types()
    valid = form.validate()
    filters = {}
    if not form.prefix.errors and form.prefix.data:
        filters["prefix"] = form.prefix.data
    if not form.actor.errors and (form.actor.data or "").strip():
        filters["actor"] = form.actor.data.strip()
    if not form.object_type.errors and form.object_type.data:
        filters["object_type"] = form.object_type.data
    if not form.date_from.errors and form.date_from.data:
        filters["date_from"] = form.date_from.data
    if not form.date_to.errors and form.date_to.data:
        filters["date_to"] = form.date_to.data
    page = db.paginate(domain.audit_query(**filters), page=page_number(), per_page=50,
                       error_out=False)
    args = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in filters.items()}
    return render("admin/audit.html", block="results",
                  # htmx swaps no 4xx answer: the error summary comes inside the results
                  status=200 if valid or htmx else 422, form=form, page=page, args=args,
                  type_labels=domain.OBJECT_TYPE_LABELS)


# ------------------------------------------------------------------ footer pages


@bp.get("/pages")
def pages():
    return render("admin/pages.html", rows=domain.pages_overview())


@bp.route("/pages/<slug>/<locale>", methods=["GET", "POST"])
def edit_page(slug, locale):
    if slug not in PAGE_SLUGS or locale not in domain.LOCALES:
        abort(404)
    page = domain.site_page(slug, locale)
    if page is not None:
        data = {"title": page.title, "body": page.body}
    else:
        title, body = domain.page_defaults(slug, locale)
        data = {"title": title, "body": body}
    form = PageForm(data=data)
    if not form.is_submitted():
        form.start_from(page)
    conflict = None
    if form.validate_on_submit():
        try:
            domain.save_page(current_user, slug, locale, form.title.data, form.body.data,
                             seen_version=form.seen_version)
        except EditConflict as exc:
            form.continue_from(exc)
            conflict, page = exc, domain.site_page(slug, locale)
        else:
            db.session.commit()
            flash(_("Die Seite „%(title)s“ (%(lang)s) wurde gespeichert.",
                    title=form.title.data, lang=domain.LOCALE_LABELS[locale]), "success")
            return redirect_to(url_for("admin.pages"))
    status = 409 if conflict else 422 if form.errors else 200
    return render("admin/edit_page.html", status=status, form=form, conflict=conflict,
                  slug=slug, locale=locale, page=page, label=domain.PAGE_LABELS[slug],
                  locale_label=domain.LOCALE_LABELS[locale])
