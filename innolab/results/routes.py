"""The results report of a pilot: the partner writes and submits it, a coordinator sends it
back or accepts it (which completes the pilot) and publishes it in the showcase."""
from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from innolab.i18n import lazy_gettext as _l

from ..domain import permissions
from ..domain.editing import EditConflict
from ..domain import results as domain
from ..extensions import db
from ..models import Proposal
from ..domain.states import BY_ACTION
from ..web import confirm, redirect_to, render, require
from . import bp
from .forms import ConfirmForm, ReportForm, SendBackForm
from flask import current_app


def _get(proposal_id: int) -> Proposal:
    return db.get_or_404(Proposal, proposal_id)


def _here(p: Proposal) -> str:
    return url_for(".edit", proposal_id=p.id)


def _workspace_url(p: Proposal) -> str | None:
    if "pilots.workspace" in current_app.view_functions:
        return url_for("pilots.workspace", proposal_id=p.id)
    return None


def _page(p: Proposal, form: ReportForm | None = None, send_back_form: SendBackForm | None = None,
          refusal=None, status: int = 200, conflict=None):
    user = current_user
    report = p.results_report
    can_write = permissions.write_report(user, p)
    if form is None and can_write:
        form = ReportForm.for_goals(domain.goals_of(p))
        form.fill_from(report)
        form.start_from(report)
    return render(
        "results/report.html", status=status,
        p=p, report=report,
        goals=domain.goals_of(p),
        rows=domain.goal_rows(p),
        history=domain.history(p),
        can_write=can_write,
        can_see=permissions.see_report_content(user, p),
        can_review=permissions.review_report(user, p),
        can_publish=permissions.publish_results(user, p),
        can_unpublish=permissions.unpublish_results(user, p),
        form=form,
        send_back_form=send_back_form or SendBackForm(formdata=None),
        confirm_form=ConfirmForm(formdata=None),
        accept_question=BY_ACTION["complete"].confirm, publish_question=PUBLISH_QUESTION,
        refusal=refusal,
        conflict=conflict,
        workspace_url=_workspace_url(p),
        report_status_label=domain.status_label,
        recommendation_label=domain.recommendation_label,
        recommendation_hints=domain.RECOMMENDATION_HINTS,
        missing=domain.missing(p) if can_write and report is not None else [],
    )


def _save(p: Proposal, submit: bool):
    require(permissions.write_report(current_user, p))
    form = ReportForm.for_goals(domain.goals_of(p))
    if not form.validate_on_submit():
        return _page(p, form=form, status=422)
    try:
        domain.save_draft(p, current_user, form.content(), form.goal_results(),
                          seen_version=form.seen_version)
    except EditConflict as conflict:
        form.continue_from(conflict)
        return _page(p, form=form, conflict=conflict, status=409)
    except domain.ReportRefused as exc:
        db.session.rollback()
        return _page(p, form=form, refusal=exc.reason, status=422)
    if not submit:
        db.session.commit()
        flash(_("Der Entwurf des Ergebnisberichts wurde gespeichert."), "success")
        return redirect_to(_here(p))
    try:
        domain.submit(p, current_user)
    except domain.ReportRefused as exc:
        db.session.commit()  # what was typed is kept as a draft
        form.mark_missing(name for name, _label in domain.missing(p))
        return _page(p, form=form, refusal=exc.reason, status=422)
    db.session.commit()
    flash(_("Der Ergebnisbericht wurde eingereicht. Das InnoLab-Team prüft ihn und meldet sich "
            "bei Ihnen."), "success")
    return redirect_to(_here(p))


@bp.route("", methods=["GET", "POST"])
@login_required
def edit(proposal_id: int):
    """The report page: the form for the partner, the report and the actions for staff."""
    p = _get(proposal_id)
    require(permissions.view_report(current_user, p))
    if request.method == "POST":
        return _save(p, submit=request.form.get("save") == "submit")
    return _page(p)


@bp.post("/submit")
@login_required
def submit(proposal_id: int):
    p = _get(proposal_id)
    require(permissions.view_report(current_user, p))
    return _save(p, submit=True)


@bp.post("/send-back")
@login_required
def send_back(proposal_id: int):
    p = _get(proposal_id)
    require(permissions.review_report(current_user, p))
    form = SendBackForm()
    if not form.validate_on_submit():
        return _page(p, send_back_form=form, status=422)
    try:
        domain.send_back(p, current_user, form.comment.data)
    except domain.ReportRefused as exc:
        db.session.rollback()
        form.comment.errors = list(form.comment.errors) + [exc.reason]
        return _page(p, send_back_form=form, status=422)
    db.session.commit()
    flash(_("Der Ergebnisbericht wurde zur Überarbeitung an die Partnerorganisation "
            "zurückgegeben."), "success")
    return redirect_to(_here(p))


PUBLISH_QUESTION = _l("Die Ergebnisse werden öffentlich sichtbar, auch in den offenen Daten; wer "
                      "sie bis dahin gesehen oder geladen hat, behält sie.")


def _confirmed_action(p: Proposal, permission, action, done_message, ask=None):
    """`ask`: (title, question, label) of an irreversible step, asked first without the
    dialog's confirmation (web/confirm.py)."""
    if not permission and permission.moved_on:
        # e.g. a second coordinator accepting the report a moment after the first: as when
        # the step is refused under the lock below
        flash(str(permission.reason), "error")
        return redirect_to(_here(p))
    require(permission)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    if ask is not None and not confirm.confirmed():
        title, question, label = ask
        return confirm.ask(title=title, question=question, confirm_label=label,
                           summary=[(_l("Pilot"), f"{p.display_reference} – {p.title}")],
                           back_url=_here(p))
    try:
        action(p, current_user)
    except domain.ReportRefused as exc:
        db.session.rollback()
        flash(str(exc.reason), "error")
        return redirect_to(_here(p))
    db.session.commit()
    flash(done_message, "success")
    return redirect_to(_here(p))


@bp.post("/accept")
@login_required
def accept(proposal_id: int):
    p = _get(proposal_id)
    return _confirmed_action(
        p, permissions.review_report(current_user, p), domain.accept,
        _("Der Ergebnisbericht wurde angenommen; der Pilot ist abgeschlossen."),
        ask=(_l("Bericht annehmen: wirklich?"), BY_ACTION["complete"].confirm,
             _l("Bericht annehmen und Pilot abschließen")))


@bp.post("/publish")
@login_required
def publish(proposal_id: int):
    p = _get(proposal_id)
    return _confirmed_action(
        p, permissions.publish_results(current_user, p), domain.publish,
        _("Die Ergebnisse sind im Schaufenster veröffentlicht."),
        ask=(_l("Ergebnisse veröffentlichen: wirklich?"), PUBLISH_QUESTION,
             _l("Ergebnisse veröffentlichen")))


@bp.post("/unpublish")
@login_required
def unpublish(proposal_id: int):
    p = _get(proposal_id)
    return _confirmed_action(
        p, permissions.unpublish_results(current_user, p), domain.unpublish,
        _("Die Ergebnisse wurden aus dem Schaufenster entfernt."))
