"""Questions per challenge: the kinds, the answer rules, the frozen rule, saving answers.

A coordinator gives a challenge its own questions; partners answer them in a proposal to it,
after the fixed fields. A proposal without a challenge (an initiative proposal) answers the
default set the admins maintain (questions without a challenge). Each question has a kind
(`KINDS`), a German label (English optional), optional help text, and is required or optional;
a number has a unit, a choice its options ({"de", "en"}, one per line in the form).

Answers are `ProposalAnswer` rows, the value as JSON: text, a number, an ISO date, a bool, or
the German text(s) of the chosen option(s). The proposal's snapshot (a version) holds them
under "q<question id>", so versions and their diff keep them.

Frozen: once a proposal that answered a question was submitted, the question's kind,
options, unit and whether it is required can no longer change, and removing it retires it
(`retired_at`): it is no longer asked, the answers given stay readable. Labels, help texts
and the order stay editable.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from babel.numbers import NumberFormatError, format_decimal, parse_decimal
from sqlalchemy import false, or_, select

from ..extensions import db
from ..i18n import Localized, format_date, format_locale, lazy_gettext as _l, localized
from ..i18n import page_locale
from ..models import Attachment, ChallengeQuestion, Proposal, ProposalAnswer
from ..models._base import utcnow
from . import DomainError, audit, uploads
from .locking import lock

KINDS = {
    "short_text": _l("Kurzer Text"),
    "long_text": _l("Langer Text (Markdown)"),
    "number": _l("Zahl mit Einheit"),
    "date": _l("Datum"),
    "single_choice": _l("Einfachauswahl"),
    "multiple_choice": _l("Mehrfachauswahl"),
    "yes_no": _l("Ja oder Nein"),
    "file": _l("Datei (ein benanntes Dokument)"),
}
CHOICE_KINDS = ("single_choice", "multiple_choice")

MAX_QUESTIONS = 30
MAX_OPTIONS = 20
MAX_LABEL = 300
MAX_OPTION = 200
MAX_UNIT = 40
MAX_SHORT_TEXT = 500
MAX_LONG_TEXT = 10000
MAX_NUMBER = 10**15


class QuestionsRefused(DomainError):
    """A question's set-up refused; `field` names what the reason is about (the form shows it
    there): kind, label_de, label_en, unit, options, options_en."""

    def __init__(self, reason, field: str = "kind"):
        super().__init__(reason)
        self.field = field


class AnswerInvalid(DomainError):
    pass


class AnswersRefused(DomainError):
    """Answers that do not fit their questions; `errors`: question id -> AnswerInvalid."""

    def __init__(self, errors: dict):
        super().__init__(_l("Bitte prüfen Sie Ihre Antworten auf die Fragen."))
        self.errors = errors


FROZEN = _l("Diese Frage wurde in einem eingereichten Vorschlag bereits beantwortet. Art, "
            "Antwortmöglichkeiten, Einheit und ob sie verpflichtend ist, bleiben deshalb; "
            "Text, Hilfetext und Reihenfolge können Sie noch ändern.")


# ---------------------------------------------------------------- which questions


def _set(challenge_id: int | None):
    return select(ChallengeQuestion).where(
        ChallengeQuestion.challenge_id.is_(None) if challenge_id is None
        else ChallengeQuestion.challenge_id == challenge_id
    ).order_by(ChallengeQuestion.position, ChallengeQuestion.id)


def all_of(challenge_id: int | None) -> list[ChallengeQuestion]:
    """Every question of a challenge (None: the default set), the retired ones too."""
    return list(db.session.execute(_set(challenge_id)).scalars().unique())


def active_of(challenge_id: int | None) -> list[ChallengeQuestion]:
    """The questions a proposal to the challenge (None: an initiative proposal) answers."""
    return [q for q in all_of(challenge_id) if q.retired_at is None]


def questions_of(p: Proposal) -> list[ChallengeQuestion]:
    """The questions `p` answers: its challenge's or the default set."""
    return active_of(p.challenge_id)


def answers_of(p: Proposal) -> dict[int, object]:
    """Question id -> the stored answer (None or empty: not answered)."""
    return {a.question_id: a.value for a in p.answers}


def answered(p: Proposal) -> list[tuple[ChallengeQuestion, object]]:
    """The questions of `p` with its answers, for display: the questions asked now and the
    retired ones it answered (answers stay readable)."""
    return answered_of([p])[p.id]


