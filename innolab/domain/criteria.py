"""Review criteria: the default five or a challenge's own; the weighted total; the knock-out.

A challenge may set its own criteria (name, description, weight, scale, an optional knock-out
minimum). They are published with it and score every review of a proposal to it. A proposal
without a challenge, or to a challenge without criteria of its own, is scored on the default
five (`models.CRITERIA`), each on the scale 1 to 5 with weight 1.

Where the scores live: the default five in their columns on `reviews`, a challenge's own
criteria in `review_scores` rows. Each score has one place, decided by its criterion; a
review's `scores` reads both under the criterion's `key` ("innovation" …, "c<id>").

The total of a review is the weighted mean of its scores, each first put on the common scale
1 to 5 (`normalised`): a score s on the scale 1..m counts as 1 + 4·(s−1)/(m−1). With the
default five (all 1..5, weight 1) it is the plain mean. The total of a proposal is the mean
of the totals of the reviews that count (`states.counting_reviews`); `review_totals` is the
same per review in SQL (the inbox sorts by it).

Knock-out: a proposal is below the minimum on a criterion when the mean of that criterion's
scores in the reviews that count is below the criterion's `knockout_min`.

Frozen: once a review of a proposal to the challenge has been submitted (even if reopened
since), its criteria can no longer be added, removed, re-weighted or re-scaled, nor their
minimum changed; names, descriptions and the order stay editable.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask_babel import force_locale
from sqlalchemy import Float, and_, cast, exists, func, or_, select

from ..extensions import db
from ..i18n import Localized, lazy_gettext as _l, localized, page_locale
from ..models import (
    CRITERIA, Challenge, ChallengeCriterion, Proposal, Review, ReviewAssignment, ReviewScore,
    TimelineEntry,
)
from . import DomainError, audit
from .locking import lock

CRITERION_LABELS = {
    "innovation": _l("Innovationsgrad"),
    "benefit": _l("Nutzen für die Verwaltung"),
    "feasibility": _l("Umsetzbarkeit"),
    "cost_effectiveness": _l("Wirtschaftlichkeit"),
    "privacy_security": _l("Reife für Datenschutz und Informationssicherheit"),
}
# What each criterion asks (shown with it on the review form).
CRITERION_DESCRIPTIONS = {
    "innovation": _l("Wie neu ist der Ansatz für die Verwaltung? Gibt es vergleichbare Lösungen "
                     "schon, und was geht darüber hinaus?"),
    "benefit": _l("Welches Problem der Verwaltung löst der Vorschlag, für wen, und wie groß ist "
                  "der Gewinn an Zeit, Qualität oder Bürgernähe?"),
    "feasibility": _l("Lässt sich der Pilot mit dem beschriebenen Reifegrad, Team und Zeitplan "
                      "realistisch umsetzen?"),
    "cost_effectiveness": _l("Stehen die geschätzten Kosten in einem angemessenen Verhältnis "
                             "zum erwarteten Nutzen, auch für einen späteren Betrieb?"),
    "privacy_security": _l("Sind Datenschutz, Hosting und Informationssicherheit schlüssig "
                           "beschrieben und für einen Piloten ausreichend vorbereitet?"),
}
assert set(CRITERION_LABELS) == set(CRITERIA) == set(CRITERION_DESCRIPTIONS)

# The words of the scale 1 to 5; other scales name their ends only.
SCORE_LABELS = {
    1: _l("1 – ungenügend"),
    2: _l("2 – schwach"),
    3: _l("3 – befriedigend"),
    4: _l("4 – gut"),
    5: _l("5 – sehr gut"),
}

DEFAULT_SCALE = 5
COMMON_SCALE = 5  # totals are given on the scale 1 to 5
SCALES = tuple(range(2, 11))  # a criterion is scored 1..scale_max, scale_max one of these
MAX_WEIGHT = 10
MAX_CRITERIA = 12


class CriteriaRefused(DomainError):
    pass


FROZEN = _l("Zu dieser Herausforderung wurde bereits ein Gutachten abgeschlossen. Ihre "
            "Kriterien können deshalb nicht mehr hinzugefügt, entfernt oder anders gewichtet "
            "werden; Namen, Beschreibungen und die Reihenfolge können Sie noch ändern.")


@dataclass(frozen=True)
class Criterion:
    """One criterion as a review is scored on it; `key` names its score (Review.scores)."""

    key: str
    name: str
    name_en: str | None = None
    description: str | None = None
    description_en: str | None = None
    weight: int = 1
    scale: int = DEFAULT_SCALE
    knockout: int | None = None
    id: int | None = None  # the ChallengeCriterion; None for the default five

    @property
    def is_default(self) -> bool:
        return self.id is None

    @property
    def label(self) -> Localized:
        """The name in the page's language (a challenge's own: German unless written in
        English, marked)."""
        if self.is_default:
            return Localized(str(CRITERION_LABELS[self.key]), page_locale())
        return localized(self, "name")

    @property
    def explanation(self) -> Localized:
        if self.is_default:
            return Localized(str(CRITERION_DESCRIPTIONS[self.key]), page_locale())
        return localized(self, "description")

    @property
    def score_labels(self) -> dict[int, str]:
        """The choices 1..scale: the words of the scale 1 to 5, else its ends named."""
        if self.scale == DEFAULT_SCALE:
            return {n: str(text) for n, text in SCORE_LABELS.items()}
        labels = {n: str(n) for n in range(1, self.scale + 1)}
        labels[1] = str(_l("%(n)d – ungenügend", n=1))
        labels[self.scale] = str(_l("%(n)d – sehr gut", n=self.scale))
        return labels

    def valid(self, score) -> bool:
        return isinstance(score, int) and not isinstance(score, bool) and \
            1 <= score <= self.scale

    def normalised(self, score: int) -> float:
        """`score` on the common scale 1 to 5."""
        return 1 + (COMMON_SCALE - 1) * (score - 1) / (self.scale - 1)


def _default(key: str) -> Criterion:
    return Criterion(key=key, name=key)


DEFAULT_CRITERIA: tuple[Criterion, ...] = tuple(_default(key) for key in CRITERIA)


def key_of(row: ChallengeCriterion) -> str:
    return f"c{row.id}"


def of_row(row: ChallengeCriterion) -> Criterion:
    return Criterion(key=key_of(row), name=row.name_de, name_en=row.name_en,
                     description=row.description_de, description_en=row.description_en,
                     weight=row.weight, scale=row.scale_max, knockout=row.knockout_min,
                     id=row.id)


def of_challenge(c: Challenge | None) -> tuple[Criterion, ...]:
    """The criteria reviews of proposals to `c` are scored on (None: an initiative proposal)."""
    if c is None or not c.criteria:
        return DEFAULT_CRITERIA
    return tuple(of_row(row) for row in c.criteria)


def of_proposal(p: Proposal) -> tuple[Criterion, ...]:
    return of_challenge(p.challenge)


# ---------------------------------------------------------------- totals and knock-out


@dataclass(frozen=True)
class ScoreTotal:
    """The weighted total of the scores given so far (the review form shows it)."""

    count: int  # criteria scored
    of: int  # criteria in all
    total: float | None  # weighted mean on the scale 1 to 5


def total(scores: dict, criteria) -> ScoreTotal:
    """The weighted mean of the valid scores in `scores` (key -> score), on the scale 1 to 5."""
    criteria = tuple(criteria)
    given = [(c, scores.get(c.key)) for c in criteria if c.valid(scores.get(c.key))]
    weights = sum(c.weight for c, _s in given)
    value = (round(sum(c.weight * c.normalised(s) for c, s in given) / weights, 2)
             if weights else None)
    return ScoreTotal(len(given), len(criteria), value)


def review_total(review: Review, criteria) -> float | None:
    return total(review.scores, criteria).total


def averages(reviews, criteria) -> dict[str, float | None]:
    """Per criterion key the mean of the reviews' scores on it (on its own scale), and
    "overall": the mean of the reviews' weighted totals."""
    result: dict[str, float | None] = {}
    for c in criteria:
        values = [r.scores.get(c.key) for r in reviews if c.valid(r.scores.get(c.key))]
        result[c.key] = round(sum(values) / len(values), 2) if values else None
    totals = [t for t in (review_total(r, criteria) for r in reviews) if t is not None]
    result["overall"] = round(sum(totals) / len(totals), 2) if totals else None
    return result


