"""The criteria's rules (innolab.domain.criteria): the weighted total on the scale 1 to 5, the
knock-out minimum, the default five, setting a challenge's criteria and when they are frozen."""
from __future__ import annotations

import pytest

from innolab.domain import criteria
from innolab.domain import review as rv
from innolab.extensions import db
from innolab.models import AuditEvent, ReviewScore
from tests import factories as f

C = criteria.Criterion


def test_the_default_five_give_the_plain_mean():
    scores = {"innovation": 4, "benefit": 3, "feasibility": 5, "cost_effectiveness": 2,
              "privacy_security": 4}
    t = criteria.total(scores, criteria.DEFAULT_CRITERIA)
    assert (t.count, t.of, t.total) == (5, 5, 3.6)


def test_weights_count_and_other_scales_are_put_on_one_to_five():
    a = C(key="a", name="A", weight=3, scale=5)
    b = C(key="b", name="B", weight=1, scale=10)
    # b: 10 of 10 is 5 on the scale 1 to 5, 1 of 10 is 1; (3·2 + 1·5) / 4
    assert criteria.total({"a": 2, "b": 10}, (a, b)).total == 2.75
    assert criteria.total({"a": 2, "b": 1}, (a, b)).total == 1.75  # (3·2 + 1·1) / 4
    assert b.normalised(1) == 1 and b.normalised(10) == 5
    assert round(b.normalised(5), 4) == round(1 + 4 * 4 / 9, 4)


def test_only_valid_scores_count_and_none_gives_no_total():
    a = C(key="a", name="A", weight=2, scale=5)
    b = C(key="b", name="B", weight=1, scale=3)
    t = criteria.total({"a": 6, "b": 3}, (a, b))  # 6 is off a's scale
    assert (t.count, t.of, t.total) == (1, 2, 5.0)
    assert criteria.total({}, (a, b)).total is None
    assert not a.valid(True) and not a.valid("3") and a.valid(5) and not b.valid(4)


def test_knock_out_when_the_mean_is_below_the_minimum():
    ko = C(key="k", name="Datenschutz", scale=5, knockout=3, id=1)
    plain = C(key="p", name="Nutzen", scale=5, id=2)
    assert criteria.below_minimum((ko, plain), {"k": 2.5, "p": 1.0}) == [ko]
    assert criteria.below_minimum((ko, plain), {"k": 3.0, "p": 1.0}) == []  # at it: not below
    assert criteria.below_minimum((ko, plain), {"k": None, "p": 1.0}) == []  # not yet scored


def test_score_labels_name_the_ends_of_other_scales(app_ctx):
    assert C(key="a", name="A", scale=5).score_labels[3] == "3 – befriedigend"
    ten = C(key="b", name="B", scale=10).score_labels
    assert list(ten) == list(range(1, 11))
    assert ten[1] == "1 – ungenügend" and ten[10] == "10 – sehr gut" and ten[5] == "5"


def test_a_challenge_without_own_criteria_and_an_initiative_use_the_default_five(app_ctx):
    c = f.challenge()
    assert criteria.of_challenge(c) == criteria.DEFAULT_CRITERIA
    assert criteria.of_proposal(f.proposal(status="submitted")) == criteria.DEFAULT_CRITERIA
    f.criteria(c, ("Wirkung", 2, 10, 4))
    (own,) = criteria.of_challenge(c)
    assert (own.name, own.weight, own.scale, own.knockout) == ("Wirkung", 2, 10, 4)
    assert own.key == f"c{own.id}" and not own.is_default


@pytest.fixture
def reviewed(app_ctx):
    """A challenge with two own criteria and a proposal to it with an assigned reviewer."""
    c = f.challenge()
    rows = f.criteria(c, ("Wirkung", 3, 5), ("Datenschutz", 1, 10, 6))
    p = f.proposal(status="in_review", challenge_=c)
    coordinator, reviewer = f.staff("coordinator"), f.staff("reviewer")
    rv.assign(p, reviewer, coordinator)
    rv.confirm_no_conflict(p, reviewer)
    db.session.commit()
    return c, rows, p, coordinator, reviewer