def answered_of(proposals) -> dict[int, list[tuple[ChallengeQuestion, object]]]:
    """`answered` for many proposals (a list, the CSV export) in two queries."""
    proposals = list(proposals)
    if not proposals:
        return {}
    challenge_ids = {p.challenge_id for p in proposals}
    own = [c for c in challenge_ids if c is not None]
    sets: dict[int | None, list[ChallengeQuestion]] = {}
    for q in db.session.execute(
            select(ChallengeQuestion).where(or_(
                ChallengeQuestion.challenge_id.in_(own),
                ChallengeQuestion.challenge_id.is_(None) if None in challenge_ids else false()))
            .order_by(ChallengeQuestion.position, ChallengeQuestion.id)).scalars().unique():
        sets.setdefault(q.challenge_id, []).append(q)
    values: dict[int, dict[int, object]] = {}
    for proposal_id, question_id, value in db.session.execute(
            select(ProposalAnswer.proposal_id, ProposalAnswer.question_id, ProposalAnswer.value)
            .where(ProposalAnswer.proposal_id.in_([p.id for p in proposals]))):
        values.setdefault(proposal_id, {})[question_id] = value
    result = {}
    for p in proposals:
        given = values.get(p.id, {})
        result[p.id] = [(q, given.get(q.id)) for q in sets.get(p.challenge_id, [])
                        if q.retired_at is None or not _empty(given.get(q.id))]
    return result


def _empty(value) -> bool:
    return value is None or value == "" or value == []


def key_of(q: ChallengeQuestion) -> str:
    """The name of the answer in a snapshot and of its form field."""
    return f"q{q.id}"


def labels(p: Proposal) -> dict[str, str]:
    """Snapshot key -> label of the questions `p` answers (German; for the edit conflict)."""
    return {key_of(q): str(label(q)) for q in questions_of(p)}


def by_keys(keys) -> dict[str, ChallengeQuestion]:
    """The questions named by snapshot keys ("q12"), for the version diff."""
    ids = {int(k[1:]) for k in keys if k.startswith("q") and k[1:].isdigit()}
    if not ids:
        return {}
    rows = db.session.execute(select(ChallengeQuestion).where(ChallengeQuestion.id.in_(ids)))
    return {key_of(q): q for q in rows.scalars()}


def label(q: ChallengeQuestion) -> Localized:
    return localized(q, "label")


def help_text(q: ChallengeQuestion) -> Localized:
    return localized(q, "help")


def option_label(q: ChallengeQuestion, value: str) -> str:
    """The chosen option in the page's language (its English text when there is one)."""
    for option in q.options or ():
        if option.get("de") == value:
            if page_locale() != "de" and option.get("en"):
                return option["en"]
            return value
    return value


def option_choices(q: ChallengeQuestion) -> list[tuple[str, str]]:
    """(value, label) of the options: the value is the German text."""
    return [(o["de"], option_label(q, o["de"])) for o in q.options or ()]


# ---------------------------------------------------------------- answers


def parse_number(text: str):
    """A number typed in the page's language ("1.234,5" German, "1,234.5" English)."""
    try:
        number = parse_decimal(text.replace(" ", "").replace("\u00a0", ""),
                               locale=format_locale(), strict=True)
    except (NumberFormatError, ValueError) as exc:
        raise AnswerInvalid(_l("Bitte geben Sie eine Zahl an, zum Beispiel 1.250 oder "
                               "12,5.")) from exc
    if not number.is_finite() or abs(number) >= MAX_NUMBER:
        raise AnswerInvalid(_l("Die Zahl ist zu groß."))
    return int(number) if number == number.to_integral_value() else float(number)


