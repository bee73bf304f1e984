"""Pages of the second factors.

GET       /account/security                       mfa.security        list, rename, remove, codes
GET, POST /account/security/app                   mfa.add_totp        authenticator app (QR code)
GET, POST /account/security/passkey               mfa.add_passkey     passkey (WebAuthn)
POST      /account/security/<id>/rename           mfa.rename
POST      /account/security/<id>/remove           mfa.remove
POST      /account/security/recovery-codes        mfa.regenerate_codes
GET, POST /account/security/confirm               mfa.reauthenticate  prove it is you (factor)
GET, POST /login/second-factor                    mfa.challenge       second step of signing in
POST      /admin/sign-in/second-factor            mfa.admin_policy    the policy (admins)
GET, POST /admin/users/<id>/second-factors/reset  mfa.admin_reset     recovery through an admin
"""
from __future__ import annotations

from flask import abort, current_app, flash, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..auth import reauth
from ..domain import identities, permissions
from ..domain import mfa as domain
from ..domain.mfa import MfaRefused
from ..extensions import db, limiter
from ..models import User
from ..web import (
    SECOND_FACTOR_KEY, landing_page, mark_recent_auth, recent_auth_required, redirect_to,
    render, require, safe_next,
)
from ..web.forms import text_of
from . import bp
from .flow import (
    drop_pending, finish_sign_in, keep_challenge, mark_second_factor, pending, relying_party,
    take_challenge,
)
from .forms import (
    AdminResetForm, ButtonForm, CodeForm, PasskeyForm, PasskeySetupForm, PolicyForm, RenameForm,
    TotpSetupForm,
)

CODE_LIMIT = "10/minute"

# Pages a signed-in person who must still set up a second factor can use.
OPEN_WHILE_ENROLLING = {
    "static", "auth.logout", "auth.reauthenticate", "showcase.set_language", "mfa.security",
    "mfa.add_totp", "mfa.add_passkey", "mfa.regenerate_codes", "mfa.rename", "mfa.remove",
    "mfa.reauthenticate", "mfa.challenge",
}


# ------------------------------------------------------------------ enforcement

@bp.before_app_request
def _enforce_policy():
    """A staff member the policy covers uses the platform only with a second factor:
    without one set up, every page leads to the security page; with one that this session
    has not shown (a session from before), to the confirmation with it."""
    if not current_user.is_authenticated or session.get(SECOND_FACTOR_KEY):
        return None
    endpoint = request.endpoint
    if not endpoint or endpoint in OPEN_WHILE_ENROLLING:
        return None
    user = current_user._get_current_object()
    back = request.full_path.rstrip("?") if request.method == "GET" else None
    if domain.has_factor(user):
        return redirect_to(url_for("mfa.reauthenticate", next=back))
    if not current_app.config.get("MFA_ENFORCE_ENROLMENT", True) or not domain.required_for(user):
        return None
    flash(_("Für Ihr Konto ist ein zweiter Faktor vorgeschrieben. Bitte richten Sie jetzt "
            "einen Passkey oder eine Authenticator-App ein; danach können Sie die Plattform "
            "wie gewohnt nutzen."), "info")
    return redirect_to(url_for("mfa.security"))


@bp.app_context_processor
def _templates():
    return {"mfa_admin_policy": _policy_context, "mfa_factor_summary": _factor_summary}


def _policy_context():
    form = PolicyForm(data={"policy": domain.policy()})
    unchecked = [p.display_name for p in identities.providers()
                 if p.staff and not domain.assurance(p).configured]
    return {"form": form, "delegated": domain.policy() == domain.DELEGATED,
            "unchecked": unchecked}


def _factor_summary(user):
    return {"factors": domain.factors(user), "codes": domain.remaining_codes(user),
            "required": domain.required_for(user)}


# ------------------------------------------------------------------ the security page

def _me() -> User:
    return current_user._get_current_object()


@bp.get("/account/security")
@login_required
def security():
    user = _me()
    return render("mfa/security.html", user=user, factors=domain.factors(user),
                  codes_left=domain.remaining_codes(user), required=domain.required_for(user),
                  can_remove=domain.can_remove(user), kind_label=domain.kind_label,
                  second_factor=bool(session.get(SECOND_FACTOR_KEY)))


def _added(factor, codes):
    """After a factor was saved: this session counts as second-factor; codes shown once."""
    db.session.commit()
    mark_second_factor()
    mark_recent_auth()
    if codes:
        return render("mfa/codes.html", codes=codes, added=factor.name)
    flash(_("„%(name)s“ ist eingerichtet.", name=factor.name), "success")
    return redirect_to(url_for("mfa.security"))


