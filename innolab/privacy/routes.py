""""Ihre Daten" under "Mein Konto": download all one's data, delete one's account."""
from __future__ import annotations

from flask import abort, flash, request, send_file, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from ..domain import audit, privacy
from ..domain.privacy import DeletionRefused
from ..extensions import db, limiter
from ..models import ExportStatus
from ..web import recent_auth_required, redirect_to, render
from . import bp
from .forms import INLINE_FORMS, DeleteByLinkForm

# Guessing the password through the deletion form is as limited as through the sign-in.
CONFIRM_LIMIT = "10/minute"
MAIL_LIMIT = "5/minute"


# ------------------------------------------------------------------ data export


@bp.get("/data-export")
@login_required
def export():
    exports = privacy.exports_of(current_user)
    return render("privacy/export.html", exports=exports,
                  waiting=privacy.pending_export(current_user),
                  downloadable=privacy.is_downloadable, days=privacy.export_days(),
                  ExportStatus=ExportStatus)


@bp.post("/data-export")
@login_required
def request_export():
    made = privacy.request_export(current_user._get_current_object())
    db.session.commit()
    if made.status == ExportStatus.READY.value:
        flash(_("Ihre Datenauskunft ist fertig. Sie können sie jetzt herunterladen."), "success")
    else:
        flash(_("Wir stellen Ihre Daten zusammen. Sobald die Datei fertig ist, benachrichtigen "
                "wir Sie hier und per E-Mail."), "info")
    return redirect_to(url_for("privacy.export"))


@bp.get("/data-export/<int:export_id>/download")
@login_required
def download(export_id: int):
    made = privacy.own_export(current_user, export_id)
    if made is None:  # someone else's is as unknown as one that never was
        abort(404)
    return _download(made)


@recent_auth_required
def _download(made):
    if made.status == ExportStatus.EXPIRED.value or (
            made.status == ExportStatus.READY.value and not privacy.is_downloadable(made)):
        return render("privacy/export_gone.html", status=410, days=privacy.export_days())
    if made.status != ExportStatus.READY.value:
        abort(404)
    try:
        path = privacy.export_path(made)
        response = send_file(path, mimetype="application/zip", as_attachment=True,
                             download_name=f"innolab-datenauskunft-{made.created_at:%Y-%m-%d}.zip",
                             conditional=False, etag=False, max_age=None)
    except FileNotFoundError:
        abort(404)
    audit.record(current_user, "privacy.export_download", made)
    db.session.commit()
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


# ------------------------------------------------------------------ deleting the account


def _delete_page(status: int = 200, forms: dict | None = None, link_sent: bool = False):
    user = current_user._get_current_object()
    plan = privacy.plan(user)
    methods = privacy.confirmations_for(user)
    forms = forms or {}
    for method in methods:
        if method.inline and method.key not in forms:
            forms[method.key] = INLINE_FORMS[method.key](formdata=None)
    return render("privacy/delete.html", status=status, plan=plan, reason=privacy.refusal(plan),
                  methods=methods, forms=forms, link_sent=link_sent)


def _finish(user, method: str):
    """Delete, end the session, say so. A refusal found under the lock is shown on the page."""
    try:
        deleted = privacy.delete_account(user, method)
    except DeletionRefused as exc:
        db.session.rollback()
        flash(str(exc.reason), "error")
        return redirect_to(url_for("privacy.delete"))
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("Ihr Konto ist gelöscht. Eine Bestätigung haben wir an %(email)s geschickt.",
            email=deleted.email), "success")
    return redirect_to(url_for("showcase.home"))


@bp.route("/delete", methods=["GET", "POST"])
@login_required
@limiter.limit(CONFIRM_LIMIT, methods=["POST"])
def delete():
    user = current_user._get_current_object()
    if request.method == "GET":
        return _delete_page()
    method = request.form.get("method", "")
    available = {m.key: m for m in privacy.confirmations_for(user)}
    if method not in available or method not in INLINE_FORMS:
        return _delete_page(status=422)
    form = INLINE_FORMS[method]()
    if not form.validate_on_submit():
        return _delete_page(status=422, forms={method: form})
    if not privacy.confirm(user, method, form.value()):
        db.session.commit()  # the audit event of the failed attempt
        wrong = form.code if method == "second_factor" else form.password
        wrong.errors = [*wrong.errors, _("Der Code ist nicht richtig.") if method == "second_factor"
                        else _("Das Passwort ist nicht richtig.")]
        return _delete_page(status=422, forms={method: form})
    return _finish(user, method)


@bp.post("/delete/link")
@login_required
@limiter.limit(MAIL_LIMIT)
def delete_link():
    """Accounts without a password confirm by a link mailed to their address."""
    user = current_user._get_current_object()
    if "mail_link" not in {m.key for m in privacy.confirmations_for(user)}:
        return redirect_to(url_for("privacy.delete"))
    privacy.send_deletion_link(user)
    db.session.commit()
    flash(_("Wir haben Ihnen einen Link an %(email)s geschickt. Bitte öffnen Sie ihn innerhalb "
            "einer Stunde in diesem Browser, um das Löschen zu bestätigen.",
            email=user.email), "info")
    return redirect_to(url_for("privacy.delete"))


@bp.route("/delete/confirm/<token>", methods=["GET", "POST"])
@login_required
@limiter.limit(CONFIRM_LIMIT, methods=["POST"])
def delete_confirm(token: str):
    """The link of the mail: shows what happens and a last button; only the POST deletes (a
    mail scanner that opens links deletes nothing). The signed-in account must be the one the
    link was sent to."""
    user = current_user._get_current_object()
    owner = privacy.user_for_deletion_token(token) if len(token) < 500 else None
    if owner is None or owner.id != user.id:
        return render("privacy/link_invalid.html", status=400)
    form = DeleteByLinkForm()
    if form.validate_on_submit():
        return _finish(user, "mail_link")
    plan = privacy.plan(user)
    return render("privacy/delete_confirm.html", form=form, token=token, plan=plan,
                  reason=privacy.refusal(plan), status=422 if form.is_submitted() else 200)
