"""Local accounts: register, confirm, sign in and out, passwords, account settings."""
from __future__ import annotations

from flask import abort, flash, g, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from ..domain import DomainError, identities, registration, sessions, terms
from ..domain import admin as admin_domain
from ..domain import organisations as orgs
from ..domain.admin import role_labels
from ..domain.accounts import MIN_PASSWORD_LENGTH
from ..domain.registration import EmailChangeRefused, LoginRefused, PasswordRejected
from ..extensions import db, limiter
from ..i18n import LOCALES
from ..mfa.flow import begin_sign_in
from ..web import (
    SECOND_FACTOR_KEY, SIGN_IN_METHOD_KEY, current_session_id, mark_recent_auth,
    landing_page, recent_auth_required, redirect_to, render, safe_next, start_session,
)
from . import bp, reauth
from .forms import (
    ChangePasswordForm, EmailChangeForm, EmailForm, LoginForm, ReauthForm, RegisterForm,
    ResetPasswordForm, SettingsForm, TermsForm,
)

# Per client address. Sign-in attempts are the target of password guessing; the mail-sending
# forms could be used to flood someone's mailbox. Per account and per recipient the domain
# counts in the database: the sign-in back-off (domain/throttle.py) and the mail limits
# (domain/mail_limits.py), never a lock a stranger could set off.
LOGIN_LIMIT = "10/minute"
MAIL_LIMIT = "5/minute"

LANG_COOKIE_AGE = 365 * 24 * 3600
# Sent with the answer to signing out: the browser forgets this site's cookies (of the whole
# registrable domain), its storage and its cache, so nothing of the session stays on the device.
CLEAR_SITE_DATA = '"cache", "cookies", "storage"'


def _home() -> str:
    return url_for("showcase.home")


def _sign_in(user, method: str | None = "password") -> None:
    """A fresh session for the user (no data of the anonymous session survives).

    `method` None: the same person continues (after changing the password), no new sign-in;
    how the session was signed in stays as it was.
    """
    if method is None:
        start_session(user, session.get(SIGN_IN_METHOD_KEY) or "password",
                      second_factor=bool(session.get(SECOND_FACTOR_KEY)))
        return
    start_session(user, method)
    registration.record_login(user, method=method)


def _sent_page(title: str, text: str, status: int = 200):
    return render("auth/sent.html", status=status, title=title, text=text)


def _email_request(send, template: str, sent_text: str):
    """A form that asks only for an e-mail address and sends a link to it.

    `send(email)` queues the mail if there is an account to send it for; the answer is the
    same either way, so the page does not tell which addresses have an account.
    """
    form = EmailForm()
    if form.validate_on_submit():
        send(form.email.data)
        db.session.commit()
        return _sent_page(_("Bitte prüfen Sie Ihr Postfach"), sent_text)
    status = 422 if form.is_submitted() else 200
    return render(template, form=form, status=status)


# ------------------------------------------------------------------ registration

