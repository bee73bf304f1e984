"""The pages that set up a set of questions: a challenge's (coordinators, in this blueprint)
and the default set for initiative proposals (admins, in the administration).

Both blueprints register the same four endpoints (`questions_page`, `edit_question`,
`move_question`, `remove_question`) and call these functions with the challenge, or None for
the default set; the rules are `domain.questions`.
"""
from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # WTForms 3.3; the stubs are 3.2
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ..domain import questions as qs
from ..domain import uploads
from ..extensions import db
from ..i18n import lazy_gettext as _l
from ..models import ChallengeQuestion
from ..web import confirm, redirect_to, render
from ..web.forms import single_line, text_of

TOO_LONG = _l("Höchstens %(max)d Zeichen.")
ALLOWED_TYPES = ", ".join(uploads.ALLOWED)  # what a file question may allow


class QuestionForm(FlaskForm):
    kind = SelectField(_l("Art der Antwort"), validators=[
        InputRequired(_l("Bitte wählen Sie eine der angebotenen Arten."))])
    label_de = StringField(_l("Frage"), validators=[
        DataRequired(_l("Bitte geben Sie die Frage ein.")),
        Length(max=qs.MAX_LABEL, message=TOO_LONG), single_line])
    label_en = StringField(_l("Frage (Englisch, optional)"), validators=[
        Optional(), Length(max=qs.MAX_LABEL, message=TOO_LONG), single_line])
    help_de = TextAreaField(_l("Hilfetext (optional)"), validators=[
        Optional(), Length(max=2000, message=TOO_LONG)])
    help_en = TextAreaField(_l("Hilfetext (Englisch, optional)"), validators=[
        Optional(), Length(max=2000, message=TOO_LONG)])
    required = BooleanField(_l("Pflichtfrage (für das Einreichen erforderlich)"))
    unit = StringField(_l("Einheit (nur bei Zahlen, optional)"), validators=[
        Optional(), Length(max=qs.MAX_UNIT, message=TOO_LONG), single_line])
    options_de = TextAreaField(_l("Antwortmöglichkeiten (nur bei Auswahl), eine je Zeile"),
                               validators=[Optional(), Length(max=5000, message=TOO_LONG)])
    options_en = TextAreaField(_l("Antwortmöglichkeiten (Englisch, optional), eine je Zeile"),
                               validators=[Optional(), Length(max=5000, message=TOO_LONG)])
    file_types = StringField(_l("Erlaubte Dateitypen (nur bei Datei)"), validators=[
        Optional(), Length(max=200, message=TOO_LONG), single_line])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = [SelectChoice(k, label) for k, label in qs.KINDS.items()]

    def fill_from(self, row: ChallengeQuestion) -> None:
        self.options_de.data = qs.lines_of(row.options, "de")
        self.options_en.data = qs.lines_of(row.options, "en")
        self.file_types.data = ", ".join(qs.types_of(row))

    def data_object(self) -> qs.QuestionData:
        """What was typed; the options read line by line (QuestionsRefused if they do not
        match)."""
        return qs.QuestionData(
            kind=self.kind.data or "", label_de=text_of(self.label_de),
            label_en=self.label_en.data, help_de=self.help_de.data, help_en=self.help_en.data,
            required=bool(self.required.data), unit=self.unit.data,
            options=qs.options_from_lines(self.options_de.data, self.options_en.data),
            file_types=qs.file_types_from(self.file_types.data))

    def refused(self, exc: qs.QuestionsRefused) -> None:
        """Show the refusal at the field it is about."""
        name = {"options": "options_de"}.get(exc.field, exc.field)
        f = getattr(self, name, self.kind)
        f.errors = list(f.errors) + [exc.reason]


REMOVE_QUESTION = _l("Die Frage wird entfernt. Wurde sie in einem eingereichten Vorschlag "
                     "bereits beantwortet, wird sie nur nicht mehr gestellt, und die Antworten "
                     "bleiben lesbar; sonst wird sie mit den Antworten in Entwürfen gelöscht.")


def _url(challenge, endpoint: str, **kw) -> str:
    base = {"challenge_id": challenge.id} if challenge is not None else {}
    return url_for(f".{endpoint}", **base, **kw)