def below_minimum(criteria, means: dict) -> list[Criterion]:
    """The knock-out criteria whose mean score is below their minimum."""
    return [c for c in criteria
            if c.knockout is not None and means.get(c.key) is not None
            and means[c.key] < c.knockout]


def review_totals():
    """Per review with scores on a challenge's own criteria, its weighted total (`total`) in
    SQL, as a subquery; the reviews on the default five have none here (their total is the
    plain mean of the five columns)."""
    normalised = (1 + (COMMON_SCALE - 1) * cast(ReviewScore.score - 1, Float)
                  / (ChallengeCriterion.scale_max - 1))
    return (select(ReviewScore.review_id.label("review_id"),
                   (func.sum(ChallengeCriterion.weight * normalised)
                    / func.sum(ChallengeCriterion.weight)).label("total"))
            .join(ChallengeCriterion, ChallengeCriterion.id == ReviewScore.criterion_id)
            .where(ReviewScore.score.is_not(None))
            .group_by(ReviewScore.review_id)
            .subquery("review_totals"))


def knockouts_of(proposals) -> dict[int, list[Criterion]]:
    """For a page of proposals, the knock-out criteria each is below the minimum on (one
    query for the means on knock-out criteria; the rule is `below_minimum`; the criteria are
    loaded only for a proposal that has such means)."""
    proposals = list(proposals)
    ids = [p.id for p in proposals if p.challenge_id is not None]
    if not ids:
        return {}
    rows = db.session.execute(
        select(Review.proposal_id, ReviewScore.criterion_id, func.avg(ReviewScore.score))
        .join(ReviewScore, ReviewScore.review_id == Review.id)
        .join(ChallengeCriterion, and_(ChallengeCriterion.id == ReviewScore.criterion_id,
                                       ChallengeCriterion.knockout_min.is_not(None)))
        .join(ReviewAssignment, and_(ReviewAssignment.proposal_id == Review.proposal_id,
                                     ReviewAssignment.reviewer_id == Review.reviewer_id,
                                     ReviewAssignment.conflict_declared_at.is_(None)))
        .where(Review.proposal_id.in_(ids), Review.submitted_at.is_not(None),
               ReviewScore.score.is_not(None))
        .group_by(Review.proposal_id, ReviewScore.criterion_id)).all()
    means: dict[int, dict[str, float]] = {}
    for proposal_id, criterion_id, mean in rows:
        means.setdefault(proposal_id, {})[f"c{criterion_id}"] = float(mean)
    result = {}
    for p in proposals:
        if p.id in means:
            below = below_minimum(of_proposal(p), means[p.id])
            if below:
                result[p.id] = below
    return result


