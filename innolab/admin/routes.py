"""The administration: staff accounts and roles, authorities, topics, pages, failed mails,
audit log."""
from __future__ import annotations

from flask import abort, flash, make_response, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from ..domain import DomainError, accessibility, identities, legal, permissions
from ..domain.editing import EditConflict
from ..domain import admin as domain
from ..extensions import db, htmx, login_manager
from ..models import (
    PAGE_SLUGS, AccessibilityFeedback, AuditEvent, Authority, OutboxMail, Role, Topic, User,
)
from ..web import (
    ask_for_recent_auth, has_recent_auth, page_number, recent_auth_required, redirect_to,
    render, require,
)
from ..web.forms import add_error
from ..web.input_checks import bounded_int
from . import bp
from ..challenges import questions as question_pages
from .forms import (
    AccountStatusForm, AuditFilterForm, AuthorityForm, DecisionSettingsForm, DeleteForm,
    FeedbackStatusForm,
    InviteStaffForm, PageForm, RolesForm, SignInSettingsForm, SignLanguageVideoForm,
    TermsVersionForm, TopicForm, UserFilterForm, legal_fields_form, retention_form,
)
from ..domain import decisions, records, retention, sessions, settings, terms
from ..web.forms import text_of
from ..models._base import utcnow

PER_PAGE = 25


# Pages the data-protection officer may open too (the record of processing activities).
DPO_ENDPOINTS = {"admin.records", "admin.records_csv", "admin.records_pdf"}


@bp.before_request
def _admins_only():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if request.endpoint in DPO_ENDPOINTS and current_user.has_role(Role.DPO):
        return None
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


# ------------------------------------------------------------------ decisions


@bp.route("/decisions", methods=["GET", "POST"])
def decision_settings():
    """The cost threshold above which an approval needs a second decider's co-signature."""
    current = decisions.threshold()
    form = DecisionSettingsForm(data={"threshold": current})
    if form.validate_on_submit():
        changed = decisions.set_threshold(current_user, form.threshold.data or 0)
        db.session.commit()
        flash(_("Die Einstellung ist gespeichert.") if changed
              else _("Es gab keine Änderungen zu speichern."), "success" if changed else "info")
        return redirect_to(url_for("admin.decision_settings"))
    return render("admin/decisions.html", form=form, threshold=current,
                  status=422 if form.is_submitted() else 200)


# ------------------------------------------------------------------ deletion schedule


@bp.route("/retention", methods=["GET", "POST"])
def retention_settings():
    """The periods of the deletion schedule (Löschkonzept), each within its bounds."""
    periods = retention.periods()
    form = retention_form(periods)
    status = 200
    if form.validate_on_submit():
        changed = retention.set_days(current_user, {p.key: form[p.key].data for p in periods})
        db.session.commit()
        flash(_("Die Löschfristen sind gespeichert.") if changed
              else _("Es gab keine Änderungen zu speichern."), "success" if changed else "info")
        return redirect_to(url_for("admin.retention_settings"))
    if form.is_submitted():
        status = 422
    return render("admin/retention.html", form=form, periods=periods, status=status,
                  last_run=retention.last_run(), human=retention.human,
                  labels={r.key: r.label for r in retention.RULES})


# ------------------------------------------------------------------ privacy notice versions


@bp.route("/terms", methods=["GET", "POST"])
def terms_settings():
    """Put a new version of the privacy notice in force: everyone agrees again."""
    form = TermsVersionForm()
    status = 200
    if form.validate_on_submit():
        try:
            version = terms.publish_new_version(current_user, text_of(form.summary))
        except DomainError as exc:  # only blanks: nothing said about the change
            add_error(form.summary, str(exc.reason))
        else:
            db.session.commit()
            flash(_("Fassung %(version)s ist in Kraft. Alle Nutzerinnen und Nutzer werden beim "
                    "nächsten Aufruf um ihre Zustimmung gebeten.", version=version), "success")
            return redirect_to(url_for("admin.terms_settings"))
    if form.is_submitted():
        status = 422
    return render("admin/terms.html", form=form, standing=terms.standing(), status=status)


# ------------------------------------------------------------------ record of processing


@bp.get("/records", endpoint="records")
def records_page():
    return render("admin/records.html", rows=records.rows(), measures=records.MEASURES,
                  headers=records.HEADERS, checked=records.proposals_checked(),
                  controller=records.CONTROLLER)


def _download(body, mimetype: str, extension: str):
    name = f"verarbeitungsverzeichnis-{utcnow().date().isoformat()}.{extension}"
    response = make_response(body)
    response.mimetype = mimetype
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/records.csv")
def records_csv():
    return _download(records.as_csv(), "text/csv", "csv")