@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(MAIL_LIMIT, methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect_to(url_for("auth.settings"))
    form = RegisterForm()
    if not form.is_submitted():
        # from an invitation: its address, to be changed if the person wants another
        form.email.data = (request.args.get("email") or "").strip()[:254] or None
    if form.validate_on_submit():
        try:
            registration.register(form.email.data, form.name.data, form.password.data,
                                  str(get_locale() or "de"))
        except PasswordRejected as exc:
            form.password.errors = [*form.password.errors, str(exc.reason)]
        else:
            db.session.commit()
            return _sent_page(
                _("Bitte prüfen Sie Ihr Postfach"),
                _("Wir haben Ihnen eine E-Mail an die angegebene Adresse geschickt. Bitte folgen "
                  "Sie dem Link darin, um Ihre Registrierung abzuschließen. Sollte die E-Mail "
                  "nicht ankommen, sehen Sie bitte auch im Spam-Ordner nach."),
            )
    status = 422 if form.is_submitted() else 200
    return render("auth/register.html", form=form, status=status,
                  min_password_length=MIN_PASSWORD_LENGTH)


@bp.route("/confirm/<token>", methods=["GET", "POST"])
def confirm(token):
    # The link shows a button; only the POST confirms, so mail scanners that open links
    # do not confirm an address on their own.
    if request.method == "GET":
        if registration.user_for_confirmation(token) is None:
            return render("auth/link_invalid.html", status=400, kind="confirm")
        return render("auth/confirm.html", token=token)
    user = registration.confirm_email(token)
    if user is None:
        return render("auth/link_invalid.html", status=400, kind="confirm")
    db.session.commit()
    flash(_("Vielen Dank, Ihre E-Mail-Adresse ist bestätigt."), "success")
    if not admin_domain.can_sign_in(user):
        # No way in is left (a provider linked before the confirmation was removed): the link
        # has just shown that this person reads the mailbox, so a password can be set now.
        flash(_("Bitte legen Sie jetzt ein Passwort fest. Eine Anmeldung über einen anderen "
                "Anbieter können Sie danach unter „Mein Konto“ verknüpfen."), "info")
        return redirect_to(url_for("auth.reset_password",
                                   token=registration.make_token("reset", user)))
    waiting = orgs.invitations_for(user)
    if waiting:  # invited before registering: on to the invitation, after signing in
        flash(_("Sie sind eingeladen, der Organisation „%(name)s“ beizutreten.",
                name=waiting[0].organisation.name), "info")
        target = url_for("accounts.invitation", invitation_id=waiting[0].id)
        if current_user.is_authenticated:
            return redirect_to(target)
        return redirect_to(url_for("auth.login", next=target))
    if current_user.is_authenticated:
        return redirect_to(url_for("auth.settings"))
    return redirect_to(url_for("auth.login"))


@bp.route("/register/resend", methods=["GET", "POST"])
@limiter.limit(MAIL_LIMIT, methods=["POST"])
def resend_confirmation():
    return _email_request(
        registration.resend_confirmation, "auth/resend.html",
        _("Wenn zu dieser Adresse ein noch nicht bestätigtes Konto gehört, haben wir Ihnen "
          "eine E-Mail mit einem neuen Bestätigungslink geschickt. Sollte die E-Mail nicht "
          "ankommen, sehen Sie bitte auch im Spam-Ordner nach."),
    )


# ------------------------------------------------------------------ sign in, sign out

@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT, methods=["POST"])
def login():
    wanted = safe_next(request.values.get("next"), "")  # "" unless it stays on this site
    target = wanted or landing_page()
    if current_user.is_authenticated:
        return redirect_to(target)
    form = LoginForm()
    form.next.data = wanted
    unconfirmed_email = None
    if form.validate_on_submit():
        result = registration.authenticate(form.email.data, form.password.data)
        if result and not identities.local_login_allowed(result.user):
            db.session.commit()
            form.form_errors.append(str(identities.STAFF_PROVIDER_ONLY))
        elif result:
            return begin_sign_in(result.user, "password", target)  # or its second factor
        db.session.commit()  # the audit event of the failed attempt
        if result.refused is LoginRefused.UNCONFIRMED:
            unconfirmed_email = result.user.email
        elif result.refused is LoginRefused.WAIT:
            form.form_errors.append(_(
                "Nach mehreren fehlgeschlagenen Anmeldeversuchen ist die nächste Anmeldung erst "
                "in %(n)d Sekunden möglich. Bitte warten Sie so lange. Haben Sie Ihr Passwort "
                "vergessen, können Sie jederzeit über „Passwort vergessen“ ein neues festlegen.",
                n=result.wait))
            response = render("auth/login.html", form=form, unconfirmed_email=None, status=429)
            response.headers["Retry-After"] = str(result.wait)
            return response
        else:
            form.form_errors.append(_("E-Mail-Adresse oder Passwort ist falsch."))
    status = 422 if form.is_submitted() else 200
    return render("auth/login.html", form=form, unconfirmed_email=unconfirmed_email, status=status)


@bp.post("/logout")
def logout():
    # Where to end the session at the identity provider too; read before the session is cleared.
    provider_logout = identities.provider_logout_url(session)
    lang = str(get_locale() or "de")
    if not current_user.is_authenticated:
        session.clear()
        return redirect_to(_home())
    registration.logout(current_user._get_current_object(), session.get("_user_id"))
    logout_user()
    db.session.commit()
    return _signed_out_response(provider_logout, lang)


def _signed_out_response(provider_logout: str | None, lang: str):
    """The answer that ends the visit: the browser clears this site's data (the session
    cookie with it), so the "signed out" message is a page of its own, not a flash."""
    session.clear()
    response = redirect_to(provider_logout or url_for("auth.signed_out", lang=lang))
    response.headers["Clear-Site-Data"] = CLEAR_SITE_DATA
    return response


