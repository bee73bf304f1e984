"""The partner's side of pilot proposals: list, write, submit, attachments, versions."""
from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required

from ..domain import DomainError, permissions, uploads, workflow
from ..domain import questions as qs
from ..domain import consent as consent_domain
from ..domain import proposals as domain
from ..domain.editing import EditConflict
from ..domain.states import BY_ACTION, MEMBER, missing_fields
from ..domain.topics import all_topics
from ..extensions import db, htmx
from ..models import Attachment, Challenge, ChallengeQuestion, Organisation, Proposal
from ..web import confirm, page_number, redirect_to, render, require, safe_next, send_stored_file
from ..web.input_checks import bounded_int
from . import bp
from .forms import ActionForm, ConfirmForm, ProposalForm, UploadForm, with_questions

PER_PAGE = 25


def _get(proposal_id: int) -> Proposal:
    return db.get_or_404(Proposal, proposal_id)


def _get_attachment(attachment_id: int) -> Attachment:
    a = db.session.get(Attachment, attachment_id)
    if a is None:
        abort(404)
    return a


def _locale() -> str:
    return str(get_locale() or "de")


def _is_member(p: Proposal) -> bool:
    return p.organisation.is_member(current_user)


def _staff_page(p: Proposal) -> str:
    return url_for("review.proposal", proposal_id=p.id)


# ---------------------------------------------------------------- list


@bp.get("/")
@login_required
def index():
    page = db.paginate(domain.proposals_of(current_user), page=page_number(), per_page=PER_PAGE,
                       error_out=False)
    return render("proposals/index.html", block="proposal_list", page=page,
                  organisations=domain.organisations_of(current_user))


# ---------------------------------------------------------------- write


def _questions_for(proposal: Proposal | None, challenges) -> list:
    """The questions the form asks: those of the challenge sent with the form, else of the
    proposal's or the one asked for (`?challenge=`); none of these: the default set."""
    if request.method == "POST" and "challenge_id" in request.form:
        challenge_id = bounded_int(request.form.get("challenge_id"))
    elif proposal is not None:
        challenge_id = proposal.challenge_id
    else:
        challenge_id = _int_arg("challenge")
    allowed = {c.id for c in challenges} | {proposal.challenge_id if proposal else None}
    return qs.active_of(challenge_id if challenge_id in allowed else None)


def _form(proposal: Proposal | None = None, organisations=()) -> ProposalForm:
    challenges = domain.open_challenges()
    form_class = with_questions(ProposalForm, _questions_for(proposal, challenges))
    return form_class(
        organisations=organisations,
        challenges=challenges,
        topics=all_topics(),
        locale=_locale(),
        current_challenge=proposal.challenge if proposal is not None else None,
        with_organisation=proposal is None,
    )


def _wants_submit() -> bool:
    return request.form.get("save") == "submit"


def _submit_move(proposal: Proposal | None):
    return BY_ACTION[domain.submit_action(proposal) if proposal is not None else "submit"]


def _render_form(form, proposal=None, refusal=None, status=200, conflict=None):
    chosen = db.session.get(Challenge, form.challenge_id.data) \
        if isinstance(form.challenge_id.data, int) else None
    return render("proposals/form.html", form=form, proposal=proposal, refusal=refusal,
                  conflict=conflict, status=status,
                  anonymised_round=chosen is not None and chosen.anonymised_first_round,
                  submit_question=_submit_move(proposal).confirm)


def _ask_before_submit(form: ProposalForm, proposal: Proposal | None = None):
    """Saving and handing in asks first (web/confirm.py); None once confirmed. The page's
    "back" shows the form again as it was sent."""
    if not _wants_submit() or confirm.confirmed():
        return None
    if confirm.going_back():
        return _render_form(form, proposal=proposal)
    t = _submit_move(proposal)
    return confirm.ask(title=_("%(step)s: wirklich?", step=t.label), question=t.confirm,
                       confirm_label=_("Speichern und einreichen"),
                       summary=[(_("Titel"), form.title.data)])


def _submit_after_save(p: Proposal, form: ProposalForm):
    """The draft is saved; now hand it in. A refusal keeps the form with the reason."""
    try:
        workflow.apply(p, domain.submit_action(p), current_user)
    except workflow.TransitionRefused as exc:
        db.session.commit()  # what was typed is kept as a draft
        if "organisation_id" in form:
            del form.organisation_id
        form.mark_missing(exc.missing)
        return _render_form(form, proposal=p, refusal=exc.reason, status=422)
    db.session.commit()
    flash(_("Ihr Pilotvorschlag %(ref)s wurde eingereicht. Sie erhalten eine Bestätigung per "
            "E-Mail.", ref=p.reference), "success")
    return redirect_to(url_for(".show", proposal_id=p.id))