@bp.get("/records.pdf")
def records_pdf():
    return _download(records.as_pdf(), "application/pdf", "pdf")


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
@recent_auth_required
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
    """One account: its roles (give and take) and whether it is active. Changing anything
    needs a recent proof of identity (the page says so and links to it)."""
    user = db.get_or_404(User, user_id)
    if request.method == "POST" and not has_recent_auth():
        return ask_for_recent_auth()
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
    elif which == "sessions":
        count = sessions.end_all_by_admin(current_user, user)
        db.session.commit()
        flash(ngettext("%(num)d Sitzung von %(name)s ist beendet.",
                       "%(num)d Sitzungen von %(name)s sind beendet.", count, name=user.name)
              if count else _("%(name)s war nirgends angemeldet.", name=user.name),
              "success" if count else "info")
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
                  session_count=len(sessions.active_sessions(user)),
                  provider_names={p.key: p.display_name for p in identities.providers()},
                  recent_auth=has_recent_auth())


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
                                      website=form.website.data,
                                      description=form.description.data),
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
                                      website=form.website.data,
                                      description=form.description.data),
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
    current = legal.values()
    groups = [(g, legal.GROUP_LABELS[g], legal.missing(g, current)) for g in legal.GROUPS]
    return render("admin/pages.html", rows=domain.pages_overview(), legal_groups=groups)


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


# ------------------------------------------------------------------ mandatory details


def _form_data(group: str) -> dict:
    """The stored values as the form's fields take them (dates as dates, numbers as int)."""
    current = legal.values()
    data: dict = {}
    for f in legal.fields_of(group):
        value = current[f.name]
        if f.kind == "date":
            data[f.name] = legal.as_date(value)
        elif f.kind == "number":
            data[f.name] = int(value) if value.isdigit() else None
        else:
            data[f.name] = value
    return data


@bp.route("/pages/<slug>/fields", methods=["GET", "POST"])
def legal_fields(slug):
    """The mandatory details of a legal page (Impressum, Datenschutz, Barrierefreiheit)."""
    if slug not in legal.GROUPS:
        abort(404)
    form = legal_fields_form(slug, None if request.method == "POST" else _form_data(slug))
    if form.validate_on_submit():
        try:
            changed = legal.save(current_user, slug, {name: form[name].data
                                                      for name in form._fields
                                                      if name != "csrf_token"})
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc.reason), "error")
        else:
            db.session.commit()
            flash(_("Die Pflichtangaben (%(page)s) wurden gespeichert.",
                    page=legal.GROUP_LABELS[slug]) if changed
                  else _("Die Pflichtangaben sind unverändert."),
                  "success" if changed else "info")
            return redirect_to(url_for("admin.legal_fields", slug=slug))
    return render("admin/legal_fields.html", status=422 if form.errors else 200, form=form,
                  slug=slug, fields=legal.fields_of(slug), label=legal.GROUP_LABELS[slug],
                  missing=legal.missing(slug))


# ------------------------------------------------------------------ feedback on barriers


@bp.get("/feedback")
def feedback():
    status = request.args.get("status", "")
    status = status if status in accessibility.STATUS_LABELS else ""
    page = db.paginate(accessibility.feedback_query(status or None), page=page_number(),
                       per_page=PER_PAGE, error_out=False)
    return render("admin/feedback.html", page=page, shown=status,
                  labels=accessibility.STATUS_LABELS, args={"status": status} if status else {},
                  form=FeedbackStatusForm())


@bp.post("/feedback/<int:feedback_id>/status")
def feedback_status(feedback_id):
    item = db.get_or_404(AccessibilityFeedback, feedback_id)
    form = FeedbackStatusForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        changed = accessibility.set_status(current_user, item, form.status.data)
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc.reason), "error")
    else:
        db.session.commit()
        if changed:
            flash(_("Die Rückmeldung Nr. %(id)d ist jetzt „%(status)s“.", id=feedback_id,
                    status=accessibility.STATUS_LABELS[form.status.data]), "success")
    return redirect_to(url_for("admin.feedback"))


# ------------------------------------------------------------------ sign-language video


@bp.route("/sign-language", methods=["GET", "POST"])
def sign_language():
    video = accessibility.current_video()
    form = SignLanguageVideoForm(data={"transcript": video.transcript} if video else None)
    delete_form = DeleteForm(prefix="delete")
    if request.method == "POST" and request.form.get("form") == "delete":
        if delete_form.validate_on_submit() and accessibility.delete_video(current_user):
            db.session.commit()
            flash(_("Das Video wurde entfernt. Die Seite „Gebärdensprache“ sagt jetzt, dass "
                    "das Video erstellt wird."), "success")
        return redirect_to(url_for("admin.sign_language"))
    if form.validate_on_submit():
        try:
            accessibility.save_video(current_user, form.video.data, form.transcript.data)
        except DomainError as exc:
            db.session.rollback()
            add_error(form.video, exc.reason)
        else:
            db.session.commit()
            flash(_("Das Video und das Transkript wurden gespeichert."), "success")
            return redirect_to(url_for("admin.sign_language"))
    return render("admin/sign_language.html", status=422 if form.errors else 200, form=form,
                  delete_form=delete_form, video=accessibility.current_video(),
                  limits=accessibility.video_limits())


# ------------------------------------------------------------------ the default questions
# The questions initiative proposals answer (the pages are the challenges' own:
# challenges/questions.py, with no challenge).


@bp.route("/questions", methods=["GET", "POST"])
def questions_page():
    return question_pages.page(None)


@bp.route("/questions/<int:question_id>/edit", methods=["GET", "POST"])
def edit_question(question_id: int):
    return question_pages.edit(None, question_id)


@bp.post("/questions/<int:question_id>/move")
def move_question(question_id: int):
    return question_pages.move(None, question_id)


@bp.post("/questions/<int:question_id>/remove")
def remove_question(question_id: int):
    return question_pages.remove(None, question_id)
