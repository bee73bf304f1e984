"""The pilot workspace: goals before the start, conversation, milestones, shared documents."""
from __future__ import annotations

from functools import wraps

from flask import abort, flash, make_response, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..domain import permissions, uploads
from ..domain.editing import EditConflict
from ..domain import workspace as domain
from ..extensions import db, htmx
from ..models import Document, DocumentVersion, Milestone, PilotGoal, Proposal
from ..web import redirect_to, render, require, send_stored_file
from ..web.forms import date_of, text_of
from . import bp
from .forms import (
    ConfirmForm,
    DocumentForm,
    GoalForm,
    MessageForm,
    MilestoneForm,
    VersionForm,
)

POLL = "every 5s"


def _signed_in_or_to_login(view):
    """login_required for the polled fragments: a poll after the session ended sends the whole
    page to the login (HX-Redirect) instead of swapping the login form into the list."""
    @wraps(view)
    def wrapped(proposal_id: int, **kw):
        if not current_user.is_authenticated and htmx:
            return redirect_to(url_for("auth.login",
                                       next=url_for(".workspace", proposal_id=proposal_id)))
        return login_required(view)(proposal_id, **kw)

    return wrapped


def _workspace_proposal(proposal_id: int) -> Proposal:
    """The proposal whose workspace the current user may use (else 404/403)."""
    p = db.get_or_404(Proposal, proposal_id)
    require(permissions.use_workspace(current_user, p))
    return p


def _child(model, child_id: int, p: Proposal):
    obj = db.session.get(model, child_id)
    if obj is None or obj.proposal_id != p.id:
        abort(404)
    return obj


def _internal(p: Proposal) -> bool:
    return bool(permissions.see_internal_workspace(current_user, p))


def _proposal_page(p: Proposal) -> str:
    if p.organisation.is_member(current_user):
        return url_for("proposals.show", proposal_id=p.id)
    return url_for("review.proposal", proposal_id=p.id)


def _workspace_url(p: Proposal, anchor: str = "") -> str:
    return url_for(".workspace", proposal_id=p.id) + (f"#{anchor}" if anchor else "")


def _messages_context(p: Proposal) -> dict:
    messages = domain.visible_messages(p, internal=_internal(p))
    return {"messages": messages, "messages_stamp": domain.messages_stamp(messages)}


def _milestones_context(p: Proposal) -> dict:
    milestones = domain.sorted_milestones(p)
    return {"milestones": milestones, "milestones_stamp": domain.milestones_stamp(milestones)}


def _page(p: Proposal, *, block: str | None = None, status: int = 200,
          message_form: MessageForm | None = None, milestone_form: MilestoneForm | None = None,
          document_form: DocumentForm | None = None):
    user = current_user
    internal = _internal(p)
    return render(
        "pilots/workspace.html", block=block, status=status,
        p=p,
        internal=internal,
        goals=domain.sorted_goals(p),
        documents=domain.visible_documents(p, internal=internal),
        may_post=permissions.post_message(user, p),
        may_post_internal=permissions.post_internal(user, p),
        may_edit_milestones=permissions.edit_milestones(user, p),
        may_upload=permissions.upload_document(user, p),
        message_form=message_form or MessageForm(formdata=None, prefix="message"),
        milestone_form=milestone_form or MilestoneForm(formdata=None, prefix="milestone"),
        document_form=document_form or DocumentForm(formdata=None, prefix="document"),
        proposal_page=_proposal_page(p),
        report_url=url_for("results.edit", proposal_id=p.id),
        poll=POLL,
        author_label=domain.author_label,
        muted=domain.is_muted(p, user),
        **uploads.form_limits(),
        **_messages_context(p),
        **_milestones_context(p),
    )


# ---------------------------------------------------------------- the workspace


@bp.get("/<int:proposal_id>")
@login_required
def workspace(proposal_id: int):
    p = _workspace_proposal(proposal_id)
    return _page(p)


# ---------------------------------------------------------------- goals


def _goals_page(p: Proposal, form: GoalForm | None = None, status: int = 200, error=None):
    return render("pilots/goals.html", status=status, p=p, goals=domain.sorted_goals(p),
                  form=form or GoalForm(formdata=None), error=error,
                  may_edit=permissions.edit_goals(current_user, p),
                  may_use_workspace=permissions.use_workspace(current_user, p),
                  proposal_page=_proposal_page(p), confirm_form=ConfirmForm(formdata=None))


@bp.route("/<int:proposal_id>/goals", methods=["GET", "POST"])
@login_required
def goals(proposal_id: int):
    p = _workspace_proposal(proposal_id)
    if request.method == "GET":
        return _goals_page(p)
    require(permissions.edit_goals(current_user, p))
    form = GoalForm()
    if not form.validate():
        return _goals_page(p, form, 422)
    try:
        domain.add_goal(p, current_user, title=text_of(form.title),
                        baseline=text_of(form.baseline), target=text_of(form.target),
                        measurement=text_of(form.measurement))
    except domain.WorkspaceRefused as exc:
        db.session.rollback()
        return _goals_page(p, form, 422, error=exc.reason)
    db.session.commit()
    flash(_("Das Ziel „%(title)s“ wurde gespeichert.", title=text_of(form.title).strip()),
          "success")
    return redirect_to(url_for(".goals", proposal_id=p.id))