def _int_arg(name: str) -> int | None:
    return bounded_int(request.args.get(name))


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    organisations = domain.organisations_of(current_user)
    if not organisations:
        flash(_("Bitte legen Sie zuerst eine Organisation an oder treten Sie einer bei. "
                "Pilotvorschläge werden immer für eine Organisation eingereicht."), "info")
        return redirect_to(url_for("accounts.new_organisation"))
    form = _form(organisations=organisations)
    if request.method == "GET":
        org_id, challenge_id = _int_arg("organisation"), _int_arg("challenge")
        if org_id in {o.id for o in organisations}:
            form.organisation_id.data = org_id
        if challenge_id is not None and challenge_id in form.challenge_choices():
            form.challenge_id.data = challenge_id
    if form.validate_on_submit():
        org = db.session.get(Organisation, form.organisation_id.data)
        require(permissions.propose_for(current_user, org))
        asked = _ask_before_submit(form)
        if asked is not None:
            return asked
        try:
            p = domain.create_draft(org, current_user, form.content(), form.topic_ids.data,
                                    answers=form.answers())
        except qs.AnswersRefused as exc:
            db.session.rollback()
            form.answers_refused(exc.errors)
            return _render_form(form, status=422)
        except DomainError as exc:
            db.session.rollback()
            form.challenge_id.errors = list(form.challenge_id.errors) + [exc.reason]
            return _render_form(form, status=422)
        if _wants_submit():
            return _submit_after_save(p, form)
        db.session.commit()
        flash(_("Der Entwurf wurde gespeichert."), "success")
        return redirect_to(url_for(".show", proposal_id=p.id))
    return _render_form(form, status=422 if request.method == "POST" else 200)


@bp.route("/<int:proposal_id>/edit", methods=["GET", "POST"])
@login_required
def edit(proposal_id: int):
    p = _get(proposal_id)
    require(permissions.edit_proposal(current_user, p))
    form = _form(proposal=p)
    if request.method == "GET":
        form.fill_from(p)
        form.start_from(p)
    if form.validate_on_submit():
        asked = _ask_before_submit(form, p)
        if asked is not None:
            return asked
        try:
            domain.update_draft(p, current_user, form.content(), form.topic_ids.data,
                                seen_version=form.seen_version, answers=form.answers())
        except EditConflict as conflict:
            form.continue_from(conflict)
            return _render_form(form, proposal=p, conflict=conflict, status=409)
        except qs.AnswersRefused as exc:
            db.session.rollback()
            form.answers_refused(exc.errors)
            return _render_form(form, proposal=p, status=422)
        except DomainError as exc:
            db.session.rollback()
            form.challenge_id.errors = list(form.challenge_id.errors) + [exc.reason]
            return _render_form(form, proposal=p, status=422)
        if _wants_submit():
            return _submit_after_save(p, form)
        db.session.commit()
        flash(_("Ihre Änderungen wurden gespeichert."), "success")
        return redirect_to(url_for(".show", proposal_id=p.id))
    return _render_form(form, proposal=p, status=422 if request.method == "POST" else 200)


# ---------------------------------------------------------------- detail and actions


def _show(p: Proposal, upload_form: UploadForm | None = None, upload_error=None,
          block: str | None = None, status: int = 200, notice: str | None = None,
          act_form: ActionForm | None = None):
    user = current_user
    editable = permissions.edit_proposal(user, p)
    return render(
        "proposals/show.html", block=block, status=status,
        p=p,
        attachments=uploads.visible_attachments(p, internal=False),
        timeline=[e for e in p.timeline if not e.internal],
        options=[o for o in workflow.options(p, user) if o.transition.who == MEMBER],
        editable=editable,
        can_upload=permissions.upload_attachment(user, p),
        can_delete=permissions.delete_proposal(user, p),
        missing=([*missing_fields(p), *(qs.key_of(q) for q in qs.missing_answers(p))]
                 if editable else []),
        answers=qs.answered(p),
        documents=[(q, value) for q, value in qs.answered(p)
                   if q.kind == "file" and q.retired_at is None],
        accept_of=qs.accept_of,
        upload_form=upload_form or UploadForm(formdata=None),
        upload_error=upload_error,
        notice=notice,
        act_form=act_form or ActionForm(formdata=None),
        field_labels={**domain.FIELD_LABELS, **qs.labels(p)},
        trl_levels=domain.TRL_LEVELS,
        **uploads.form_limits(),
    )


