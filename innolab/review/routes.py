"""The staff side of proposals: inbox, staff view, lifecycle moves, reviews and checks."""
from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import ngettext
from innolab.i18n import lazy_gettext as _l
from flask_login import current_user

from ..domain import (
    anonymise, assignment, conflicts, criteria, decisions, paging, permissions, uploads,
    workflow,
)
from ..domain import review as rv
from ..domain import states
from ..domain.states import BY_ACTION, MEMBER
from ..extensions import db, login_manager
from ..i18n import format_date
from ..models import CheckCondition, CheckKind, Organisation, Proposal, Role, User
from ..web import (
    confirm, page_number, redirect_to, render, require, safe_next, send_bytes,
)
from . import bp
from .forms import (
    ActForm, AssignForm, BulkAssignForm, CheckForm, CoSignForm, ConflictForm, ContactForm,
    FlagDecisionForm, InboxFilterForm, NoConflictForm, RefuseCoSignForm, ReviewForm,
    review_form,
)

PER_PAGE = 20

COMPLETE_QUESTION = _l("Danach sehen Sie die Gutachten der anderen; ändern können Sie Ihres "
                       "nur noch, wenn Sie es vor der Entscheidung wieder öffnen.")
PUBLISH_QUESTION = _l("Der Pilot wird öffentlich sichtbar, auch in den offenen Daten und Feeds; "
                      "wer ihn bis dahin gesehen oder geladen hat, behält ihn.")

DONE = {
    "start_review": _l("Die Begutachtung wurde gestartet."),
    "start_anonymous_review": _l("Die anonymisierte erste Begutachtungsrunde wurde gestartet."),
    "shortlist": _l("Der Vorschlag ist in der zweiten, offenen Runde. Die Gutachterinnen und "
                    "Gutachter bestätigen erneut, dass sie keinen Interessenkonflikt haben."),
    "request_changes": _l("Die Nachbesserung wurde angefordert; die Partnerorganisation wurde "
                          "benachrichtigt."),
    "approve": _l("Der Vorschlag wurde bewilligt; die Partnerorganisation wurde benachrichtigt."),
    "reject": _l("Der Vorschlag wurde abgelehnt; die Partnerorganisation wurde benachrichtigt."),
    "start_pilot": _l("Der Pilot wurde gestartet."),
    "complete": _l("Der Pilot wurde abgeschlossen."),
    "cancel": _l("Der Pilot wurde abgebrochen."),
}
PENDING_DONE = _l("Ihre Entscheidung ist vermerkt. Sie wird wirksam, sobald eine zweite Person "
                  "mit der Rolle Entscheidung mitzeichnet; diese Personen wurden benachrichtigt.")
CO_SIGN_QUESTION = _l("Mit Ihrer Mitzeichnung wird die Entscheidung wirksam. Sie lässt sich nicht "
                      "zurücknehmen; die Partnerorganisation wird benachrichtigt.")