@bp.route("/<int:proposal_id>/goals/<int:goal_id>", methods=["GET", "POST"])
@login_required
def goal(proposal_id: int, goal_id: int):
    p = _workspace_proposal(proposal_id)
    g = _child(PilotGoal, goal_id, p)
    require(permissions.edit_goals(current_user, p))
    form = GoalForm(obj=g) if request.method == "GET" else GoalForm()
    if request.method == "GET":
        form.start_from(g)
    status, conflict = 200, None
    if request.method == "POST":
        if form.validate():
            try:
                domain.update_goal(g, current_user, title=text_of(form.title),
                                   baseline=text_of(form.baseline), target=text_of(form.target),
                                   measurement=text_of(form.measurement),
                                   seen_version=form.seen_version)
            except EditConflict as exc:
                form.continue_from(exc)
                status, conflict = 409, exc
            else:
                db.session.commit()
                flash(_("Das Ziel „%(title)s“ wurde geändert.", title=g.title), "success")
                return redirect_to(url_for(".goals", proposal_id=p.id))
        else:
            status = 422
    return render("pilots/goal.html", status=status, p=p, goal=g, form=form,
                  conflict=conflict)


@bp.post("/<int:proposal_id>/goals/<int:goal_id>/delete")
@login_required
def delete_goal(proposal_id: int, goal_id: int):
    p = _workspace_proposal(proposal_id)
    g = _child(PilotGoal, goal_id, p)
    require(permissions.edit_goals(current_user, p))
    if not ConfirmForm().validate():
        abort(400)
    title = g.title
    domain.delete_goal(g, current_user)
    db.session.commit()
    flash(_("Das Ziel „%(title)s“ wurde entfernt.", title=title), "success")
    return redirect_to(url_for(".goals", proposal_id=p.id))


# ---------------------------------------------------------------- messages


def _unchanged(stamp: str) -> bool:
    return bool(htmx) and request.args.get("seen") == stamp


def _no_change():
    response = make_response("", 204)
    response.vary.add("HX-Request")
    return response


def _poll(p: Proposal, anchor: str, stamp, *, block: str):
    """GET of a list the workspace polls: 204 while `stamp()` is what the page has seen, else
    the list's block; without htmx, the workspace at the list."""
    if not htmx:
        return redirect_to(_workspace_url(p, anchor))
    if _unchanged(stamp()):
        return _no_change()
    return _page(p, block=block)


@bp.route("/<int:proposal_id>/messages", methods=["GET", "POST"])
@_signed_in_or_to_login
def messages(proposal_id: int):
    p = _workspace_proposal(proposal_id)
    if request.method == "GET":
        return _poll(p, "messages", lambda: _messages_context(p)["messages_stamp"],
                     block="messages")

    require(permissions.post_message(current_user, p))
    form = MessageForm(prefix="message")
    internal = bool(form.internal.data)
    if internal:
        require(permissions.post_internal(current_user, p))
    if form.validate():
        try:
            domain.post_message(p, current_user, text_of(form.body), internal=internal,
                                files=request.files.getlist(form.files.name))
        except uploads.UploadRefused as exc:
            db.session.rollback()
            form.files.errors = [exc.reason]
        except domain.WorkspaceRefused as exc:
            db.session.rollback()
            form.body.errors = [exc.reason]
        else:
            db.session.commit()
            if htmx:  # the new message appears in the list and the form is empty again
                return _page(p, block="conversation")
            flash(_("Ihre Nachricht wurde gesendet."), "success")
            return redirect_to(_workspace_url(p, "messages"))
    if htmx:  # htmx swaps only successful answers: the errors show inside the block
        return _page(p, block="conversation", message_form=form)
    return _page(p, status=422, message_form=form)


# ---------------------------------------------------------------- milestones


@bp.route("/<int:proposal_id>/milestones", methods=["GET", "POST"])
@_signed_in_or_to_login
def milestones(proposal_id: int):
    p = _workspace_proposal(proposal_id)
    if request.method == "GET":
        return _poll(p, "milestones", lambda: _milestones_context(p)["milestones_stamp"],
                     block="milestone_list")

    require(permissions.edit_milestones(current_user, p))
    form = MilestoneForm(prefix="milestone")
    if not form.validate():
        return _page(p, status=422, milestone_form=form)
    m = domain.add_milestone(p, current_user, title=text_of(form.title),
                             due_date=date_of(form.due_date),
                             description=form.description.data)
    db.session.commit()
    flash(_("Der Meilenstein „%(title)s“ wurde angelegt.", title=m.title), "success")
    return redirect_to(_workspace_url(p, "milestones"))