def validate(q: ChallengeQuestion, raw):
    """The answer to store for what was typed (None: not answered), or AnswerInvalid with a
    message for the field. Whether a required answer is missing is checked on submitting."""
    if isinstance(raw, str):
        raw = raw.strip()
    if raw is None or raw == "" or raw == []:
        return None
    kind = q.kind
    if kind in ("short_text", "long_text"):
        limit = MAX_SHORT_TEXT if kind == "short_text" else MAX_LONG_TEXT
        if not isinstance(raw, str):
            raise AnswerInvalid(_l("Bitte geben Sie einen Text ein."))
        if kind == "short_text":
            raw = " ".join(raw.split())
        if len(raw) > limit:
            raise AnswerInvalid(_l("Höchstens %(max)d Zeichen.", max=limit))
        return raw
    if kind == "number":
        if isinstance(raw, bool):
            raise AnswerInvalid(_l("Bitte geben Sie eine Zahl an, zum Beispiel 1.250 oder "
                                   "12,5."))
        if isinstance(raw, int | float):
            return raw
        return parse_number(str(raw))
    if kind == "date":
        if isinstance(raw, date):
            day = raw
        else:
            try:
                day = date.fromisoformat(str(raw))
            except ValueError as exc:
                raise AnswerInvalid(_l("Bitte geben Sie ein gültiges Datum an.")) from exc
        if not 1900 <= day.year <= 2200:
            raise AnswerInvalid(_l("Bitte geben Sie ein Datum zwischen 1900 und 2200 an."))
        return day.isoformat()
    if kind == "file":  # the attachment's id (`attach` sets it)
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise AnswerInvalid(_l("Bitte laden Sie das Dokument hoch."))
        return raw
    if kind == "yes_no":
        if raw in (True, "yes"):
            return True
        if raw in (False, "no"):
            return False
        raise AnswerInvalid(_l("Bitte wählen Sie Ja oder Nein."))
    offered = [o["de"] for o in q.options or ()]
    if kind == "single_choice":
        if not isinstance(raw, str) or raw not in offered:
            raise AnswerInvalid(_l("Bitte wählen Sie eine der angebotenen Antworten."))
        return raw
    if kind == "multiple_choice":
        chosen = [raw] if isinstance(raw, str) else list(raw)
        if any(not isinstance(v, str) or v not in offered for v in chosen):
            raise AnswerInvalid(_l("Bitte wählen Sie nur angebotene Antworten."))
        return [v for v in offered if v in chosen]  # in the order offered, once each
    raise AnswerInvalid(_l("Diese Frage kann nicht beantwortet werden."))


def show(q: ChallengeQuestion | None, value) -> str:
    """An answer as it reads in the page's language."""
    if _empty(value):
        return ""
    if q is None:
        return ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    if q.kind == "file":
        attachment = db.session.get(Attachment, value) if isinstance(value, int) else None
        return attachment.filename if attachment is not None else str(_l("(Datei entfernt)"))
    if q.kind == "yes_no":
        return str(_l("Ja") if value else _l("Nein"))
    if q.kind == "date":
        try:
            return format_date(date.fromisoformat(str(value)))
        except ValueError:
            return str(value)
    if q.kind == "number" and isinstance(value, int | float) and not isinstance(value, bool):
        text = format_decimal(value, locale=format_locale())
        return f"{text} {q.unit}" if q.unit else text
    if isinstance(value, list):
        return ", ".join(option_label(q, str(v)) for v in value)
    if q.kind == "single_choice":
        return option_label(q, str(value))
    return str(value)


def typed(q: ChallengeQuestion, value):
    """A stored answer as its form field shows it (numbers in the page's language)."""
    if _empty(value):
        return None
    if q.kind == "yes_no":
        return "yes" if value else "no"
    if q.kind == "number" and isinstance(value, int | float) and not isinstance(value, bool):
        return format_decimal(value, locale=format_locale())
    return value


def file_types_from(text: str | None) -> list[str]:
    """Allowed file types typed as "pdf, docx" (dots and case do not matter)."""
    words = (text or "").replace(",", " ").replace(";", " ").split()
    types = [w.strip(".").lower() for w in words]
    return list(dict.fromkeys(t for t in types if t))


def types_of(q: ChallengeQuestion) -> list[str]:
    return q.file_types.split(",") if q.file_types else []


def accept_of(q: ChallengeQuestion) -> str:
    """The file input's `accept` for a file question."""
    return ",".join("." + t for t in types_of(q))


def attach(p: Proposal, q: ChallengeQuestion, file_storage, user) -> Attachment:
    """Upload the document a file question asks for: checked like every attachment
    (uploads.store), of one of the question's types; it becomes the answer (a document
    uploaded before stays an attachment). The view checked upload_attachment."""
    if q not in questions_of(p) or q.kind != "file":
        raise uploads.UploadRefused(_l("Diese Frage erwartet kein Dokument."))
    name = getattr(file_storage, "filename", None) or ""
    if name and uploads.extension(uploads.clean_filename(name)) not in types_of(q):
        raise uploads.UploadRefused(_l("Erlaubt sind hier: %(types)s.",
                                       types=", ".join(t.upper() for t in types_of(q))))
    attachment = uploads.store(p, file_storage, user)
    row = next((a for a in p.answers if a.question_id == q.id), None)
    if row is None:
        p.answers.append(ProposalAnswer(question=q, value=attachment.id))
    else:
        row.value = attachment.id
    db.session.flush()
    return attachment