@bp.get("/signed-out")
def signed_out():
    lang = request.args.get("lang")
    if current_user.is_authenticated:  # signed in again meanwhile
        return redirect_to(_home())
    if lang not in LOCALES:
        return render("auth/signed_out.html")
    g.innolab_locale = lang  # the language cookie was cleared with the rest
    response = render("auth/signed_out.html")
    response.set_cookie("lang", lang, max_age=LANG_COOKIE_AGE, samesite="Lax", httponly=True,
                        secure=request.is_secure)
    return response


# ------------------------------------------------------------------ passwords

@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(MAIL_LIMIT, methods=["POST"])
def forgot_password():
    return _email_request(
        registration.request_password_reset, "auth/forgot_password.html",
        _("Wenn zu dieser Adresse ein Konto gehört, haben wir Ihnen eine E-Mail mit einem "
          "Link geschickt, über den Sie ein neues Passwort festlegen können. Der Link ist "
          "zwei Stunden gültig. Sollte die E-Mail nicht ankommen, sehen Sie bitte auch im "
          "Spam-Ordner nach."),
    )


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT, methods=["POST"])
def reset_password(token):
    user = registration.user_for_reset(token)
    if user is None:
        return render("auth/link_invalid.html", status=400, kind="reset")
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            registration.reset_password(user, form.password.data)
        except PasswordRejected as exc:
            form.password.errors = [*form.password.errors, str(exc.reason)]
        else:
            if current_user.is_authenticated:
                logout_user()
            # a reset link proves the mailbox, not the second factor: that is still asked
            return begin_sign_in(user, "reset_link", url_for("auth.settings"), message=_(
                "Ihr Passwort ist gespeichert. Sie sind jetzt angemeldet."))
    status = 422 if form.is_submitted() else 200
    return render("auth/reset_password.html", form=form, user=user, token=token, status=status,
                  min_password_length=MIN_PASSWORD_LENGTH)


@bp.route("/account/staff-invitation/<token>", methods=["GET", "POST"])
@limiter.limit(LOGIN_LIMIT, methods=["POST"])
def staff_invitation(token):
    """The link of a staff invitation: the roles take effect only here, for the account
    holder (a new account sets its password here; an existing one signs in first)."""
    grant = admin_domain.grant_by_token(token)
    if grant is None:
        return render("auth/link_invalid.html", status=400, kind="staff_invitation")
    user = grant.user
    roles = [str(label) for label in role_labels(grant.role_values)]
    new_account = not admin_domain.can_sign_in(user)
    if not new_account:
        if not current_user.is_authenticated:
            flash(_("Bitte melden Sie sich mit Ihrem Konto an, um die Einladung anzunehmen."),
                  "info")
            return redirect_to(url_for("auth.login", next=request.path))
        if current_user.id != user.id:
            return render("auth/link_invalid.html", status=403, kind="staff_invitation")
    form = ResetPasswordForm() if new_account else None
    status = 200
    if request.method == "POST" and form is not None and not form.validate_on_submit():
        status = 422
    elif request.method == "POST":
        try:
            if new_account:
                registration.reset_password(user, form.password.data)
            admin_domain.accept_grant(user, token)
        except PasswordRejected as exc:
            form.password.errors = [*form.password.errors, str(exc.reason)]
            status = 422
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc.reason), "error")
            return redirect_to(url_for("auth.settings" if current_user.is_authenticated
                                       else "auth.login"))
        else:
            if new_account:
                if current_user.is_authenticated:
                    logout_user()
                _sign_in(user, method="staff_invitation")
            db.session.commit()
            flash(_("Sie haben die Einladung angenommen. Ihre Rollen: %(roles)s",
                    roles=", ".join(roles)), "success")
            return redirect_to(url_for("auth.settings"))
    return render("auth/staff_invitation.html", form=form, user=user, token=token, roles=roles,
                  status=status, min_password_length=MIN_PASSWORD_LENGTH)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
@limiter.limit(LOGIN_LIMIT, methods=["POST"])
def change_password():
    if not current_user.password_hash:
        # signed up through an external provider (or invited): nothing to change yet
        return render("auth/change_password.html", form=None, no_password=True)
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        wait = registration.password_wait(user)
        if wait:
            form.current_password.errors = [*form.current_password.errors, _(
                "Nach mehreren fehlgeschlagenen Versuchen ist die nächste Eingabe erst in "
                "%(n)d Sekunden möglich. Bitte warten Sie so lange.", n=wait)]
            response = render("auth/change_password.html", form=form, status=429,
                              min_password_length=MIN_PASSWORD_LENGTH)
            response.headers["Retry-After"] = str(wait)
            return response
        try:
            changed = registration.change_password(user, form.current_password.data,
                                                   form.password.data)
        except PasswordRejected as exc:
            form.password.errors = [*form.password.errors, str(exc.reason)]
        else:
            if changed:
                # Every other device is signed out; this one continues with the new token.
                _sign_in(user, method=None)
                db.session.commit()
                flash(_("Ihr Passwort wurde geändert. Auf allen anderen Geräten sind Sie "
                        "abgemeldet."), "success")
                return redirect_to(url_for("auth.settings"))
            db.session.commit()  # the audit event of the failed attempt
            form.current_password.errors = [
                *form.current_password.errors, _("Das aktuelle Passwort ist nicht richtig.")]
    status = 422 if form.is_submitted() else 200
    return render("auth/change_password.html", form=form, status=status,
                  min_password_length=MIN_PASSWORD_LENGTH)