def test_a_review_is_scored_on_the_challenge_criteria(reviewed):
    c, (impact, privacy), p, _coordinator, reviewer = reviewed
    with pytest.raises(rv.ReviewRefused):  # 7 is off impact's scale 1..5
        rv.save_review(p, reviewer, scores={f"c{impact.id}": 7}, recommendation=None,
                       comment=None)
    with pytest.raises(rv.ReviewRefused):  # the default five are not asked for here
        rv.save_review(p, reviewer, scores={"innovation": 4}, recommendation="approve",
                       comment=None, submit=True)
    r = rv.save_review(p, reviewer, scores={f"c{impact.id}": 4, f"c{privacy.id}": 3},
                       recommendation="approve", comment=None,
                       comments={f"c{privacy.id}": "Hosting unklar"}, submit=True)
    db.session.commit()
    rows = {row.criterion_id: row for row in db.session.query(ReviewScore)}
    assert rows[impact.id].score == 4 and rows[privacy.id].score == 3
    assert rows[privacy.id].comment == "Hosting unklar" and r.innovation is None
    # (3·4 + 1·(1 + 4·2/9)) / 4
    expected = round((3 * 4 + 1 + 4 * 2 / 9) / 4, 2)
    assert criteria.review_total(r, criteria.of_proposal(p)) == expected
    stats = rv.review_stats_of([p.id])[p.id]
    assert stats.counted == 1 and stats.average == expected  # the same total in SQL
    # privacy's mean 3 is below its minimum 6: knocked out, in the inbox's query too
    (below,) = criteria.knockouts_of([p])[p.id]
    assert below.id == privacy.id


def test_criteria_are_frozen_once_a_review_was_submitted_even_if_reopened(reviewed):
    c, (impact, privacy), p, coordinator, reviewer = reviewed
    data = criteria.CriterionData(name_de="Neu", weight=1, scale_max=5)
    assert not criteria.frozen(c)
    rv.save_review(p, reviewer, scores={f"c{impact.id}": 4, f"c{privacy.id}": 8},
                   recommendation="approve", comment=None, submit=True)
    db.session.commit()
    rv.reopen_review(p, reviewer)
    db.session.commit()
    assert criteria.frozen(c)
    with pytest.raises(criteria.CriteriaRefused):
        criteria.add(coordinator, c, data)
    with pytest.raises(criteria.CriteriaRefused):
        criteria.remove(coordinator, impact)
    with pytest.raises(criteria.CriteriaRefused):
        criteria.update(coordinator, impact, criteria.CriterionData(
            name_de="Wirkung", weight=2, scale_max=5))
    db.session.rollback()
    # the name and the order stay editable
    criteria.update(coordinator, impact, criteria.CriterionData(
        name_de="Wirkung für die Verwaltung", weight=3, scale_max=5))
    assert criteria.move(coordinator, impact, 1)
    db.session.commit()
    assert [row.name_de for row in c.criteria] == ["Datenschutz", "Wirkung für die Verwaltung"]


def test_setting_criteria_checks_each_and_records_it(app_ctx):
    c, coordinator = f.challenge(), f.staff("coordinator")
    criteria.customise(coordinator, c)
    db.session.commit()
    assert [row.name_de for row in c.criteria][:2] == ["Innovationsgrad",
                                                        "Nutzen für die Verwaltung"]
    assert c.criteria[0].name_en == "Degree of innovation"  # from the English catalogue
    for bad in (criteria.CriterionData(name_de="  ", weight=1, scale_max=5),
                criteria.CriterionData(name_de="X", weight=0, scale_max=5),
                criteria.CriterionData(name_de="X", weight=1, scale_max=11),
                criteria.CriterionData(name_de="X", weight=1, scale_max=5, knockout_min=6)):
        with pytest.raises(criteria.CriteriaRefused):
            criteria.add(coordinator, c, bad)
    row = criteria.add(coordinator, c, criteria.CriterionData(
        name_de="  Barrierefreiheit ", weight=2, scale_max=10, knockout_min=5))
    db.session.commit()
    assert (row.name_de, row.position, row.knockout_min) == ("Barrierefreiheit", 5, 5)
    assert not criteria.move(coordinator, row, 1)  # the last one cannot go down
    criteria.remove(coordinator, c.criteria[0])
    db.session.commit()
    assert [r.position for r in c.criteria] == list(range(5))
    actions = {e.action for e in db.session.query(AuditEvent)}
    assert {"challenge.criteria_customise", "challenge.criterion_add",
            "challenge.criterion_remove"} <= actions