@bp.get("/<int:proposal_id>")
@login_required
def show(proposal_id: int):
    p = _get(proposal_id)
    require(permissions.view_proposal(current_user, p))
    if not _is_member(p):
        # staff who may see the proposal work on it in the review area
        return redirect_to(_staff_page(p))
    return _show(p)


ACT_MESSAGES = {
    "submit": lambda p: _("Ihr Pilotvorschlag %(ref)s wurde eingereicht. Sie erhalten eine "
                          "Bestätigung per E-Mail.", ref=p.reference),
    "resubmit": lambda p: _("Ihr überarbeiteter Pilotvorschlag %(ref)s wurde erneut "
                            "eingereicht.", ref=p.reference),
    "withdraw": lambda p: _("Ihr Pilotvorschlag %(ref)s wurde zurückgezogen.", ref=p.reference),
}


@bp.post("/<int:proposal_id>/act")
@login_required
def act(proposal_id: int):
    p = _get(proposal_id)
    require(permissions.view_proposal(current_user, p))
    if not _is_member(p):
        abort(403, description=_("Nur Mitglieder der vorschlagenden Organisation können das."))
    form = ActionForm()
    if not form.validate():
        abort(400)
    t = BY_ACTION[form.action.data]
    if t.confirm and not confirm.confirmed():
        if confirm.going_back():  # the page again, with the message as it was typed
            return _show(p, act_form=form)
        reason = workflow.check(p, t.action, current_user, message=form.message.data)
        if reason is not None:
            flash(str(reason), "error")
            return redirect_to(url_for(".show", proposal_id=p.id))
        message = (form.message.data or "").strip()
        return confirm.ask(title=_("%(step)s: wirklich?", step=t.label), question=t.confirm,
                           confirm_label=t.label,
                           summary=[(_("Vorschlag"), f"{p.display_reference} – {p.title}"),
                                    (_("Ihre Nachricht"), message or None)])
    try:
        workflow.apply(p, form.action.data, current_user, message=form.message.data,
                       seen_status=form.seen_status.data)
    except workflow.TransitionRefused as exc:
        flash(str(exc.reason), "error")
        return redirect_to(url_for(".show", proposal_id=p.id))
    db.session.commit()
    flash(ACT_MESSAGES[form.action.data](p), "success")
    return redirect_to(url_for(".show", proposal_id=p.id))


@bp.route("/<int:proposal_id>/delete", methods=["GET", "POST"])
@login_required
def delete(proposal_id: int):
    p = _get(proposal_id)
    require(permissions.delete_proposal(current_user, p))
    form = ConfirmForm()
    if form.validate_on_submit():
        title = p.title
        try:
            domain.delete_draft(p, current_user)
        except DomainError as exc:
            flash(str(exc.reason), "error")
            return redirect_to(url_for(".show", proposal_id=proposal_id))
        db.session.commit()
        flash(_("Der Entwurf „%(title)s“ wurde gelöscht.", title=title), "success")
        return redirect_to(url_for(".index"))
    return render("proposals/delete.html", p=p, form=form)


@bp.get("/<int:proposal_id>/versions")
@login_required
def versions(proposal_id: int):
    p = _get(proposal_id)
    require(permissions.view_proposal(current_user, p))
    back = url_for(".show", proposal_id=p.id) if _is_member(p) else _staff_page(p)
    lookups = domain.diff_lookups(p, _locale())
    labels = {**domain.FIELD_LABELS,
              **{key: str(qs.label(q)) for key, q in lookups["questions"].items()}}
    return render("proposals/versions.html", p=p, versions=domain.versions_with_changes(p),
                  lookups=lookups, field_labels=labels,
                  trl_levels=domain.TRL_LEVELS, back=back)


# ---------------------------------------------------------------- attachments


def _after_attachment_change(p: Proposal, notice: str):
    if _is_member(p) and htmx:
        # the block itself shows the message (a flash would only appear on the next page)
        return _show(p, block="attachments", notice=notice)
    flash(notice, "success")
    if _is_member(p):
        return redirect_to(url_for(".show", proposal_id=p.id) + "#attachments")
    return redirect_to(safe_next(request.form.get("next"), _staff_page(p)))