# ------------------------------------------------------------------ account settings

@bp.route("/account", methods=["GET", "POST"])
@login_required
def settings():
    user = current_user._get_current_object()
    form = SettingsForm(obj=user)
    if form.validate_on_submit():
        registration.update_settings(user, form.name.data, form.locale.data)
        db.session.commit()
        flash(_("Ihre Einstellungen sind gespeichert."), "success")
        response = redirect_to(url_for("auth.settings"))
        response.set_cookie("lang", user.locale, max_age=LANG_COOKIE_AGE, samesite="Lax",
                            httponly=True, secure=request.is_secure)
        return response
    status = 422 if form.is_submitted() else 200
    role_names = [str(label) for label in role_labels(user.roles)]
    return render("auth/settings.html", form=form, user=user, role_names=role_names,
                  has_password=bool(user.password_hash), status=status,
                  session_count=len(sessions.active_sessions(user)))


# ------------------------------------------------------------------ changed privacy notice

# What a person may still do before agreeing to a changed privacy notice: read it, sign out,
# take their data or delete their account, prove who they are, and load the site's files.
TERMS_OPEN_BLUEPRINTS = {"privacy", "mfa", "site", "ops", "static"}
TERMS_OPEN_ENDPOINTS = {"static", "auth.terms", "auth.logout", "auth.signed_out",
                        "auth.reauthenticate", "showcase.page", "showcase.set_language"}


@bp.before_app_request
def _ask_for_changed_terms():
    endpoint = request.endpoint or ""
    if (endpoint in TERMS_OPEN_ENDPOINTS or request.blueprint in TERMS_OPEN_BLUEPRINTS
            or not terms.needs_consent(current_user)):
        return None
    back = request.full_path.rstrip("?") if request.method == "GET" else None
    return redirect_to(url_for("auth.terms", next=back) if back else url_for("auth.terms"))


@bp.route("/account/terms", methods=["GET", "POST"], endpoint="terms")
@login_required
def terms_page():
    """The privacy notice changed: agree to go on (or sign out, export, delete)."""
    form = TermsForm()
    wanted = safe_next(request.values.get("next"), "")
    if not form.is_submitted():
        form.next.data = wanted
    if not terms.needs_consent(current_user):
        return redirect_to(wanted or _home())
    if form.validate_on_submit():
        terms.record_consent(current_user._get_current_object())
        db.session.commit()
        flash(_("Vielen Dank. Ihre Zustimmung ist gespeichert."), "success")
        return redirect_to(safe_next(form.next.data, _home()))
    status = 422 if form.is_submitted() else 200
    return render("auth/terms.html", form=form, summary=terms.changes_summary(), status=status)


# ------------------------------------------------------------------ signed-in devices

@bp.get("/account/sessions")
@login_required
def sessions_page():
    user = current_user._get_current_object()
    current = current_session_id()
    rows = [{"row": row, "current": row.id == current,
             "device": sessions.describe_device(row.user_agent),
             "method": sessions.describe_method(row.method)}
            for row in sessions.active_sessions(user)]
    rows.sort(key=lambda r: not r["current"])  # this device first
    return render("auth/sessions.html", rows=rows,
                  others=sum(1 for r in rows if not r["current"]))


@bp.post("/account/sessions/<int:session_id>/end")
@login_required
@recent_auth_required
def end_session(session_id):
    user = current_user._get_current_object()
    current = current_session_id()
    try:
        row = sessions.end_one(user, session_id, current)
    except sessions.NotYours:
        db.session.rollback()
        flash(_("Diese Sitzung ist bereits beendet."), "info")
        return redirect_to(url_for("auth.sessions_page"))
    if row.id == current:  # this device: the same as signing out
        lang = str(get_locale() or "de")
        logout_user()
        db.session.commit()
        return _signed_out_response(None, lang)
    db.session.commit()
    flash(_("Die Sitzung auf „%(device)s“ ist beendet. Dort ist jetzt niemand mehr "
            "angemeldet.", device=sessions.describe_device(row.user_agent)), "success")
    return redirect_to(url_for("auth.sessions_page"))