def missing_answers(p: Proposal) -> list[ChallengeQuestion]:
    """The required questions `p` has not answered yet (submitting needs them)."""
    values = answers_of(p)
    files = {a.id for a in p.attachments}
    return [q for q in questions_of(p) if q.required and (
        _empty(values.get(q.id)) or (q.kind == "file" and values.get(q.id) not in files))]


def save_answers(p: Proposal, raw: dict[int, object]) -> dict[int, AnswerInvalid]:
    """Store the answers typed (question id -> raw value) to the questions `p` answers;
    others are ignored. Returns the refusals per question id (nothing is stored then).
    A cleared answer keeps its row with no value (the frozen rule sees it was answered)."""
    questions = {q.id: q for q in questions_of(p)}
    values: dict[int, object] = {}
    errors: dict[int, AnswerInvalid] = {}
    for qid, typed in raw.items():
        q = questions.get(qid)
        if q is None:
            continue
        try:
            values[qid] = validate(q, typed)
        except AnswerInvalid as exc:
            errors[qid] = exc
    if errors:
        return errors
    rows = {a.question_id: a for a in p.answers}
    for qid, value in values.items():
        row = rows.get(qid)
        if row is None:
            if value is not None:
                p.answers.append(ProposalAnswer(question=questions[qid], value=value))
        elif row.value != value:
            row.value = value
    return {}


# ---------------------------------------------------------------- setting up the questions


def frozen(q: ChallengeQuestion) -> bool:
    """A proposal that answered `q` was submitted (at least once)."""
    return q.id is not None and q.id in frozen_ids([q])


def frozen_ids(rows) -> set[int]:
    """The ids of the questions among `rows` that are frozen (`frozen`), in one query."""
    ids = [q.id for q in rows if q.id is not None]
    if not ids:
        return set()
    return set(db.session.execute(
        select(ProposalAnswer.question_id).distinct()
        .join(Proposal, Proposal.id == ProposalAnswer.proposal_id)
        .where(ProposalAnswer.question_id.in_(ids), Proposal.first_submitted_at.is_not(None))
    ).scalars())


def options_from_lines(german: str | None, english: str | None = None) -> list[dict]:
    """Options typed one per line (German; English optional, line by line)."""
    de = [" ".join(line.split()) for line in (german or "").splitlines()]
    de = [line for line in de if line]
    en = [" ".join(line.split()) for line in (english or "").splitlines()]
    en = [line for line in en if line]
    if len(en) > len(de):
        raise QuestionsRefused(_l("Es gibt mehr englische als deutsche Antwortmöglichkeiten. "
                                  "Bitte schreiben Sie je Zeile eine Übersetzung."), "options_en")
    return [{"de": text, "en": en[i] if i < len(en) else None} for i, text in enumerate(de)]


def lines_of(options, lang: str) -> str:
    return "\n".join(o.get(lang) or "" for o in options or ()).rstrip("\n")


@dataclass
class QuestionData:
    kind: str
    label_de: str
    required: bool = False
    label_en: str | None = None
    help_de: str | None = None
    help_en: str | None = None
    unit: str | None = None
    options: list[dict] = field(default_factory=list)
    file_types: list[str] = field(default_factory=list)

    def cleaned(self) -> dict:
        def text(value):
            return (value or "").strip() or None

        def line(value):
            return " ".join((value or "").split()) or None
        choice = self.kind in CHOICE_KINDS
        return {"kind": self.kind, "label_de": line(self.label_de) or "",
                "label_en": line(self.label_en), "help_de": text(self.help_de),
                "help_en": text(self.help_en), "required": bool(self.required),
                "unit": line(self.unit) if self.kind == "number" else None,
                "options": list(self.options) if choice else None,
                "file_types": ",".join(self.file_types) if self.kind == "file" else None}