@bp.route("/<int:proposal_id>/milestones/<int:milestone_id>", methods=["GET", "POST"])
@login_required
def milestone(proposal_id: int, milestone_id: int):
    """GET: the edit form. POST: save (action=save), mark done (done) or reopen (reopen)."""
    p = _workspace_proposal(proposal_id)
    m = _child(Milestone, milestone_id, p)
    require(permissions.edit_milestones(current_user, p))
    action = request.form.get("action", "save") if request.method == "POST" else None
    if action in ("done", "reopen"):
        if not ConfirmForm().validate():
            abort(400)
        try:
            domain.set_milestone_done(m, current_user, action == "done")
        except domain.WorkspaceRefused as exc:
            db.session.rollback()
            flash(str(exc.reason), "warning")
            return redirect_to(_workspace_url(p, "milestones"))
        db.session.commit()
        flash(_("Der Meilenstein „%(title)s“ ist erledigt.", title=m.title) if action == "done"
              else _("Der Meilenstein „%(title)s“ ist wieder offen.", title=m.title), "success")
        return redirect_to(_workspace_url(p, "milestones"))
    if action not in (None, "save"):
        abort(400)
    form = MilestoneForm(obj=m) if action is None else MilestoneForm()
    if action is None:
        form.start_from(m)
    status, conflict = 200, None
    if action == "save":
        if form.validate():
            try:
                domain.update_milestone(m, current_user, title=text_of(form.title),
                                        due_date=date_of(form.due_date),
                                        description=form.description.data,
                                        seen_version=form.seen_version)
            except EditConflict as exc:
                form.continue_from(exc)
                status, conflict = 409, exc
            else:
                db.session.commit()
                flash(_("Der Meilenstein „%(title)s“ wurde geändert.", title=m.title),
                      "success")
                return redirect_to(_workspace_url(p, "milestones"))
        else:
            status = 422
    return render("pilots/milestone.html", status=status, p=p, milestone=m, form=form,
                  conflict=conflict)


# ---------------------------------------------------------------- documents


@bp.route("/<int:proposal_id>/documents", methods=["GET", "POST"])
@login_required
def documents(proposal_id: int):
    p = _workspace_proposal(proposal_id)
    if request.method == "GET":
        return redirect_to(_workspace_url(p, "documents"))
    require(permissions.upload_document(current_user, p))
    form = DocumentForm(prefix="document")
    internal = bool(form.internal.data)
    if internal:
        require(permissions.see_internal_workspace(current_user, p))
    if form.validate():
        try:
            doc = domain.add_document(p, current_user, title=text_of(form.title),
                                      file_storage=request.files.get(form.file.name),
                                      internal=internal, note=form.note.data)
        except uploads.UploadRefused as exc:
            db.session.rollback()
            form.file.errors = [exc.reason]
        else:
            db.session.commit()
            flash(_("Das Dokument „%(title)s“ wurde hochgeladen.", title=doc.title), "success")
            return redirect_to(_workspace_url(p, "documents"))
    return _page(p, status=422, document_form=form)


@bp.route("/<int:proposal_id>/documents/<int:document_id>", methods=["GET", "POST"])
@login_required
def document(proposal_id: int, document_id: int):
    """A document with all its versions; POST uploads a new version (the old ones stay)."""
    p = _workspace_proposal(proposal_id)
    doc = _child(Document, document_id, p)
    require(permissions.download_document(current_user, doc))
    may_upload = permissions.upload_document(current_user, p)
    form = VersionForm(formdata=None)
    status = 200
    if request.method == "POST":
        require(may_upload)
        form = VersionForm()
        if form.validate():
            try:
                v = domain.add_version(doc, current_user, request.files.get(form.file.name),
                                       note=form.note.data)
            except uploads.UploadRefused as exc:
                db.session.rollback()
                form.file.errors = [exc.reason]
            else:
                db.session.commit()
                flash(_("Fassung %(n)d von „%(title)s“ wurde hochgeladen.", n=v.number,
                        title=doc.title), "success")
                return redirect_to(url_for(".document", proposal_id=p.id, document_id=doc.id))
        status = 422
    return render("pilots/document.html", status=status, p=p, document=doc, form=form,
                  may_upload=may_upload, **uploads.form_limits())


@bp.get("/versions/<int:version_id>")
@login_required
def document_version(version_id: int):
    v = db.session.get(DocumentVersion, version_id)
    if v is None:
        abort(404)
    require(permissions.download_document(current_user, v.document))
    return send_stored_file(v, "dokument")


@bp.post("/<int:proposal_id>/mute")
@login_required
def mute(proposal_id: int):
    """Mute or unmute the notices of new messages in this pilot (for the signed-in person)."""
    p = _workspace_proposal(proposal_id)
    muted = request.form.get("muted") == "1"
    domain.set_muted(p, current_user, muted)
    db.session.commit()
    flash(_("Sie werden über neue Nachrichten in diesem Piloten nicht mehr benachrichtigt.")
          if muted else
          _("Sie werden wieder über neue Nachrichten in diesem Piloten benachrichtigt."),
          "success")
    return redirect_to(_workspace_url(p, "messages"))