@bp.post("/account/sessions/end-others")
@login_required
@recent_auth_required
def end_other_sessions():
    count = sessions.end_others(current_user._get_current_object(), current_session_id())
    db.session.commit()
    if count:
        flash(_("Sie sind jetzt auf allen anderen Geräten abgemeldet."), "success")
    else:
        flash(_("Sie waren auf keinem anderen Gerät angemeldet."), "info")
    return redirect_to(url_for("auth.sessions_page"))


# ------------------------------------------------------------------ confirming who you are

@bp.route("/account/confirm-identity", methods=["GET", "POST"])
@login_required
@limiter.limit(LOGIN_LIMIT, methods=["POST"])
def reauthenticate():
    """Before a sensitive change: the person shows again that it is them (see
    web.recent_auth_required). The ways offered come from auth/reauth.py."""
    user = current_user._get_current_object()
    target = safe_next(request.values.get("next"), url_for("auth.settings"))
    methods = reauth.methods_for(user)
    form = ReauthForm()
    form.next.data = target
    status = 200
    if form.validate_on_submit():
        if not any(m.kind == "password" for m in methods):
            abort(400)
        result = registration.reauthenticate(user, form.password.data)
        if result:
            mark_recent_auth()
            db.session.commit()
            return redirect_to(target)
        db.session.commit()  # the failure counts and is audited
        if result.refused is LoginRefused.WAIT:
            form.password.errors = [*form.password.errors, _(
                "Nach mehreren fehlgeschlagenen Versuchen ist die nächste Eingabe erst in "
                "%(n)d Sekunden möglich. Bitte warten Sie so lange.", n=result.wait)]
            response = render("auth/reauthenticate.html", form=form, methods=methods,
                              next=target, status=429)
            response.headers["Retry-After"] = str(result.wait)
            return response
        form.password.errors = [*form.password.errors, _("Das Passwort ist nicht richtig.")]
        status = 422
    elif form.is_submitted():
        status = 422
    return render("auth/reauthenticate.html", form=form, methods=methods, next=target,
                  status=status)


# ------------------------------------------------------------------ changing the address

@bp.route("/account/email", methods=["GET", "POST"])
@login_required
@recent_auth_required
@limiter.limit(MAIL_LIMIT, methods=["POST"])
def change_email():
    user = current_user._get_current_object()
    form = EmailChangeForm()
    if form.validate_on_submit():
        try:
            registration.request_email_change(user, form.email.data)
        except EmailChangeRefused as exc:
            form.email.errors = [*form.email.errors, str(exc.reason)]
        else:
            db.session.commit()
            return _sent_page(
                _("Bitte prüfen Sie Ihr Postfach"),
                _("Wir haben Ihnen eine E-Mail an die neue Adresse geschickt. Bitte folgen Sie "
                  "dem Link darin, um die Änderung zu bestätigen; er ist 24 Stunden gültig. Bis "
                  "dahin bleibt Ihre bisherige Adresse gültig. An die bisherige Adresse haben "
                  "wir einen Hinweis auf die Änderung geschickt."))
    status = 422 if form.is_submitted() else 200
    return render("auth/change_email.html", form=form, user=user, status=status)


@bp.route("/account/email/confirm/<token>", methods=["GET", "POST"])
def confirm_email_change(token):
    # As for the confirmation of a new account: only the POST changes anything.
    change = registration.read_email_change_token(token)
    if change is None:
        return render("auth/link_invalid.html", status=400, kind="email_change")
    if request.method == "GET":
        return render("auth/confirm_email_change.html", token=token, new_email=change.new_email)
    signed_in_here = current_user.is_authenticated and current_user.id == change.user.id
    user = registration.confirm_email_change(
        token, keep_session=current_session_id() if signed_in_here else None)
    if user is None:
        db.session.commit()  # the audit event of a refusal
        return render("auth/link_invalid.html", status=400, kind="email_change")
    db.session.commit()
    flash(_("Ihre E-Mail-Adresse ist jetzt %(email)s. Auf allen anderen Geräten sind Sie "
            "abgemeldet.", email=user.email), "success")
    return redirect_to(url_for("auth.settings" if signed_in_here else "auth.login"))