@bp.route("/account/security/app", methods=["GET", "POST"])
@login_required
@recent_auth_required
def add_totp():
    user = _me()
    form = TotpSetupForm()
    status = 200
    secret = domain.secret_from_setup(user, form.setup.data) if form.is_submitted() else None
    if form.is_submitted() and secret is None:
        form.code.errors = [str(domain.SETUP_EXPIRED)]
        status = 422
    elif form.validate_on_submit() and secret is not None:
        try:
            factor, codes = domain.add_totp(user, form.name.data, secret, text_of(form.code))
        except MfaRefused as exc:
            db.session.commit()  # the audit event of the failed attempt
            form.code.errors = [str(exc.reason)]
            status = 422
        else:
            return _added(factor, codes)
    elif form.is_submitted():
        status = 422
    if secret is None:
        secret = domain.new_totp_secret()
    form.setup.data = domain.setup_token(user, secret)
    form.code.data = ""
    uri = domain.provisioning_uri(user, secret)
    return render("mfa/add_totp.html", form=form, status=status,
                  qr=domain.qr_svg(uri, _("QR-Code zum Einrichten der Authenticator-App")),
                  secret=domain.grouped_secret(secret))


@bp.route("/account/security/passkey", methods=["GET", "POST"])
@login_required
@recent_auth_required
def add_passkey():
    user = _me()
    form = PasskeySetupForm()
    status = 200
    rp = relying_party()
    if form.is_submitted():
        challenge = take_challenge("register")
        if form.validate() and form.credential.data:
            try:
                factor, codes = domain.add_passkey(user, form.name.data, form.credential.data,
                                                   challenge, rp)
            except MfaRefused as exc:
                db.session.commit()  # the audit event
                form.credential.errors = [str(exc.reason)]
            else:
                return _added(factor, codes)
        elif not form.credential.data:
            form.credential.errors = [_("Ihr Browser hat keinen Passkey übermittelt. Bitte "
                                        "versuchen Sie es noch einmal.")]
        status = 422
    options, challenge = domain.registration_options(user, rp)
    keep_challenge("register", challenge)
    return render("mfa/add_passkey.html", form=form, status=status, options=options)


def _back_to_security(message: str, category: str = "success"):
    flash(message, category)
    return redirect_to(url_for("mfa.security"))


@bp.post("/account/security/<int:factor_id>/rename")
@login_required
@recent_auth_required
def rename(factor_id):
    form = RenameForm()
    if not form.validate():
        return _back_to_security(" ".join(form.name.errors), "error")
    try:
        factor = domain.rename(_me(), factor_id, text_of(form.name))
    except MfaRefused as exc:
        db.session.rollback()
        return _back_to_security(str(exc.reason), "error")
    db.session.commit()
    return _back_to_security(_("Die Bezeichnung ist jetzt „%(name)s“.", name=factor.name))


@bp.post("/account/security/<int:factor_id>/remove")
@login_required
@recent_auth_required
def remove(factor_id):
    ButtonForm()  # CSRFProtect has checked the token
    try:
        name = domain.remove(_me(), factor_id)
    except MfaRefused as exc:
        db.session.rollback()
        return _back_to_security(str(exc.reason), "error")
    db.session.commit()
    return _back_to_security(_("„%(name)s“ wurde entfernt.", name=name))


@bp.post("/account/security/recovery-codes")
@login_required
@recent_auth_required
def regenerate_codes():
    ButtonForm()
    try:
        codes = domain.regenerate_codes(_me())
    except MfaRefused as exc:
        db.session.rollback()
        return _back_to_security(str(exc.reason), "error")
    db.session.commit()
    return render("mfa/codes.html", codes=codes, added=None)


# ------------------------------------------------------------------ proving the factor

def _prove(user, code_form, passkey_form, purpose: str, challenge_purpose: str):
    """Check what was sent; (proof, status). Commits the audit events and counters."""
    if passkey_form.credential.data:
        proof = domain.prove(user, credential=passkey_form.credential.data,
                             challenge=take_challenge(challenge_purpose), rp=relying_party(),
                             purpose=purpose)
        target = passkey_form.credential
        error = domain.PASSKEY_FAILED
    elif code_form.validate():
        proof = domain.prove(user, code=text_of(code_form.code), purpose=purpose)
        target = code_form.code
        error = domain.WRONG_CODE
    else:
        return None, 422
    db.session.commit()
    if proof.ok:
        return proof, 200
    if proof.wait:
        target.errors = [_("Nach mehreren falschen Versuchen ist der nächste erst in %(n)d "
                           "Sekunden möglich. Bitte warten Sie so lange.", n=proof.wait)]
        return proof, 429
    target.errors = [str(error)]
    return proof, 422


