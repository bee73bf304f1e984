"""The questions' rules (innolab.domain.questions): each kind's answers, the default set for
initiative proposals, setting up the questions and when they are frozen."""
from __future__ import annotations

from datetime import date

import pytest
from flask_babel import force_locale

from innolab.domain import questions as qs
from innolab.extensions import db
from innolab.models import AuditEvent, ChallengeQuestion, ProposalAnswer
from innolab.models._base import utcnow
from tests import factories as f


def _q(kind, **kw):
    kw.setdefault("options", [{"de": "Bund", "en": "Federal"}, {"de": "Land", "en": None}])
    return ChallengeQuestion(kind=kind, label_de="Frage", **kw)


def _refused(q, raw) -> str:
    with pytest.raises(qs.AnswerInvalid) as exc:
        qs.validate(q, raw)
    return str(exc.value.reason)


def test_text_answers_are_trimmed_and_limited(app_ctx):
    short, long = _q("short_text"), _q("long_text")
    assert qs.validate(short, "  zwei   Wörter ") == "zwei Wörter"
    assert qs.validate(long, " Absatz\n\n- Punkt ") == "Absatz\n\n- Punkt"
    assert qs.validate(short, "   ") is None
    assert _refused(short, "x" * 501) == "Höchstens 500 Zeichen."
    assert qs.validate(long, "x" * 10000) == "x" * 10000
    with force_locale("en"):
        assert _refused(long, "x" * 10001) == "No more than 10000 characters."


def test_numbers_are_read_in_the_page_language(app_ctx):
    q = _q("number", unit="Nutzer")
    assert qs.validate(q, "1.250") == 1250
    assert qs.validate(q, "12,5") == 12.5
    assert "Bitte geben Sie eine Zahl an" in _refused(q, "zwölf")
    assert _refused(q, "1" * 20) == "Die Zahl ist zu groß."
    assert qs.show(q, 1250) == "1.250 Nutzer"
    with force_locale("en"):
        assert qs.validate(q, "1,250") == 1250 and qs.validate(q, "12.5") == 12.5
        assert _refused(q, "twelve").startswith("Please enter a number")
        assert qs.show(q, 12.5) == "12.5 Nutzer"


def test_dates_yes_no_and_choices(app_ctx):
    day, yes_no = _q("date"), _q("yes_no")
    assert qs.validate(day, date(2027, 3, 1)) == "2027-03-01"
    assert qs.validate(day, "2027-03-01") == "2027-03-01"
    assert _refused(day, "1.3.2027") == "Bitte geben Sie ein gültiges Datum an."
    assert _refused(day, date(1800, 1, 1)).startswith("Bitte geben Sie ein Datum zwischen")
    assert qs.show(day, "2027-03-01") == "01.03.2027"
    assert qs.validate(yes_no, "yes") is True and qs.validate(yes_no, "no") is False
    assert _refused(yes_no, "vielleicht") == "Bitte wählen Sie Ja oder Nein."
    assert qs.show(yes_no, False) == "Nein"

    single, multiple = _q("single_choice"), _q("multiple_choice")
    assert qs.validate(single, "Land") == "Land"
    assert _refused(single, "Kreis") == "Bitte wählen Sie eine der angebotenen Antworten."
    assert qs.validate(multiple, ["Land", "Bund", "Land"]) == ["Bund", "Land"]  # offered order
    assert _refused(multiple, ["Bund", "Kreis"]) == "Bitte wählen Sie nur angebotene Antworten."
    assert qs.validate(multiple, []) is None
    with force_locale("en"):
        # the English option where there is one, the German one otherwise
        assert qs.show(multiple, ["Bund", "Land"]) == "Federal, Land"
        assert qs.show(yes_no, True) == "Yes"
        assert _refused(single, "Kreis") == "Please choose one of the answers offered."


def test_setting_up_checks_each_question(app_ctx):
    c, coordinator = f.challenge(), f.staff("coordinator")
    bad = [qs.QuestionData(kind="essay", label_de="Frage"),
           qs.QuestionData(kind="short_text", label_de="  "),
           qs.QuestionData(kind="single_choice", label_de="Ebene",
                           options=qs.options_from_lines("Bund")),
           qs.QuestionData(kind="multiple_choice", label_de="Ebene",
                           options=qs.options_from_lines("Bund\nBund"))]
    for data in bad:
        with pytest.raises(qs.QuestionsRefused):
            qs.add(coordinator, c, data)
    with pytest.raises(qs.QuestionsRefused):  # more English lines than German ones
        qs.options_from_lines("Bund", "Federal\nState")
    row = qs.add(coordinator, c, qs.QuestionData(
        kind="single_choice", label_de=" Welche  Ebene? ", required=True, unit="kg",
        options=qs.options_from_lines("Bund\n\n Land \n", "Federal")))
    db.session.commit()
    assert (row.label_de, row.unit, row.position) == ("Welche Ebene?", None, 0)
    assert row.options == [{"de": "Bund", "en": "Federal"}, {"de": "Land", "en": None}]
    assert qs.lines_of(row.options, "de") == "Bund\nLand"
    for n in range(qs.MAX_QUESTIONS - 1):
        qs.add(coordinator, c, qs.QuestionData(kind="short_text", label_de=f"F{n}"))
    with pytest.raises(qs.QuestionsRefused) as exc:
        qs.add(coordinator, c, qs.QuestionData(kind="short_text", label_de="Zu viel"))
    assert str(exc.value.reason) == "Höchstens 30 Fragen."


