"""Challenge management for coordinators: write, publish and close challenges."""
from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_babel import get_locale, ngettext
from innolab.i18n import lazy_gettext as _l
from flask_login import current_user, login_required

from ..domain import challenges as domain
from ..domain import anonymise, assignment, criteria
from ..domain import permissions
from ..domain.review import ReviewRefused
from ..domain.editing import EditConflict
from ..domain.topics import all_topics
from ..extensions import db
from ..models import ChallengeCriterion
from ..web import confirm, redirect_to, render, require
from ..web.forms import text_of
from . import bp
from . import questions as question_pages
from .forms import ChallengeForm, CriterionForm, ReviewsNeededForm, RoundsForm


@bp.before_request
@login_required
def _coordinators_only():
    require(permissions.manage_challenges(current_user))


def _challenge(challenge_id: int):
    c = domain.get(challenge_id)
    if c is None:
        abort(404)
    return c


def _form(challenge=None, **kw) -> ChallengeForm:
    return ChallengeForm(authorities=domain.authorities(), topics=all_topics(),
                         locale=str(get_locale() or "de"),
                         status=challenge.status if challenge is not None else None, **kw)


@bp.get("/")
def index():
    return render("challenges/index.html", rows=domain.overview(),
                  labels=domain.STATUS_LABELS, publish_question=PUBLISH_QUESTION,
                  close_question=CLOSE_QUESTION)


@bp.route("/new", methods=["GET", "POST"])
def new():
    form = _form()
    if form.validate_on_submit():
        try:
            c = domain.create(current_user, form.data_object())
        except domain.ChallengeRefused as exc:
            form.authority.errors = list(form.authority.errors) + [exc.reason]
        else:
            db.session.commit()
            flash(_l("Die Herausforderung „%(title)s“ wurde als Entwurf gespeichert.",
                     title=c.title), "success")
            return redirect_to(url_for(".index"))
    status = 422 if form.is_submitted() else 200
    return render("challenges/form.html", status=status, form=form, challenge=None)


@bp.route("/<int:challenge_id>/edit", methods=["GET", "POST"])
def edit(challenge_id: int):
    c = _challenge(challenge_id)
    form = _form(c, obj=_initial(c))
    if not form.is_submitted():
        form.start_from(c)
    if form.validate_on_submit():
        try:
            changed = domain.update(current_user, c, form.data_object(),
                                    seen_version=form.seen_version)
        except EditConflict as conflict:
            form.continue_from(conflict)
            return render("challenges/form.html", status=409, form=form, challenge=c,
                          labels=domain.STATUS_LABELS, conflict=conflict)
        except domain.ChallengeRefused as exc:
            form.deadline.errors = list(form.deadline.errors) + [exc.reason]
        else:
            db.session.commit()
            flash(_l("Die Änderungen wurden gespeichert.") if changed
                  else _l("Es gab keine Änderungen."), "success" if changed else "info")
            return redirect_to(url_for(".index"))
    status = 422 if form.is_submitted() else 200
    return render("challenges/form.html", status=status, form=form, challenge=c,
                  labels=domain.STATUS_LABELS)


PUBLISH_QUESTION = _l("Die Herausforderung wird öffentlich, und Partnerorganisationen können "
                      "Vorschläge dazu einreichen. Zurück zum Entwurf geht es danach nicht mehr.")
CLOSE_QUESTION = _l("Herausforderung schließen? Danach können keine Vorschläge mehr eingereicht "
                    "werden; das lässt sich nicht rückgängig machen.")


def _change_status(challenge_id: int, change, refusal, done_message, *, label, question):
    """Publish or close: `change(actor, challenge)`, then `done_message(challenge)` as flash.
    Both cannot be undone: without the dialog's confirmation the page asks (web/confirm.py)."""
    c = _challenge(challenge_id)
    if not confirm.confirmed():
        reason = refusal(c)
        if reason is None:
            return confirm.ask(title=_l("%(step)s: wirklich?", step=label), question=question,
                               confirm_label=label, summary=[(_l("Herausforderung"), c.title)],
                               back_url=url_for(".index"))
    try:
        change(current_user, c)
    except domain.ChallengeRefused as exc:
        flash(exc.reason, "error")
    else:
        db.session.commit()
        flash(done_message(c), "success")
    return redirect_to(url_for(".index"))


@bp.post("/<int:challenge_id>/publish")
def publish(challenge_id: int):
    return _change_status(
        challenge_id, domain.publish, domain.publish_refusal,
        lambda c: _l("Die Herausforderung „%(title)s“ ist veröffentlicht.", title=c.title),
        label=_l("Veröffentlichen"), question=PUBLISH_QUESTION)