# ---------------------------------------------------------------- setting a challenge's criteria


def frozen(c: Challenge) -> bool:
    """A review of a proposal to `c` is or was submitted (a reopened one was too)."""
    submitted = exists().where(Review.proposal_id == Proposal.id,
                               Review.submitted_at.is_not(None))
    recorded = exists().where(TimelineEntry.proposal_id == Proposal.id,
                              TimelineEntry.action == "review_submitted")
    return bool(db.session.execute(
        select(exists().where(Proposal.challenge_id == c.id, or_(submitted, recorded)))
    ).scalar())


@dataclass
class CriterionData:
    name_de: str
    weight: int
    scale_max: int
    name_en: str | None = None
    description_de: str | None = None
    description_en: str | None = None
    knockout_min: int | None = None

    def cleaned(self) -> dict:
        def text(value):
            return (value or "").strip() or None
        return {"name_de": " ".join((self.name_de or "").split()),
                "name_en": " ".join((self.name_en or "").split()) or None,
                "description_de": text(self.description_de),
                "description_en": text(self.description_en),
                "weight": self.weight, "scale_max": self.scale_max,
                "knockout_min": self.knockout_min}


def check(data: CriterionData) -> None:
    """The rules of one criterion (the form shows the same at its fields)."""
    if not data.cleaned()["name_de"]:
        raise CriteriaRefused(_l("Bitte geben Sie einen Namen ein."))
    if data.weight is None or not 1 <= data.weight <= MAX_WEIGHT:
        raise CriteriaRefused(_l("Die Gewichtung ist eine ganze Zahl von 1 bis %(max)d.",
                                 max=MAX_WEIGHT))
    if data.scale_max not in SCALES:
        raise CriteriaRefused(_l("Die Skala reicht von 1 bis zu einer Zahl von %(low)d bis "
                                 "%(high)d.", low=SCALES[0], high=SCALES[-1]))
    if data.knockout_min is not None and not 2 <= data.knockout_min <= data.scale_max:
        raise CriteriaRefused(_l("Der Mindestwert liegt zwischen 2 und dem Höchstwert der "
                                 "Skala (%(max)d).", max=data.scale_max))