def test_an_initiative_proposal_answers_the_default_set(app_ctx):
    c = f.challenge()
    own = f.question(c, label="Eigene Frage")
    default = f.question(None, label="Allgemeine Frage", required=True)
    initiative = f.proposal(status="draft")
    to_challenge = f.proposal(status="draft", challenge_=c)
    assert qs.questions_of(initiative) == [default]
    assert qs.questions_of(to_challenge) == [own]
    assert qs.missing_answers(initiative) == [default]
    assert qs.save_answers(initiative, {default.id: "Antwort", own.id: "ignoriert"}) == {}
    db.session.commit()
    assert qs.missing_answers(initiative) == []
    assert [a.question_id for a in initiative.answers] == [default.id]
    assert initiative.snapshot()[f"q{default.id}"] == "Antwort"


def test_a_refused_answer_stores_nothing(app_ctx):
    c = f.challenge()
    text, number = f.question(c), f.question(c, kind="number")
    p = f.proposal(status="draft", challenge_=c)
    errors = qs.save_answers(p, {text.id: "gut", number.id: "viel"})
    assert list(errors) == [number.id]
    assert p.answers == []


def test_questions_freeze_once_answered_in_a_submitted_proposal(app_ctx):
    c, coordinator = f.challenge(), f.staff("coordinator")
    choice = f.question(c, kind="single_choice", label="Ebene", required=True)
    other = f.question(c, label="Anmerkung")
    p = f.proposal(status="draft", challenge_=c)
    qs.save_answers(p, {choice.id: "Land"})
    db.session.commit()
    assert not qs.frozen(choice)  # answered in a draft only
    p.status, p.first_submitted_at = "submitted", utcnow()
    db.session.commit()
    assert qs.frozen(choice) and not qs.frozen(other)

    same = dict(kind="single_choice", label_de="Ebene", required=True,
                options=choice.options)
    for change in ({"kind": "short_text", "options": []}, {"required": False},
                   {"options": qs.options_from_lines("Bund\nLand")}):
        with pytest.raises(qs.QuestionsRefused) as exc:
            qs.update(coordinator, choice, qs.QuestionData(**{**same, **change}))
        assert exc.value.reason == qs.FROZEN
        db.session.rollback()
    # the label, the help text and the order stay editable
    qs.update(coordinator, choice, qs.QuestionData(**{**same, "label_de": "Welche Ebene?",
                                                      "help_de": "Wer betreibt es?"}))
    assert qs.move(coordinator, choice, 1)
    db.session.commit()
    assert [q.label_de for q in qs.active_of(c.id)] == ["Anmerkung", "Welche Ebene?"]

    # removing retires the answered question (the answer stays readable), deletes the other
    assert qs.remove(coordinator, choice) is True
    assert qs.remove(coordinator, other) is False
    db.session.commit()
    assert qs.active_of(c.id) == []
    assert db.session.get(ChallengeQuestion, choice.id).retired_at is not None
    assert [(q.label_de, v) for q, v in qs.answered(p)] == [("Welche Ebene?", "Land")]
    assert db.session.query(ProposalAnswer).count() == 1
    actions = {e.action for e in db.session.query(AuditEvent)}
    assert {"challenge.question_update", "challenge.question_move",
            "challenge.question_remove"} <= actions


def test_a_file_question_names_its_allowed_types(app_ctx):
    c, coordinator = f.challenge(), f.staff("coordinator")
    assert qs.file_types_from(" .PDF, docx;odt pdf") == ["pdf", "docx", "odt"]
    for types in ([], ["exe"]):
        with pytest.raises(qs.QuestionsRefused) as exc:
            qs.add(coordinator, c, qs.QuestionData(kind="file", label_de="Konzept",
                                                   file_types=types))
        assert exc.value.field == "file_types"
    row = qs.add(coordinator, c, qs.QuestionData(kind="file", label_de="Konzept",
                                                 required=True, file_types=["pdf", "odt"]))
    assert (row.file_types, qs.accept_of(row)) == ("pdf,odt", ".pdf,.odt")
    other = qs.add(coordinator, c, qs.QuestionData(kind="short_text", label_de="Name",
                                                   file_types=["pdf"]))
    assert other.file_types is None  # only a file question keeps types
    assert qs.validate(row, 12) == 12
    assert _refused(row, "konzept.pdf") == "Bitte laden Sie das Dokument hoch."
    # a required document counts as answered only while its attachment exists
    p = f.proposal(status="draft", challenge_=c)
    p.answers.append(ProposalAnswer(question=row, value=999))
    db.session.commit()
    assert qs.missing_answers(p) == [row]
    assert qs.show(row, 999) == "(Datei entfernt)"