@bp.post("/<int:challenge_id>/close")
def close(challenge_id: int):
    return _change_status(
        challenge_id, domain.close, domain.close_refusal,
        lambda c: _l("Die Herausforderung „%(title)s“ ist geschlossen. Es können keine "
                     "Vorschläge mehr dazu eingereicht werden.", title=c.title),
        label=_l("Schließen"), question=CLOSE_QUESTION)


class _initial:
    """The form's starting values from a challenge (authority and topics as ids)."""

    def __init__(self, c):
        self.title, self.summary, self.description = c.title, c.summary, c.description
        self.title_en, self.summary_en = c.title_en, c.summary_en
        self.description_en = c.description_en
        self.authority = c.authority_id
        self.topics = [t.id for t in c.topics]
        self.deadline = c.deadline


# ---------------------------------------------------------------- the challenge's criteria


REMOVE_QUESTION = _l("Das Kriterium wird aus der Herausforderung entfernt, mit den Bewertungen, "
                     "die Entwürfe von Gutachten dazu enthalten.")


def _criterion(c, criterion_id: int) -> ChallengeCriterion:
    row = db.session.get(ChallengeCriterion, criterion_id)
    if row is None or row.challenge_id != c.id:
        abort(404)
    return row


def _criteria_page(c, form: CriterionForm | None = None, status: int = 200,
                   needed_form: ReviewsNeededForm | None = None,
                   rounds_form: RoundsForm | None = None, rounds_error=None):
    if needed_form is None:
        needed_form = ReviewsNeededForm(formdata=None)
        needed_form.reviews_needed.data = c.reviews_needed
    if rounds_form is None:
        rounds_form = RoundsForm(formdata=None)
        rounds_form.anonymised_first_round.data = c.anonymised_first_round
    return render("challenges/criteria.html", status=status, challenge=c,
                  criteria=criteria.of_challenge(c), own=bool(c.criteria),
                  frozen=criteria.frozen(c), form=form or CriterionForm(formdata=None),
                  needed_form=needed_form, rounds_form=rounds_form, rounds_error=rounds_error,
                  rounds_frozen=anonymise.rounds_frozen(c),
                  remove_question=REMOVE_QUESTION, labels=domain.STATUS_LABELS,
                  max_criteria=criteria.MAX_CRITERIA)




def _refused(exc: criteria.CriteriaRefused, c, form: CriterionForm | None = None):
    db.session.rollback()
    if form is not None:
        form.name_de.errors = list(form.name_de.errors) + [exc.reason]
        return _criteria_page(_challenge(c.id), form, 422)
    flash(exc.reason, "error")
    return redirect_to(url_for(".criteria_page", challenge_id=c.id))


@bp.post("/<int:challenge_id>/criteria/customise")
def customise_criteria(challenge_id: int):
    c = _challenge(challenge_id)
    try:
        criteria.customise(current_user, c)
    except criteria.CriteriaRefused as exc:
        return _refused(exc, c)
    db.session.commit()
    flash(_l("Die Herausforderung hat jetzt eigene Kriterien, zunächst die fünf üblichen. Sie "
             "können sie ändern, ergänzen oder entfernen."), "success")
    return redirect_to(url_for(".criteria_page", challenge_id=c.id))


@bp.post("/<int:challenge_id>/reviews-needed")
def reviews_needed(challenge_id: int):
    c = _challenge(challenge_id)
    form = ReviewsNeededForm()
    if not form.validate():
        return _criteria_page(c, status=422, needed_form=form)
    try:
        assignment.set_reviews_needed(current_user, c, form.reviews_needed.data)
    except ReviewRefused as exc:
        db.session.rollback()
        form.reviews_needed.errors = [str(exc.reason)]
        return _criteria_page(_challenge(c.id), status=422, needed_form=form)
    db.session.commit()
    flash(ngettext("Jeder Vorschlag zu dieser Herausforderung braucht jetzt %(num)d Gutachten.",
                   "Jeder Vorschlag zu dieser Herausforderung braucht jetzt %(num)d Gutachten.",
                   c.reviews_needed), "success")
    return redirect_to(url_for(".criteria_page", challenge_id=c.id))


@bp.post("/<int:challenge_id>/rounds")
def rounds(challenge_id: int):
    """Whether the challenge's first round of review is anonymised (anonymise.set_rounds)."""
    c = _challenge(challenge_id)
    form = RoundsForm()
    if not form.validate():
        return _criteria_page(c, status=422, rounds_form=form)
    try:
        anonymise.set_rounds(current_user, c, bool(form.anonymised_first_round.data))
    except anonymise.AnonymiseRefused as exc:
        db.session.rollback()
        return _criteria_page(_challenge(c.id), status=422, rounds_form=form,
                              rounds_error=exc.reason)
    db.session.commit()
    flash(_l("Die erste Begutachtungsrunde dieser Herausforderung ist jetzt anonymisiert.")
          if c.anonymised_first_round else
          _l("Die Begutachtung dieser Herausforderung ist jetzt von Anfang an offen."), "success")
    return redirect_to(url_for(".criteria_page", challenge_id=c.id) + "#rounds-heading")