@bp.post("/<int:proposal_id>/attachments")
@login_required
def upload(proposal_id: int):
    p = _get(proposal_id)
    require(permissions.upload_attachment(current_user, p))
    form = UploadForm()
    if not form.validate():  # only the CSRF token can fail here
        abort(400)
    internal = bool(form.internal.data) and bool(permissions.view_internal(current_user, p))
    try:
        attachment = uploads.store(p, request.files.get("file"), current_user, internal=internal)
    except uploads.UploadRefused as exc:
        db.session.rollback()
        if not _is_member(p):
            flash(str(exc.reason), "error")
            return redirect_to(safe_next(request.form.get("next"), _staff_page(p)))
        if htmx:  # htmx swaps only successful responses: the error is shown inside the block
            return _show(p, upload_error=exc.reason, block="attachments")
        return _show(p, upload_error=exc.reason, status=422)
    db.session.commit()
    return _after_attachment_change(
        p, _("Die Datei „%(name)s“ wurde hochgeladen.", name=attachment.filename))


@bp.post("/<int:proposal_id>/questions/<int:question_id>/document")
@login_required
def upload_document(proposal_id: int, question_id: int):
    """The document a file question asks for (domain/questions.py `attach`)."""
    p = _get(proposal_id)
    require(permissions.upload_attachment(current_user, p))
    q = db.session.get(ChallengeQuestion, question_id)
    if q is None:
        abort(404)
    if not ConfirmForm().validate():  # only the CSRF token can fail here
        abort(400)
    back = url_for(".show", proposal_id=p.id) + "#documents"
    try:
        attachment = qs.attach(p, q, request.files.get("file"), current_user)
    except uploads.UploadRefused as exc:
        db.session.rollback()
        flash(str(exc.reason), "error")
        return redirect_to(back)
    db.session.commit()
    flash(_("Das Dokument „%(name)s“ wurde hochgeladen.", name=attachment.filename), "success")
    return redirect_to(back)


@bp.get("/attachments/<int:attachment_id>")
@login_required
def download(attachment_id: int):
    a = _get_attachment(attachment_id)
    require(permissions.download_attachment(current_user, a))
    return send_stored_file(a, "anhang")


@bp.post("/attachments/<int:attachment_id>/delete")
@login_required
def delete_attachment(attachment_id: int):
    a = _get_attachment(attachment_id)
    require(permissions.delete_attachment(current_user, a))
    form = ConfirmForm()
    if not form.validate():
        abort(400)
    p, name = a.proposal, a.filename
    uploads.delete(a, current_user)
    db.session.commit()
    return _after_attachment_change(p, _("Die Datei „%(name)s“ wurde entfernt.", name=name))


# ---------------------------------------------------------------- consent to publication

@bp.route("/<int:proposal_id>/consent/<any(pilot, results):what>", methods=["GET", "POST"])
@login_required
def consent(proposal_id: int, what: str):
    """Give or withdraw the consent to publishing the pilot or its results, after a
    confirmation page that says what follows."""
    p = _get(proposal_id)
    require(permissions.view_proposal(current_user, p))
    require(permissions.change_publication_consent(current_user, p, what))
    given = consent_domain.current(p, what)
    form = ConfirmForm()
    if form.validate_on_submit():
        # What the page offered: a second tab that still offers "withdraw" never gives the
        # consent back (the domain refuses a withdrawal of a withdrawn consent).
        intent = request.form.get("intent")
        if intent not in ("withdraw", "give"):
            abort(400)
        given = intent == "withdraw"
        try:
            if given:
                left = consent_domain.withdraw(p, current_user, what)
            else:
                consent_domain.give(p, current_user, what)
        except DomainError as exc:  # changed in another tab or by another member meanwhile
            db.session.rollback()
            flash(str(exc.reason), "warning")
            return redirect_to(url_for(".show", proposal_id=p.id) + "#publication")
        db.session.commit()
        if given:
            flash(_("Ihre Zustimmung ist widerrufen. Der Pilot bzw. seine Ergebnisse sind nicht "
                    "mehr öffentlich sichtbar, auch nicht über die Schnittstelle und die Feeds.")
                  if left else _("Ihre Zustimmung ist widerrufen. Es wird nichts veröffentlicht."),
                  "success")
        else:
            flash(_("Vielen Dank, Ihre Zustimmung ist erteilt. Das InnoLab-Team entscheidet, ob "
                    "und wann veröffentlicht wird."), "success")
        return redirect_to(url_for(".show", proposal_id=p.id) + "#publication")
    return render("proposals/consent.html", p=p, what=what, given=given, form=form,
                  public=consent_domain.is_public(p, what))