def check(data: QuestionData) -> dict:
    """The rules of one question; the cleaned values."""
    values = data.cleaned()
    if values["kind"] not in KINDS:
        raise QuestionsRefused(_l("Bitte wählen Sie eine der angebotenen Arten."))
    if not values["label_de"]:
        raise QuestionsRefused(_l("Bitte geben Sie die Frage ein."), "label_de")
    for name in ("label_de", "label_en"):
        if len(values[name] or "") > MAX_LABEL:
            raise QuestionsRefused(_l("Höchstens %(max)d Zeichen.", max=MAX_LABEL), name)
    if len(values["unit"] or "") > MAX_UNIT:
        raise QuestionsRefused(_l("Die Einheit hat höchstens %(max)d Zeichen.", max=MAX_UNIT),
                               "unit")
    if values["kind"] == "file":
        types = values["file_types"].split(",") if values["file_types"] else []
        if not types or any(t not in uploads.ALLOWED for t in types):
            raise QuestionsRefused(_l("Bitte geben Sie die erlaubten Dateitypen an, aus: "
                                      "%(types)s.", types=", ".join(uploads.ALLOWED)),
                                   "file_types")
    if values["kind"] in CHOICE_KINDS:
        options = values["options"] or []
        texts = [o["de"] for o in options]
        if len(options) < 2:
            raise QuestionsRefused(_l("Bitte geben Sie mindestens zwei Antwortmöglichkeiten "
                                      "an, eine je Zeile."), "options")
        if len(options) > MAX_OPTIONS:
            raise QuestionsRefused(_l("Höchstens %(n)d Antwortmöglichkeiten.", n=MAX_OPTIONS),
                                   "options")
        if len(set(texts)) != len(texts):
            raise QuestionsRefused(_l("Jede Antwortmöglichkeit darf nur einmal vorkommen."),
                                   "options")
        if any(len(o["de"]) > MAX_OPTION or len(o.get("en") or "") > MAX_OPTION
               for o in options):
            raise QuestionsRefused(_l("Eine Antwortmöglichkeit hat höchstens %(max)d Zeichen.",
                                      max=MAX_OPTION), "options")
    return values


def _lock_set(challenge_id: int | None, challenge=None) -> list[ChallengeQuestion]:
    """Take the set's lock (the challenge's row; the default set: its questions') and read it."""
    if challenge is not None:
        lock(challenge)
    rows = all_of(challenge_id)
    if challenge is None and rows:
        lock(*rows)
    return all_of(challenge_id)


def _renumber(rows) -> None:
    for position, row in enumerate(rows):
        row.position = position


def add(actor, challenge, data: QuestionData) -> ChallengeQuestion:
    """Add a question to `challenge` (None: to the default set)."""
    challenge_id = challenge.id if challenge is not None else None
    rows = _lock_set(challenge_id, challenge)
    if len([r for r in rows if r.retired_at is None]) >= MAX_QUESTIONS:
        raise QuestionsRefused(_l("Höchstens %(n)d Fragen.", n=MAX_QUESTIONS))
    values = check(data)
    row = ChallengeQuestion(challenge_id=challenge_id, position=len(rows), **values)
    db.session.add(row)
    db.session.flush()
    audit.record(actor, "challenge.question_add", challenge, question_id=row.id)
    return row


FROZEN_FIELDS = ("kind", "options", "unit", "required", "file_types")


def update(actor, row: ChallengeQuestion, data: QuestionData) -> None:
    _lock_set(row.challenge_id, row.challenge)
    values = check(data)
    if any(getattr(row, name) != values[name] for name in FROZEN_FIELDS) and frozen(row):
        raise QuestionsRefused(FROZEN)
    for name, value in values.items():
        setattr(row, name, value)
    db.session.flush()
    audit.record(actor, "challenge.question_update", row.challenge, question_id=row.id)


def remove(actor, row: ChallengeQuestion) -> bool:
    """Remove a question: retired when it was answered in a submitted proposal (True), deleted
    with the drafts' answers otherwise (False)."""
    _lock_set(row.challenge_id, row.challenge)
    retired = frozen(row)
    if retired:
        row.retired_at = utcnow()
    else:
        db.session.delete(row)
    db.session.flush()
    _renumber([r for r in all_of(row.challenge_id) if r is not row or retired])
    db.session.flush()
    audit.record(actor, "challenge.question_remove", row.challenge, question_id=row.id,
                 retired=retired)
    return retired


def move(actor, row: ChallengeQuestion, step: int) -> bool:
    """Move a question one place up (-1) or down (+1) among the asked ones; False at an end."""
    _lock_set(row.challenge_id, row.challenge)
    rows = [r for r in all_of(row.challenge_id) if r.retired_at is None]
    i = rows.index(row)
    j = i + step
    if step not in (-1, 1) or not 0 <= j < len(rows):
        return False
    rows[i], rows[j] = rows[j], rows[i]
    _renumber(rows)
    db.session.flush()
    audit.record(actor, "challenge.question_move", row.challenge, question_id=row.id)
    return True