def _proof_page(template: str, user, code_form, passkey_form, purpose: str, status: int,
                **context):
    options = domain.authentication_options(user, relying_party())
    if options is not None:
        keep_challenge(purpose, options[1])
    response = render(template, code_form=code_form, passkey_form=passkey_form,
                      options=options[0] if options else None, status=status, **context)
    if status == 429:
        response.headers["Retry-After"] = "60"
    return response


def _codes_left_notice(proof) -> None:
    if proof.kind == "recovery":
        flash(_("Sie haben einen Wiederherstellungscode verwendet; er gilt nicht mehr. Es sind "
                "noch %(n)d übrig. Erzeugen Sie unter „Anmeldesicherheit“ neue, bevor sie "
                "ausgehen.", n=proof.codes_left or 0), "warning")


@bp.route("/login/second-factor", methods=["GET", "POST"])
@limiter.limit(CODE_LIMIT, methods=["POST"])
def challenge():
    if current_user.is_authenticated:
        return redirect_to(landing_page())
    found = pending()
    if found is None:
        drop_pending()
        flash(_("Die Anmeldung ist abgelaufen. Bitte melden Sie sich noch einmal an."), "info")
        return redirect_to(url_for("auth.login"))
    user, state = found
    code_form, passkey_form = CodeForm(), PasskeyForm()
    status = 200
    if request.method == "POST":
        proof, status = _prove(user, code_form, passkey_form, "sign_in", "sign_in")
        if proof is not None and proof.ok:
            response = finish_sign_in(user, state)
            _codes_left_notice(proof)
            return response
    code_form.code.data = ""
    return _proof_page("mfa/challenge.html", user, code_form, passkey_form, "sign_in", status)


@bp.route("/account/security/confirm", methods=["GET", "POST"])
@login_required
@limiter.limit(CODE_LIMIT, methods=["POST"])
def reauthenticate():
    """Prove it is you with your second factor: counts as a recent proof of identity (and,
    for a session that had not shown one, as its second factor)."""
    user = _me()
    target = safe_next(request.values.get("next"), url_for("mfa.security"))
    if not domain.has_factor(user):
        return _back_to_security(str(domain.NO_FACTOR), "info")
    code_form, passkey_form = CodeForm(), PasskeyForm()
    status = 200
    if request.method == "POST":
        proof, status = _prove(user, code_form, passkey_form, "reauthenticate", "confirm")
        if proof is not None and proof.ok:
            mark_recent_auth()
            mark_second_factor()
            _codes_left_notice(proof)
            flash(_("Danke, Sie haben bestätigt, dass Sie es sind."), "success")
            return redirect_to(target)
    code_form.code.data = ""
    return _proof_page("mfa/reauthenticate.html", user, code_form, passkey_form, "confirm",
                       status, next=target)


# ------------------------------------------------------------------ administration

def _admin_only() -> None:
    require(permissions.administer(current_user))


@bp.post("/admin/sign-in/second-factor")
@login_required
@recent_auth_required
def admin_policy():
    _admin_only()
    form = PolicyForm()
    if not form.validate():
        flash(_("Bitte wählen Sie eine der angebotenen Regeln."), "error")
        return redirect_to(url_for("admin.sign_in_settings"))
    domain.set_policy(_me(), form.policy.data or domain.DEFAULT_POLICY)
    db.session.commit()
    flash(_("Die Regel für den zweiten Faktor ist gespeichert."), "success")
    return redirect_to(url_for("admin.sign_in_settings"))


@bp.route("/admin/users/<int:user_id>/second-factors/reset", methods=["GET", "POST"])
@login_required
@recent_auth_required
def admin_reset(user_id):
    _admin_only()
    person = db.session.get(User, user_id)
    if person is None:
        abort(404)
    form = AdminResetForm()
    status = 200
    if form.validate_on_submit():
        try:
            count = domain.admin_reset(_me(), person, text_of(form.reason))
        except MfaRefused as exc:
            db.session.rollback()
            form.reason.errors = [str(exc.reason)]
        else:
            db.session.commit()
            flash(_("Die zweiten Faktoren von %(name)s wurden zurückgesetzt (%(n)d entfernt); "
                    "alle Sitzungen des Kontos sind beendet. Die Person richtet bei der "
                    "nächsten Anmeldung einen neuen ein.", name=person.name, n=count), "success")
            return redirect_to(url_for("admin.user", user_id=person.id))
        status = 422
    elif form.is_submitted():
        status = 422
    return render("mfa/admin_reset.html", form=form, person=person, status=status,
                  factors=domain.factors(person), kind_label=domain.kind_label)


# ------------------------------------------------------------------ a way of re-authenticating


@reauth.register
def _second_factor(user: User) -> list[reauth.Method]:
    """The re-authentication page offers the second factor, where the person has one."""
    return [reauth.Method("second_factor", "mfa/_reauth_second_factor.html")] \
        if domain.has_factor(user) else []