@bp.before_request
def _staff_only():
    """Signed-in staff only: visitors go to the login, partner users are refused."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.is_staff:
        abort(403)
    return None


def _load(proposal_id: int) -> Proposal:
    p = db.get_or_404(Proposal, proposal_id)
    require(permissions.view_internal(current_user, p))
    return p


def _load_for_review(proposal_id: int) -> Proposal:
    """The proposal for its staff page and the review desk: the staff view, or a reviewer's
    anonymised view in the anonymised first round (`permissions.view_for_review`)."""
    p = db.get_or_404(Proposal, proposal_id)
    require(permissions.view_for_review(current_user, p))
    return p


def _back(p: Proposal):
    return redirect_to(url_for(".proposal", proposal_id=p.id))


# ---------------------------------------------------------------- lists


@bp.get("/")
def inbox():
    if not permissions.see_all_submissions(current_user):
        return redirect_to(url_for(".mine"))
    form = InboxFilterForm(request.args, rv.inbox_challenges())
    filters = form.cleaned()
    page = paging.paginate(rv.inbox_query(current_user, **filters), Proposal.id,
                           page=page_number(), per_page=PER_PAGE)
    # the query arguments the pagination links keep (defaults left out)
    args = {k: v for k, v in filters.items() if v and not (k == "sort" and v == "submitted_desc")}
    return render("review/inbox.html", block="results", form=form, page=page, args=args,
                  sort=filters["sort"], stats=rv.review_stats_of(p.id for p in page.items),
                  no_stats=rv.ReviewStats(), knockouts=criteria.knockouts_of(page.items),
                  filtered=any(filters[k] for k in ("q", "status", "challenge")),
                  check_states=rv.check_states, outcome_labels=rv.OUTCOME_LABELS,
                  open_flags=(conflicts.open_flag_count()
                              if permissions.decide_conflict_flags(current_user) else 0))


@bp.get("/mine")
def mine():
    assignments = rv.my_assignments(current_user)
    return render("review/mine.html", assignments=assignments, review_of=rv.review_of)


# ---------------------------------------------------------------- the staff view


def _page(p: Proposal, status: int = 200, *, act_form: ActForm | None = None,
          act_error=None, assign_form: AssignForm | None = None,
          contact_form: ContactForm | None = None,
          refuse_form: RefuseCoSignForm | None = None, co_sign_error=None):
    user = current_user
    may_assign = permissions.assign_reviewers(user, p)
    if assign_form is None and may_assign:
        assign_form = _assign_form(p, rv.eligible_reviewers(p), formdata=None)
    may_choose_contact = permissions.choose_pilot_contact(user, p)
    if contact_form is None and may_choose_contact:
        contact_form = ContactForm(rv.contact_candidates(p), formdata=None)
        contact_form.contact_id.data = p.staff_contact_id
    coordinating = permissions.has_role(user, Role.COORDINATOR, Role.ADMIN)
    see_reviews = permissions.see_reviews(user, p)
    reviews = rv.submitted_reviews(p) if see_reviews else []
    counting = {r.id for r in states.counting_reviews(p)}
    of = criteria.of_proposal(p)
    averages = rv.average_scores([r for r in reviews if r.id in counting], of)
    deciding = permissions.has_role(user, Role.DECIDER, Role.COORDINATOR)
    pending = states.pending_decision(p)
    co_signing = pending is not None and user.has_role(Role.DECIDER) \
        and pending.decider_id != user.id
    if co_signing and refuse_form is None:
        refuse_form = RefuseCoSignForm(formdata=None)
        refuse_form.seen_status.data = p.status
    return render(
        "review/proposal.html", status=status,
        p=p,
        options=workflow.options(p, user),
        act_form=act_form, act_error=act_error,
        may_assign=may_assign, assign_form=assign_form,
        reviews_needed=assignment.reviews_needed(p),
        active_assignments=assignment.active_assignments(p),
        see_reviews=see_reviews, reviews=reviews, counting=counting,
        averages=averages, criteria=of,
        totals={r.id: criteria.review_total(r, of) for r in reviews},
        below=criteria.below_minimum(of, averages) if see_reviews else [],
        my_assignment=permissions.assignment_of(user, p),
        my_review=rv.review_of(p, user),
        checks=rv.check_states(p),
        may_publish=permissions.publish_pilot(user, p),
        may_unpublish=permissions.unpublish_pilot(user, p),
        timeline=sorted(p.timeline, key=lambda e: e.id, reverse=True),
        rv=rv,
        can_upload=permissions.upload_attachment(user, p),
        accept=uploads.ACCEPT, allowed_types=uploads.ALLOWED_LABEL,
        conflicted=conflicts.conflicted_staff(p) if coordinating else [],
        flags=conflicts.flags(p.organisation) if coordinating else [],
        conflict_kinds=conflicts.KIND_LABELS,
        may_choose_contact=may_choose_contact, contact_form=contact_form,
        may_declare=permissions.declare_conflict(user, p),
        publish_question=PUBLISH_QUESTION,
        overview=decisions.overview(p) if deciding and see_reviews else None,
        recommendation_labels=rv.RECOMMENDATION_LABELS,
        pending=pending, co_signing=co_signing, refuse_form=refuse_form,
        co_sign_error=co_sign_error, co_sign_question=CO_SIGN_QUESTION,
        cannot_co_sign=decisions.cannot_co_sign(p, user) if co_signing else None,
        cannot_refuse=decisions.cannot_refuse(p, user) if co_signing else None,
        basis=_basis(p) if deciding or coordinating else None,
        pending_label=lambda action: BY_ACTION[action].label,
        first_round=(anonymise.numbered(p) if coordinating and states.has_anonymised_round(p)
                     and p.shortlisted_at is None else None),
    )


def _basis(p: Proposal):
    decision = decisions.latest_final(p)
    return decisions.basis_view(decision) if decision is not None else None


@bp.get("/proposals/<int:proposal_id>")
def proposal(proposal_id):
    p = _load_for_review(proposal_id)
    if not permissions.sees_identity(current_user, p):
        return _anonymous_page(p)
    return _page(p)


@bp.post("/proposals/<int:proposal_id>/attachments/<int:attachment_id>/first-round")
def first_round_release(proposal_id, attachment_id):
    """A coordinator releases an attachment for the anonymised first round, or withholds it
    again (`intent`)."""
    require(permissions.coordinate(current_user))
    p = _load(proposal_id)
    found = next((a for _n, a in anonymise.numbered(p) if a.id == attachment_id), None)
    if found is None:
        abort(404)
    name = found.filename
    try:
        if request.form.get("intent") == "withhold":
            anonymise.withhold(p, found, current_user)
            done = _l("„%(name)s“ ist für die anonymisierte Runde zurückgehalten.", name=name)
        else:
            try:
                data = uploads.read(found)
            except FileNotFoundError:
                abort(404)
            anonymise.release(p, found, current_user, data)
            done = _l("„%(name)s“ ist für die anonymisierte Runde freigegeben, ohne Metadaten "
                      "und unter dem Namen „%(label)s“.", name=name,
                      label=anonymise.label(anonymise.number_of(p, found) or 0))
    except anonymise.AnonymiseRefused as exc:
        db.session.rollback()
        flash(str(exc.reason), "error")
        return redirect_to(url_for(".proposal", proposal_id=p.id) + "#attachments-heading")
    db.session.commit()
    flash(str(done), "success")
    return redirect_to(url_for(".proposal", proposal_id=p.id) + "#attachments-heading")


def _anonymous_page(p: Proposal):
    """The staff page as a reviewer of the anonymised first round sees it (anonymise.view)."""
    own = rv.review_of(p, current_user)
    return render("review/anonymous.html", p=_shown(p), own=own,
                  may_review=permissions.write_review(current_user, p),
                  may_reopen=permissions.reopen_review(current_user, p),
                  may_declare=permissions.declare_conflict(current_user, p))


@bp.get("/proposals/<int:proposal_id>/attachments/<int:number>")
def first_round_attachment(proposal_id, number):
    """An attachment as „Anlage N“ for the anonymised first round: released by a coordinator,
    its metadata stripped, under a neutral name. Staff who see the identity too (they get what
    the round's reviewers get)."""
    p = _load_for_review(proposal_id)
    found = dict(anonymise.released(p)).get(number)
    if found is None:
        abort(404)
    try:
        data, complete = anonymise.strip(uploads.read(found), found.filename)
    except FileNotFoundError:
        abort(404)
    if not complete:
        abort(404)  # released only when complete; the file changed since: not handed out
    return send_bytes(data, anonymise.download_name(number, found), found.content_type)


@bp.post("/proposals/<int:proposal_id>/act")
def act(proposal_id):
    p = _load(proposal_id)
    t = BY_ACTION.get(request.form.get("action", ""))
    if t is None or t.who == MEMBER:
        abort(400)
    if not current_user.has_role(Role(t.who)):
        abort(403)
    form = ActForm()
    if not form.validate():
        return _page(p, 422, act_form=form)
    if t.confirm and not confirm.confirmed():
        if confirm.going_back():
            return _page(p, act_form=form)
        reason = workflow.check(p, t.action, current_user, message=form.message.data,
                                start_date=form.start_date.data)
        co_sign_needed = isinstance(reason, states.CoSignatureNeeded)
        if reason is not None and not co_sign_needed:
            return _page(p, 422, act_form=form, act_error=str(reason))
        return confirm.ask(title=_("%(step)s: wirklich?", step=t.label),
                           question=reason if co_sign_needed else t.confirm,
                           confirm_label=t.label, summary=_move_summary(p, form))
    try:
        if t.action in decisions.DECISION_ACTIONS:
            decision = decisions.decide(p, t.action, current_user, message=form.message.data,
                                        seen_status=form.seen_status.data)
        else:
            decision = None
            workflow.apply(p, t.action, current_user, message=form.message.data,
                           start_date=form.start_date.data, seen_status=form.seen_status.data)
    except workflow.TransitionRefused as exc:
        db.session.rollback()
        return _page(p, 422, act_form=form, act_error=str(exc.reason))
    db.session.commit()
    flash(str(PENDING_DONE if decision is not None and decision.pending
              else DONE.get(t.action, _l("Erledigt."))), "success")
    return _back(p)


def _load_for_decider(proposal_id: int) -> Proposal:
    """The proposal for a step only deciders take (the domain checks the rest under the lock)."""
    p = _load(proposal_id)
    if not current_user.has_role(Role.DECIDER):
        abort(403)
    return p


@bp.post("/proposals/<int:proposal_id>/co-sign")
def co_sign(proposal_id):
    """A second decider co-signs the pending decision (Mitzeichnung): only now is it final."""
    p = _load_for_decider(proposal_id)
    form = CoSignForm()
    if not form.validate():
        return _page(p, 422)
    if not confirm.confirmed():
        reason = decisions.cannot_co_sign(p, current_user)
        if reason is not None:
            return _page(p, 422, co_sign_error=str(reason))
        pending = states.pending_decision(p)
        return confirm.ask(
            title=_("Mitzeichnen: wirklich?"), question=CO_SIGN_QUESTION,
            confirm_label=_("Mitzeichnen"), back_url=url_for(".proposal", proposal_id=p.id),
            summary=[(_l("Vorschlag"), f"{p.display_reference} – {p.title}"),
                     (_l("Entscheidung"), BY_ACTION[pending.action].label if pending else None),
                     (_l("Begründung"), pending.rationale if pending else None)])
    try:
        decision = decisions.co_sign(p, current_user, seen_status=form.seen_status.data)
    except (decisions.DecisionRefused, workflow.TransitionRefused) as exc:
        db.session.rollback()
        return _page(p, 422, co_sign_error=str(exc.reason))
    db.session.commit()
    flash(str(DONE[decision.action]), "success")
    return _back(p)


@bp.post("/proposals/<int:proposal_id>/co-sign/refuse")
def refuse_co_sign(proposal_id):
    """A second decider refuses the co-signature with a reason: the decision is cancelled."""
    p = _load_for_decider(proposal_id)
    form = RefuseCoSignForm()
    if not form.validate():
        return _page(p, 422, refuse_form=form)
    try:
        decisions.refuse(p, current_user, form.reason.data, seen_status=form.seen_status.data)
    except (decisions.DecisionRefused, workflow.TransitionRefused) as exc:
        db.session.rollback()
        form.reason.errors = [*form.reason.errors, str(exc.reason)]
        return _page(p, 422, refuse_form=form)
    db.session.commit()
    flash(_("Sie haben die Mitzeichnung verweigert; die Entscheidung ist aufgehoben und der "
            "Vorschlag bleibt in Begutachtung."), "success")
    return _back(p)


def _move_summary(p: Proposal, form: ActForm) -> list:
    return [(_l("Vorschlag"), f"{p.display_reference} – {p.title}"),
            (_l("Status"), states.status_label(p.status)),
            (_l("Startdatum des Piloten"), format_date(form.start_date.data)
             if form.start_date.data else None),
            (_l("Ihr Text"), (form.message.data or "").strip() or None)]


# ---------------------------------------------------------------- reviewers


def _assign_form(p: Proposal, eligible, **kw) -> AssignForm:
    """The form that assigns one reviewer, each named with their open work and a hint."""
    loads = {load.reviewer.id: load.open for load in assignment.workload()}
    return AssignForm(eligible, hints=conflicts.surname_hints(p, eligible), loads=loads, **kw)


@bp.post("/proposals/<int:proposal_id>/reviewers")
def assign(proposal_id):
    p = _load(proposal_id)
    require(permissions.assign_reviewers(current_user, p))
    form = _assign_form(p, rv.eligible_reviewers(p))
    if not form.validate():
        return _page(p, 422, assign_form=form)
    reviewer = db.session.get(User, form.reviewer_id.data)
    try:
        rv.assign(p, reviewer, current_user, due_date=form.due_date.data)
    except rv.ReviewRefused as exc:
        form.reviewer_id.errors.append(str(exc.reason))
        return _page(p, 422, assign_form=form)
    db.session.commit()
    flash(_("%(name)s wurde als Gutachter/in zugewiesen und per E-Mail benachrichtigt.",
            name=reviewer.name), "success")
    return _back(p)


@bp.post("/proposals/<int:proposal_id>/reviewers/<int:user_id>/remove")
def unassign(proposal_id, user_id):
    p = _load(proposal_id)
    require(permissions.assign_reviewers(current_user, p))
    reviewer = db.get_or_404(User, user_id)
    try:
        rv.unassign(p, reviewer, current_user)
    except rv.ReviewRefused as exc:
        flash(str(exc.reason), "error")
        return _back(p)
    db.session.commit()
    flash(_("Die Zuweisung von %(name)s wurde aufgehoben.", name=reviewer.name), "success")
    return _back(p)


@bp.route("/proposals/<int:proposal_id>/conflict", methods=["GET", "POST"])
def conflict(proposal_id):
    p = _load_for_review(proposal_id)
    require(permissions.declare_conflict(current_user, p))
    form = ConflictForm()
    if form.validate_on_submit():
        assigned = permissions.assignment_of(current_user, p) is not None
        try:
            if assigned:
                rv.declare_conflict(p, current_user, form.reason.data)
            else:
                conflicts.declare(p, current_user, form.reason.data or "")
        except (rv.ReviewRefused, conflicts.ConflictRefused) as exc:
            form.reason.errors.append(str(exc.reason))
        else:
            db.session.commit()
            flash(_("Ihr Interessenkonflikt ist vermerkt. Sie sehen diesen Vorschlag nicht mehr; "
                    "jeden weiteren Schritt daran übernimmt eine andere Person. Das "
                    "Koordinationsteam sieht Ihre Erklärung."), "success")
            return redirect_to(url_for(".mine" if assigned else ".inbox"))
    status = 422 if request.method == "POST" else 200
    return render("review/conflict.html", status=status, p=_shown(p), form=form)


def _shown(p: Proposal):
    """The proposal as the signed-in user may see it: itself, or its anonymised view."""
    return anonymise.as_seen_by(current_user, p)


# ---------------------------------------------------------------- before the content: no conflict?


def _gate_page(p: Proposal, a, status: int = 200, confirm_form: NoConflictForm | None = None,
               conflict_form: ConflictForm | None = None, error=None):
    anonymised = not permissions.sees_identity(current_user, p)
    members = sorted({m.user.name for m in p.organisation.memberships
                      if m.user is not None and m.user.name != p.contact_name},
                     key=str.casefold) if not anonymised else []
    return render("review/gate.html", status=status, p=_shown(p), a=a, members=members,
                  anonymised=anonymised,
                  confirm_form=confirm_form or NoConflictForm(formdata=None),
                  conflict_form=conflict_form or ConflictForm(formdata=None), error=error,
                  hint=(conflicts.surname_hints(p, [current_user]).get(current_user.id)
                        if not anonymised else None),
                  may_declare=permissions.declare_conflict(current_user, p),
                  next=safe_next(request.values.get("next"), ""))


def _gated(proposal_id: int):
    """The proposal and the reviewer's assignment waiting for the confirmation; a reviewer who
    confirmed already goes on to the proposal (None), anyone else is refused as anywhere."""
    p = db.get_or_404(Proposal, proposal_id)
    a = permissions.awaiting_confirmation(current_user, p)
    if a is None:
        require(permissions.view_for_review(current_user, p))
    return p, a


@bp.route("/proposals/<int:proposal_id>/gate", methods=["GET", "POST"])
def gate(proposal_id):
    p, a = _gated(proposal_id)
    target = safe_next(request.values.get("next"), url_for(".proposal", proposal_id=p.id))
    if a is None:
        return redirect_to(target)
    form = NoConflictForm()
    if request.method == "GET":
        return _gate_page(p, a)
    if not form.validate():
        return _gate_page(p, a, 422, confirm_form=form)
    try:
        rv.confirm_no_conflict(p, current_user)
    except rv.ReviewRefused as exc:
        db.session.rollback()
        return _gate_page(p, a, 422, confirm_form=form, error=exc.reason)
    db.session.commit()
    flash(_("Vielen Dank. Ihre Bestätigung ist vermerkt; Sie können den Vorschlag jetzt "
            "begutachten."), "success")
    return redirect_to(target)


@bp.post("/proposals/<int:proposal_id>/gate/conflict")
def gate_conflict(proposal_id):
    """The reviewer declares a conflict instead of confirming. Also when a confirmation came
    in a moment before (another tab): a declaration is never lost, and it wins."""
    p = db.get_or_404(Proposal, proposal_id)
    require(permissions.declare_conflict(current_user, p))
    a = permissions.awaiting_confirmation(current_user, p)
    form = ConflictForm()
    if form.validate():
        try:
            rv.declare_conflict(p, current_user, form.reason.data)
        except rv.ReviewRefused as exc:
            db.session.rollback()
            form.reason.errors.append(str(exc.reason))
        else:
            db.session.commit()
            flash(_("Ihr Interessenkonflikt ist vermerkt. Sie sehen diesen Vorschlag nicht; die "
                    "Koordination weist ihn einer anderen Person zu."), "success")
            return redirect_to(url_for(".mine"))
    if a is None:
        return render("review/conflict.html", status=422, p=_shown(p), form=form)
    return _gate_page(p, a, 422, conflict_form=form)


# ---------------------------------------------------------------- many at once, and the load


def _selected_proposals() -> list[Proposal]:
    """The proposals chosen in the inbox (`p` values), in the order given, at most
    MAX_PROPOSALS, each one the coordinator may see."""
    ids = []
    for raw in request.values.getlist("p")[:assignment.MAX_PROPOSALS]:
        if raw.isdigit() and int(raw) not in ids:
            ids.append(int(raw))
    found = {p.id: p for p in db.session.execute(
        db.select(Proposal).where(Proposal.id.in_(ids))).scalars()} if ids else {}
    return [found[i] for i in ids
            if i in found and permissions.view_internal(current_user, found[i])]


def _pairs_of(proposals: list[Proposal]) -> list[tuple[Proposal, User]] | None:
    """The ticked "proposal:reviewer" pairs among the proposals shown; None if too many."""
    values = request.form.getlist("pair")
    if len(values) > assignment.MAX_PAIRS:
        return None
    by_id = {p.id: p for p in proposals}
    wanted: list[tuple[int, int]] = []
    for raw in values:
        pid, _sep, uid = raw.partition(":")
        if pid.isdigit() and uid.isdigit() and int(pid) in by_id \
                and (int(pid), int(uid)) not in wanted:
            wanted.append((int(pid), int(uid)))
    users = {u.id: u for u in db.session.execute(
        db.select(User).where(User.id.in_({u for _p, u in wanted}))).scalars()} if wanted else {}
    return [(by_id[pid], users[uid]) for pid, uid in wanted if uid in users]


def _bulk_page(proposals: list[Proposal], form: BulkAssignForm, status: int = 200, *,
               ticked: set[tuple[int, int]] | None = None, outcomes=None, error=None,
               suggested: bool = False):
    people = assignment.reviewers()
    conflicts.ties_of(people)
    loads = {load.reviewer.id: load for load in assignment.workload()}
    rows = []
    for p in proposals:
        assigned = {a.reviewer_id for a in p.assignments}
        hints = conflicts.surname_hints(p, people)
        options = []
        for u in people:
            if u.id in assigned:
                continue
            conflict = conflicts.conflict_of(u, p)
            options.append({"user": u, "conflict": conflict, "hint": hints.get(u.id),
                            "load": loads.get(u.id)})
        rows.append({"p": p, "options": options, "needed": assignment.reviews_needed(p),
                     "active": assignment.active_assignments(p),
                     "assignable": bool(permissions.assign_reviewers(current_user, p))})
    return render("review/assign.html", status=status, rows=rows, form=form,
                  ticked=ticked or set(), outcomes=outcomes, error=error, suggested=suggested,
                  max_pairs=assignment.MAX_PAIRS, proposals=proposals)


@bp.route("/assign", methods=["GET", "POST"])
def bulk_assign():
    require(permissions.coordinate(current_user))
    proposals = _selected_proposals()
    if request.method == "GET":
        suggested = request.args.get("suggest") == "1"
        ticked = assignment.suggest(proposals) if suggested else set()
        return _bulk_page(proposals, BulkAssignForm(formdata=None), ticked=ticked,
                          suggested=suggested)
    form = BulkAssignForm()
    pairs = _pairs_of(proposals)
    ticked = {(p.id, u.id) for p, u in pairs or []}
    if not form.validate():
        return _bulk_page(proposals, form, 422, ticked=ticked)
    if pairs is None:
        return _bulk_page(proposals, form, 422, error=_(
            "Höchstens %(max)d Zuweisungen auf einmal; bitte wählen Sie weniger aus.",
            max=assignment.MAX_PAIRS))
    try:
        outcomes = assignment.assign_many(pairs, current_user, due_date=form.due_date.data)
    except rv.ReviewRefused as exc:
        db.session.rollback()
        return _bulk_page(proposals, form, 422, ticked=ticked, error=exc.reason)
    db.session.commit()
    done = [o for o in outcomes if o.assigned]
    skipped = [o for o in outcomes if not o.assigned]
    if not skipped:
        flash(ngettext("%(num)d Zuweisung vorgenommen; die Gutachterinnen und Gutachter wurden "
                       "benachrichtigt.",
                       "%(num)d Zuweisungen vorgenommen; die Gutachterinnen und Gutachter "
                       "wurden benachrichtigt.", len(done)), "success")
        return redirect_to(url_for(".inbox"))
    return _bulk_page(_selected_proposals(), BulkAssignForm(formdata=None), outcomes=outcomes)


@bp.get("/workload")
def workload():
    require(permissions.coordinate(current_user))
    return render("review/workload.html", loads=assignment.workload(),
                  due_soon_days=assignment.DUE_SOON_DAYS)


# ---------------------------------------------------------------- shared e-mail domains


def _flags_page(status: int = 200, failed: FlagDecisionForm | None = None, error=None):
    return render("review/conflict_flags.html", status=status, flags=conflicts.flags(),
                  failed=failed, error=error, form=FlagDecisionForm(formdata=None),
                  ties=conflicts.ties(current_user))


@bp.get("/conflicts")
def conflict_flags():
    require(permissions.decide_conflict_flags(current_user))
    return _flags_page()


@bp.post("/conflicts")
def decide_conflict_flag():
    require(permissions.decide_conflict_flags(current_user))
    form = FlagDecisionForm()
    org_id, user_id = form.ids()
    org = db.session.get(Organisation, org_id) if org_id else None
    person = db.session.get(User, user_id) if user_id else None
    if org is None or person is None:
        abort(404)
    if not form.validate():
        return _flags_page(422, failed=form)
    try:
        conflicts.decide_flag(org, person, form.decision.data or "", form.reason.data or "",
                              current_user)
    except conflicts.ConflictRefused as exc:
        db.session.rollback()
        return _flags_page(422, failed=form, error=exc.reason)
    db.session.commit()
    flash(_("Die Entscheidung zum Hinweis auf %(name)s und %(org)s ist gespeichert.",
            name=person.name, org=org.name), "success")
    return redirect_to(url_for(".conflict_flags"))


# ---------------------------------------------------------------- the pilot's contact person


@bp.post("/proposals/<int:proposal_id>/contact")
def contact(proposal_id):
    p = _load(proposal_id)
    require(permissions.choose_pilot_contact(current_user, p))
    form = ContactForm(rv.contact_candidates(p))
    if not form.validate():
        return _page(p, 422, contact_form=form)
    person = db.session.get(User, form.contact_id.data) if form.contact_id.data else None
    try:
        rv.set_staff_contact(p, person, current_user)
    except rv.ReviewRefused as exc:
        db.session.rollback()
        form.contact_id.errors = [str(exc.reason)]
        return _page(p, 422, contact_form=form)
    db.session.commit()
    flash(_("%(name)s ist jetzt die Ansprechperson der Partnerorganisation.", name=person.name)
          if person else _("Die Partnerorganisation sieht jetzt keine Ansprechperson mehr, nur "
                           "das InnoLab-Team."), "success")
    return _back(p)


# ---------------------------------------------------------------- the review


def _scores_summary(of, scores: dict, recommendation: str | None) -> list:
    """What the reviewer chose: each criterion, the recommendation, the weighted total (the
    confirmation page and the completed review)."""
    total = criteria.total(scores, of)
    rows: list = [(c.label, c.score_labels.get(scores.get(c.key) or 0, "–")) for c in of]
    rows.append((_l("Empfehlung"), rv.RECOMMENDATION_LABELS.get(recommendation or "", "–")))
    if total.count:
        rows.append((_l("Gesamtwert (gewichtet, Skala 1 bis 5)"), format_decimal(total.total)))
    return rows


def _review_page(p: Proposal, own, form: ReviewForm | None, status: int = 200):
    of = criteria.of_proposal(p)
    return render("review/review.html", status=status, p=_shown(p), form=form, own=own, rv=rv,
                  summary=(_scores_summary(of, own.scores, own.recommendation)
                           if own is not None and own.completed else []),
                  may_reopen=permissions.reopen_review(current_user, p),
                  complete_question=COMPLETE_QUESTION)


@bp.route("/proposals/<int:proposal_id>/review", methods=["GET", "POST"])
def review(proposal_id):
    p = _load_for_review(proposal_id)
    require(permissions.write_review(current_user, p))
    own = rv.review_of(p, current_user)
    if own is not None and own.completed:
        if request.method == "POST":
            flash(_("Ihr Gutachten ist abgeschlossen. Um es zu ändern, öffnen Sie es zuerst "
                    "wieder."), "error")
            return redirect_to(url_for(".review", proposal_id=p.id))
        return _review_page(p, own, None)
    form = review_form(criteria.of_proposal(p), own)
    if request.method == "POST":
        if confirm.going_back():
            return _review_page(p, own, form)
        submit = request.form.get("intent") == "submit"
        if form.validate() and (not submit or form.validate_for_submit()):
            if submit and not confirm.confirmed():
                return confirm.ask(
                    title=_("Wirklich abschließen?"),
                    question=COMPLETE_QUESTION,
                    confirm_label=_("Gutachten abschließen"),
                    summary=_scores_summary(form.of, form.scores(),
                                            form.recommendation.data))
            try:
                rv.save_review(p, current_user, scores=form.scores(),
                               recommendation=form.recommendation.data,
                               comment=form.comment.data, comments=form.comments(),
                               submit=submit)
            except rv.ReviewRefused as exc:
                flash(str(exc.reason), "error")
            else:
                db.session.commit()
                if submit:
                    flash(_("Ihr Gutachten ist abgeschlossen. Vielen Dank!"), "success")
                    return _back(p)
                flash(_("Ihr Entwurf ist gespeichert."), "success")
                return redirect_to(url_for(".review", proposal_id=p.id))
        return _review_page(p, own, form, 422)
    return _review_page(p, own, form)


@bp.post("/proposals/<int:proposal_id>/review/reopen")
def reopen(proposal_id):
    p = _load_for_review(proposal_id)
    allowed = permissions.reopen_review(current_user, p)
    if not allowed:
        if permissions.assignment_of(current_user, p) is None:
            abort(403)
        flash(str(allowed.reason), "error")
        return _back(p)
    try:
        rv.reopen_review(p, current_user)
    except rv.ReviewRefused as exc:
        db.session.rollback()
        flash(str(exc.reason), "error")
        return _back(p)
    db.session.commit()
    flash(_("Ihr Gutachten ist wieder ein Entwurf. Es zählt erst wieder, wenn Sie es erneut "
            "abschließen."), "success")
    return redirect_to(url_for(".review", proposal_id=p.id))


# ---------------------------------------------------------------- checks


@bp.route("/proposals/<int:proposal_id>/checks/<kind>", methods=["GET", "POST"])
def check(proposal_id, kind):
    if kind not in rv.CHECK_LABELS:
        abort(404)
    p = _load(proposal_id)
    require(permissions.make_check(current_user, p, kind))
    form = CheckForm(kind=kind)
    if form.validate_on_submit():
        dp = kind == CheckKind.DATA_PROTECTION.value
        try:
            rv.record_check(p, current_user, kind, form.outcome.data, form.comment.data,
                            seen_latest=form.seen_latest_id(),
                            dpia=form.dpia.data if dp else None,
                            processing_agreement=form.processing_agreement.data if dp else None,
                            conditions=rv.condition_lines(form.conditions.data))
        except rv.ReviewRefused as exc:
            db.session.rollback()
            form.comment.errors.append(str(exc.reason))
        else:
            db.session.commit()
            flash(_("Das Ergebnis der %(check)s ist erfasst.", check=rv.CHECK_LABELS[kind]),
                  "success")
            return _back(p)
    status = 422 if request.method == "POST" else 200
    state = next(s for s in rv.check_states(p) if s.kind == kind)
    form.seen_latest.data = str(state.latest.id if state.latest else 0)
    return render("review/check.html", status=status, p=p, form=form, kind=kind, state=state,
                  rv=rv)


@bp.post("/proposals/<int:proposal_id>/conditions/<int:condition_id>/met")
def condition_met(proposal_id, condition_id):
    p = _load(proposal_id)
    condition = db.session.get(CheckCondition, condition_id)
    if condition is None or condition.check.proposal_id != p.id:
        abort(404)
    require(permissions.meet_condition(current_user, p, condition.check.kind))
    try:
        rv.mark_condition_met(condition, current_user)
    except rv.ReviewRefused as exc:
        db.session.rollback()
        flash(str(exc.reason), "error")
        return _back(p)
    db.session.commit()
    flash(_("Die Auflage „%(text)s“ ist als erfüllt vermerkt.", text=condition.text), "success")
    return _back(p)


# ---------------------------------------------------------------- showcase


@bp.post("/proposals/<int:proposal_id>/publish")
def publish(proposal_id):
    p = _load(proposal_id)
    require(permissions.publish_pilot(current_user, p))
    if not confirm.confirmed():
        return confirm.ask(
            title=_("Im Schaufenster veröffentlichen: wirklich?"), question=PUBLISH_QUESTION,
            confirm_label=_("Im Schaufenster veröffentlichen"),
            summary=[(_l("Pilot"), f"{p.display_reference} – {p.title}")],
            back_url=url_for(".proposal", proposal_id=p.id))
    try:
        rv.publish(p, current_user)
    except rv.ReviewRefused as exc:
        flash(str(exc.reason), "error")
        return _back(p)
    db.session.commit()
    flash(_("Der Pilot ist jetzt im Schaufenster veröffentlicht."), "success")
    return _back(p)


@bp.post("/proposals/<int:proposal_id>/unpublish")
def unpublish(proposal_id):
    p = _load(proposal_id)
    require(permissions.unpublish_pilot(current_user, p))
    rv.unpublish(p, current_user)
    db.session.commit()
    flash(_("Der Pilot wurde aus dem Schaufenster entfernt."), "success")
    return _back(p)