@bp.route("/<int:challenge_id>/criteria", methods=["GET", "POST"])
def criteria_page(challenge_id: int):
    """The challenge's criteria; a POST adds one (one rule for both: an out-of-range number
    in the path is then a 404 for either method)."""
    c = _challenge(challenge_id)
    if request.method == "GET":
        return _criteria_page(c)
    form = CriterionForm()
    if not form.validate():
        return _criteria_page(c, form, 422)
    try:
        criteria.add(current_user, c, form.data_object())
    except criteria.CriteriaRefused as exc:
        return _refused(exc, c, form)
    db.session.commit()
    flash(_l("Das Kriterium „%(name)s“ wurde hinzugefügt.", name=text_of(form.name_de)),
          "success")
    return redirect_to(url_for(".criteria_page", challenge_id=c.id))


@bp.route("/<int:challenge_id>/criteria/<int:criterion_id>/edit", methods=["GET", "POST"])
def edit_criterion(challenge_id: int, criterion_id: int):
    c = _challenge(challenge_id)
    row = _criterion(c, criterion_id)
    form = CriterionForm(obj=row)
    if form.validate_on_submit():
        try:
            criteria.update(current_user, row, form.data_object())
        except criteria.CriteriaRefused as exc:
            db.session.rollback()
            form.weight.errors = list(form.weight.errors) + [exc.reason]
        else:
            db.session.commit()
            flash(_l("Das Kriterium wurde gespeichert."), "success")
            return redirect_to(url_for(".criteria_page", challenge_id=c.id))
    status = 422 if form.is_submitted() else 200
    c = _challenge(challenge_id)
    return render("challenges/criterion.html", status=status, challenge=c,
                  row=_criterion(c, criterion_id), form=form, frozen=criteria.frozen(c))


@bp.post("/<int:challenge_id>/criteria/<int:criterion_id>/move")
def move_criterion(challenge_id: int, criterion_id: int):
    c = _challenge(challenge_id)
    row = _criterion(c, criterion_id)
    step = {"up": -1, "down": 1}.get(request.form.get("direction", ""))
    if step is None or not criteria.move(current_user, row, step):
        db.session.rollback()
        flash(_l("Das Kriterium lässt sich nicht weiter in diese Richtung verschieben."), "error")
    else:
        db.session.commit()
        flash(_l("Die Reihenfolge wurde geändert."), "success")
    return redirect_to(url_for(".criteria_page", challenge_id=c.id) + f"#criterion-{row.id}")


@bp.post("/<int:challenge_id>/criteria/<int:criterion_id>/remove")
def remove_criterion(challenge_id: int, criterion_id: int):
    c = _challenge(challenge_id)
    row = _criterion(c, criterion_id)
    name = row.name_de
    if not confirm.confirmed():
        if criteria.frozen(c):
            flash(criteria.FROZEN, "error")
            return redirect_to(url_for(".criteria_page", challenge_id=c.id))
        return confirm.ask(title=_l("Kriterium entfernen: wirklich?"), question=REMOVE_QUESTION,
                           confirm_label=_l("Entfernen"), summary=[(_l("Kriterium"), name)],
                           back_url=url_for(".criteria_page", challenge_id=c.id))
    try:
        criteria.remove(current_user, row)
    except criteria.CriteriaRefused as exc:
        return _refused(exc, c)
    db.session.commit()
    flash(_l("Das Kriterium „%(name)s“ wurde entfernt.", name=name), "success")
    return redirect_to(url_for(".criteria_page", challenge_id=c.id))


# ---------------------------------------------------------------- the challenge's questions
# (the pages are shared with the admins' default set: challenges/questions.py)


@bp.route("/<int:challenge_id>/questions", methods=["GET", "POST"])
def questions_page(challenge_id: int):
    return question_pages.page(_challenge(challenge_id))


@bp.route("/<int:challenge_id>/questions/<int:question_id>/edit", methods=["GET", "POST"])
def edit_question(challenge_id: int, question_id: int):
    return question_pages.edit(_challenge(challenge_id), question_id)


@bp.post("/<int:challenge_id>/questions/<int:question_id>/move")
def move_question(challenge_id: int, question_id: int):
    return question_pages.move(_challenge(challenge_id), question_id)


@bp.post("/<int:challenge_id>/questions/<int:question_id>/remove")
def remove_question(challenge_id: int, question_id: int):
    return question_pages.remove(_challenge(challenge_id), question_id)
