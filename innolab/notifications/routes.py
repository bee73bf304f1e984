"""The notification centre: list, mark as read, preferences; the unread count in the header."""
from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.exc import SQLAlchemyError

from ..domain import notifications as nt
from ..extensions import db
from ..web import page_number, redirect_to, render, safe_next
from . import bp
from .forms import PreferencesForm


@bp.app_context_processor
def _unread():
    """`unread_notifications()` for the header: one COUNT query, only when a page asks for it."""

    def unread_notifications() -> int:
        if not getattr(current_user, "is_authenticated", False):
            return 0
        if "innolab.unread" not in request.environ:  # once per request
            try:
                request.environ["innolab.unread"] = nt.unread_count(current_user)
            except SQLAlchemyError:  # an error page after a failed transaction still renders
                db.session.rollback()
                request.environ["innolab.unread"] = 0
        return request.environ["innolab.unread"]

    return {"unread_notifications": unread_notifications}


@bp.get("/")
@login_required
def index():
    page = nt.page_of(current_user, page_number())
    unread = request.environ["innolab.unread"] = nt.unread_count(current_user)
    return render("notifications/index.html", page=page, text=nt.text, unread=unread)


@bp.post("/<int:notification_id>/read")
@login_required
def read(notification_id):
    n = nt.own(current_user, notification_id)
    if n is None:
        abort(404)
    nt.mark_read(current_user, n)
    db.session.commit()
    return redirect_to(safe_next(n.link, url_for("notifications.index")))


@bp.post("/read-all")
@login_required
def read_all():
    count = nt.mark_all_read(current_user)
    db.session.commit()
    if count:
        flash(_("Alle Benachrichtigungen sind als gelesen markiert."), "success")
    return redirect_to(url_for("notifications.index"))


@bp.route("/preferences", methods=["GET", "POST"])
@login_required
def preferences():
    current = nt.preferences(current_user)
    form = PreferencesForm.for_user(current_user, current)
    if form.is_submitted():
        if not form.validate():
            return _preferences_page(form, 422)
        nt.set_preferences(current_user, form.choices())
        db.session.commit()
        flash(_("Ihre Einstellungen zu Benachrichtigungen wurden gespeichert."), "success")
        return redirect_to(url_for("notifications.preferences"))
    return _preferences_page(form)


def _preferences_page(form, status: int = 200):
    fixed = [k for k in nt.kinds_for(current_user) if k in nt.PROCESS_KINDS]
    return render("notifications/preferences.html", status=status, form=form, fixed=fixed,
                  labels=nt.KIND_LABELS)