def _back(challenge) -> tuple[str, object]:
    if challenge is None:
        return url_for("admin.index"), _l("Zurück zur Verwaltung")
    return url_for("challenges.edit", challenge_id=challenge.id), _l("Zurück zur Herausforderung")


def _question(challenge, question_id: int) -> ChallengeQuestion:
    row = db.session.get(ChallengeQuestion, question_id)
    challenge_id = challenge.id if challenge is not None else None
    if row is None or row.challenge_id != challenge_id or row.retired_at is not None:
        abort(404)
    return row


def _page(challenge, form: QuestionForm | None = None, status: int = 200):
    challenge_id = challenge.id if challenge is not None else None
    rows = qs.all_of(challenge_id)
    active = [q for q in rows if q.retired_at is None]
    back_url, back_label = _back(challenge)
    return render("challenges/questions.html", status=status, challenge=challenge,
                  questions=active, retired=[q for q in rows if q.retired_at is not None],
                  frozen=qs.frozen_ids(active), form=form or QuestionForm(formdata=None),
                  url=lambda endpoint, **kw: _url(challenge, endpoint, **kw),
                  kinds=qs.KINDS, max_questions=qs.MAX_QUESTIONS, qs=qs,
                  back_url=back_url, back_label=back_label, remove_question=REMOVE_QUESTION,
                  allowed_types=ALLOWED_TYPES)


def page(challenge):
    """The set's questions; a POST adds one."""
    if request.method == "GET":
        return _page(challenge)
    form = QuestionForm()
    if not form.validate():
        return _page(challenge, form, 422)
    try:
        qs.add(current_user, challenge, form.data_object())
    except qs.QuestionsRefused as exc:
        db.session.rollback()
        form.refused(exc)
        return _page(challenge, form, 422)
    db.session.commit()
    flash(_("Die Frage „%(label)s“ wurde hinzugefügt.", label=text_of(form.label_de)),
          "success")
    return redirect_to(_url(challenge, "questions_page"))


def edit(challenge, question_id: int):
    row = _question(challenge, question_id)
    form = QuestionForm(obj=row)
    if request.method == "GET":
        form.fill_from(row)
    elif form.validate():
        try:
            qs.update(current_user, row, form.data_object())
        except qs.QuestionsRefused as exc:
            db.session.rollback()
            form.refused(exc)
        else:
            db.session.commit()
            flash(_("Die Frage wurde gespeichert."), "success")
            return redirect_to(_url(challenge, "questions_page") + f"#question-{question_id}")
    row = _question(challenge, question_id)
    back_url, back_label = _back(challenge)
    return render("challenges/question.html", status=422 if form.is_submitted() else 200,
                  challenge=challenge, row=row, form=form, frozen=qs.frozen(row),
                  allowed_types=ALLOWED_TYPES,
                  url=lambda endpoint, **kw: _url(challenge, endpoint, **kw))


def move(challenge, question_id: int):
    row = _question(challenge, question_id)
    step = {"up": -1, "down": 1}.get(request.form.get("direction", ""))
    if step is None or not qs.move(current_user, row, step):
        db.session.rollback()
        flash(_("Die Frage lässt sich nicht weiter in diese Richtung verschieben."), "error")
    else:
        db.session.commit()
        flash(_("Die Reihenfolge wurde geändert."), "success")
    return redirect_to(_url(challenge, "questions_page") + f"#question-{question_id}")


def remove(challenge, question_id: int):
    row = _question(challenge, question_id)
    label = row.label_de
    if not confirm.confirmed():
        return confirm.ask(title=_l("Frage entfernen: wirklich?"), question=REMOVE_QUESTION,
                           confirm_label=_l("Entfernen"), summary=[(_l("Frage"), label)],
                           back_url=_url(challenge, "questions_page"))
    retired = qs.remove(current_user, row)
    db.session.commit()
    if retired:
        flash(_("Die Frage „%(label)s“ wird nicht mehr gestellt. Die Antworten in eingereichten "
                "Vorschlägen bleiben lesbar.", label=label), "success")
    else:
        flash(_("Die Frage „%(label)s“ wurde entfernt.", label=label), "success")
    return redirect_to(_url(challenge, "questions_page"))