def customise(actor, c: Challenge) -> None:
    """Start the challenge's own criteria from the default five (German and English names)."""
    lock(c)
    if c.criteria:
        raise CriteriaRefused(_l("Die Herausforderung hat bereits eigene Kriterien."))
    if frozen(c):
        raise CriteriaRefused(FROZEN)
    for position, key in enumerate(CRITERIA):
        with force_locale("en"):
            name_en, description_en = (str(CRITERION_LABELS[key]),
                                       str(CRITERION_DESCRIPTIONS[key]))
        with force_locale("de"):
            name_de, description_de = (str(CRITERION_LABELS[key]),
                                       str(CRITERION_DESCRIPTIONS[key]))
        c.criteria.append(ChallengeCriterion(
            position=position, name_de=name_de, name_en=name_en, description_de=description_de,
            description_en=description_en, weight=1, scale_max=DEFAULT_SCALE))
    db.session.flush()
    audit.record(actor, "challenge.criteria_customise", c)


def add(actor, c: Challenge, data: CriterionData) -> ChallengeCriterion:
    lock(c)
    if frozen(c):
        raise CriteriaRefused(FROZEN)
    if len(c.criteria) >= MAX_CRITERIA:
        raise CriteriaRefused(_l("Eine Herausforderung hat höchstens %(n)d Kriterien.",
                                 n=MAX_CRITERIA))
    check(data)
    row = ChallengeCriterion(position=len(c.criteria), **data.cleaned())
    c.criteria.append(row)
    db.session.flush()
    audit.record(actor, "challenge.criterion_add", c, criterion_id=row.id)
    return row


def update(actor, row: ChallengeCriterion, data: CriterionData) -> None:
    c = row.challenge
    lock(c)
    check(data)
    values = data.cleaned()
    weighing = ("weight", "scale_max", "knockout_min")
    if any(getattr(row, name) != values[name] for name in weighing) and frozen(c):
        raise CriteriaRefused(FROZEN)
    for name, value in values.items():
        setattr(row, name, value)
    db.session.flush()
    audit.record(actor, "challenge.criterion_update", c, criterion_id=row.id)


def remove(actor, row: ChallengeCriterion) -> None:
    """Remove a criterion (the drafts' scores on it go with it); removing the last one returns
    the challenge to the default five."""
    c = row.challenge
    lock(c)
    if frozen(c):
        raise CriteriaRefused(FROZEN)
    c.criteria.remove(row)
    for position, other in enumerate(c.criteria):
        other.position = position
    db.session.flush()
    audit.record(actor, "challenge.criterion_remove", c, criterion_id=row.id)


def move(actor, row: ChallengeCriterion, step: int) -> bool:
    """Move a criterion one place up (-1) or down (+1); False at either end."""
    c = row.challenge
    lock(c)
    rows = list(c.criteria)
    i = rows.index(row)
    j = i + step
    if step not in (-1, 1) or not 0 <= j < len(rows):
        return False
    rows[i], rows[j] = rows[j], rows[i]
    for position, other in enumerate(rows):
        other.position = position
    db.session.flush()
    db.session.expire(c, ["criteria"])
    audit.record(actor, "challenge.criterion_move", c, criterion_id=row.id)
    return True
