"""Scores (§6): factor arithmetic on hand-computed data, weight versions, eligibility from the legal tally,
scoping."""
from decimal import Decimal

import pytest
from sqlalchemy import select
from werkzeug.exceptions import Forbidden, NotFound

from portal.accounts.models import Role
from portal.audit.models import Event
from portal.core.errors import ServiceError
from portal.extensions import db
from portal.projects import scoring
from portal.projects.models import DEFAULT_WEIGHTS, ProjectScore, ProjectStatus, WeightSet
from portal.surveys.models import MatterType, QuestionKind
from tests.helpers import make_estate, make_user
from tests.projects.builders import make_project
from tests.projects.scoring_builders import AS_OF, NO, YES, owners, three_projects, vote
from tests.surveys.builders import make_survey


@pytest.fixture
def world(app):
    return three_projects()


@pytest.fixture
def admin(app):
    return make_user(Role.district_admin)


def by_name(rows):
    return {r.project.name: r for r in rows}


def test_default_weights_are_version_one_created_once(app):
    first = scoring.current_weight_set()
    assert (first.version, first.weights) == (1, DEFAULT_WEIGHTS)
    assert scoring.current_weight_set().id == first.id
    assert db.session.query(WeightSet).count() == 1


def test_totals_match_the_hand_computed_formula(world, admin):
    rows = scoring.rank(admin, as_of=AS_OF)
    assert [r.project.name for r in rows] == ["桂花苑排水改造", "南湖加装电梯", "梧桐里停车改造"]
    assert [r.rank for r in rows] == [1, 2, 3]
    named = by_name(rows)
    p1, p2, p3 = named["桂花苑排水改造"], named["梧桐里停车改造"], named["南湖加装电梯"]
    # demand 1.5 / 0.75 / 0.5 → scaled by 1.5
    assert p1.factor("demand").raw == pytest.approx(1.5)
    assert p2.factor("demand").maximum == pytest.approx(1.5)
    assert [p.factor("demand").scaled for p in (p1, p2, p3)] == pytest.approx([1, 0.5, 1 / 3])
    # urgency 1/3 / 0 / 1/2 → scaled by 0.5
    assert [p.factor("urgency").scaled for p in (p1, p2, p3)] == pytest.approx([2 / 3, 0, 1])
    # cost 1 / 4 / 0.5 households per 万元 → scaled by 4
    assert [p.factor("cost").raw for p in (p1, p2, p3)] == pytest.approx([1, 4, 0.5])
    assert [p.factor("cost").scaled for p in (p1, p2, p3)] == pytest.approx([0.25, 1, 0.125])
    assert [p.factor("category").scaled for p in (p1, p2, p3)] == pytest.approx([1, 0.6, 0.3])
    assert all(p.factor("support").raw == 0.5 and p.factor("support").scaled == 1 for p in (p1, p2, p3))
    # 100 × (0.35·1 + 0.2·1 + 0.2·2/3 + 0.15·1 + 0.1·0.25)
    assert p1.total == pytest.approx(85.8333333)
    assert p2.total == pytest.approx(56.5)  # 100 × (0.35·0.5 + 0.2 + 0 + 0.15·0.6 + 0.1·1)
    assert p3.total == pytest.approx(57.4166667)  # 100 × (0.35/3 + 0.2 + 0.2 + 0.15·0.3 + 0.1·0.125)
    assert sum(f.points for f in p1.factors) == pytest.approx(p1.total)
    assert p1.urgent_basic and not p2.urgent_basic and not p3.urgent_basic
    assert all(r.eligible and r.eligibility_note == "未关联意愿调查" for r in rows)
    assert all(r.weight_set_version == 1 for r in rows)


def test_as_dict_is_json_ready(world, admin):
    import json

    row = scoring.explain(admin, world["p1"], as_of=AS_OF)
    data = json.loads(json.dumps(row.as_dict()))
    assert data["total"] == 85.83 and data["rank"] == 1 and data["weight_set_version"] == 1
    assert [f["code"] for f in data["factors"]] == ["demand", "support", "urgency", "category", "cost"]
    assert data["factors"][0]["raw"] == 1.5 and data["factors"][0]["maximum"] == 1.5
    assert data["cost_wan"] == "100.00" and data["estates"][0]["name"] == "桂花苑"


def test_all_maxima_zero_scale_to_zero(app, admin):
    estate = make_estate(household_count=100)
    project = make_project([estate], ["gas"], cost_wan="0", households_covered=0)
    row = scoring.explain(admin, project, as_of=AS_OF)
    assert row.factor("demand").scaled == 0 and row.factor("urgency").scaled == 0 and row.factor("cost").scaled == 0
    assert row.total == pytest.approx(100 * (0.2 * 1 + 0.15 * 1))  # support 0.5/0.5 and category 1/1


def test_only_proposed_and_approved_projects_are_candidates(world, admin):
    world["p2"].status = ProjectStatus.in_progress
    db.session.commit()
    rows = scoring.rank(admin, as_of=AS_OF)
    assert {r.project.name for r in rows} == {"桂花苑排水改造", "南湖加装电梯"}
    # cost is now scaled by P1's 1.0, not P2's 4
    assert by_name(rows)["桂花苑排水改造"].factor("cost").scaled == pytest.approx(1)
    outside = scoring.explain(admin, world["p2"], as_of=AS_OF)
    assert outside.rank is None and not outside.candidate
    assert outside.factor("cost").scaled == pytest.approx(1)  # scaled together with the candidates


def test_filters_category_status_street(world, admin):
    assert [r.project.name for r in scoring.rank(admin, category="improve", as_of=AS_OF)] == ["梧桐里停车改造"]
    assert [r.rank for r in scoring.rank(admin, street_id=world["south"].id, as_of=AS_OF)] == [2]
    assert len(scoring.rank(admin, status="proposed", as_of=AS_OF)) == 3
    assert scoring.rank(admin, status="approved", as_of=AS_OF) == []
    with pytest.raises(ServiceError):
        scoring.rank(admin, category="luxury")
    with pytest.raises(ServiceError):
        scoring.rank(admin, status="completed")
    with pytest.raises(ServiceError):
        scoring.rank(admin, street_id="abc")
    assert [r.rank for r in scoring.rank(admin, street_id=str(world["south"].id), as_of=AS_OF)] == [2]


def test_weight_change_makes_a_new_version_and_reranks(world, admin):
    before = scoring.rank(admin, as_of=AS_OF)
    scoring.record_scores(before)
    new = scoring.save_weights(admin, {"demand": 0.1, "support": 0, "urgency": 0, "category": 0, "cost": 0.9},
                               "侧重投资效益")
    assert new.version == 2 and scoring.current_weight_set().id == new.id
    rows = scoring.rank(admin, as_of=AS_OF)
    assert [r.project.name for r in rows] == ["梧桐里停车改造", "桂花苑排水改造", "南湖加装电梯"]
    named = by_name(rows)
    assert named["梧桐里停车改造"].total == pytest.approx(95)  # 0.1·0.5 + 0.9·1
    assert named["桂花苑排水改造"].total == pytest.approx(32.5)  # 0.1·1 + 0.9·0.25
    assert named["南湖加装电梯"].total == pytest.approx(14.5833333)  # 0.1/3 + 0.9·0.125
    assert all(r.weight_set_version == 2 for r in rows)
    # Every stored score names its weight set; the old set's scores stay as they were.
    stored = {(s.project.name, s.weight_set.version): s.total for s in db.session.scalars(select(ProjectScore))}
    assert stored[("桂花苑排水改造", 1)] == pytest.approx(85.8333, abs=1e-3)
    assert stored[("桂花苑排水改造", 2)] == pytest.approx(32.5)
    assert stored[("梧桐里停车改造", 2)] == pytest.approx(95)
    event = db.session.scalar(select(Event).where(Event.action == "project.weights.update"))
    assert event.after["version"] == 2 and event.note == "侧重投资效益"


@pytest.mark.parametrize("weights, message", [
    ({"demand": 0.5, "support": 0.2, "urgency": 0.2, "category": 0.15, "cost": 0.1}, "之和应为 1（现为 1.150）"),
    ({"demand": 0.35, "support": 0.2, "urgency": 0.2, "category": 0.15}, "请填写「投资效益」的权重"),
    ({"demand": "abc", "support": 0.2, "urgency": 0.2, "category": 0.15, "cost": 0.1}, "「需求强度」的权重应为 0 到 1"),
    ({"demand": 1.2, "support": -0.2, "urgency": 0, "category": 0, "cost": 0}, "应在 0 到 1 之间"),
    ({"demand": float("nan"), "support": 0.2, "urgency": 0.2, "category": 0.15, "cost": 0.1}, "应在 0 到 1 之间"),
    ({**DEFAULT_WEIGHTS, "beauty": 0}, "未知的评分因素"),
])
def test_bad_weights_are_refused_whole(app, admin, weights, message):
    scoring.current_weight_set()
    with pytest.raises(ServiceError) as refused:
        scoring.save_weights(admin, weights, "")
    assert message in refused.value.message
    assert db.session.query(WeightSet).count() == 1


def test_weights_within_tolerance_are_accepted(app, admin):
    saved = scoring.save_weights(admin, {"demand": 0.3505, "support": 0.2, "urgency": 0.2, "category": 0.15,
                                         "cost": 0.1}, "")
    assert saved.version == 2


def test_only_district_admin_saves_weights(app):
    staff = make_user(Role.street_staff)
    with pytest.raises(Forbidden):
        scoring.save_weights(staff, dict(DEFAULT_WEIGHTS), "")


# --- eligibility -------------------------------------------------------------------------------------

@pytest.fixture
def voting(world):
    """P1's estate gets a roster of 4 owners (80 m² each) and a major-matter consent survey linked to P1."""
    flats = owners(world["a"], 4)
    survey = make_survey([world["a"]], title="桂花苑排水改造意愿调查", matter=MatterType.major)
    world["p1"].consent_survey_id = survey.id
    db.session.commit()
    return {**world, "flats": flats, "survey": survey}


def test_passing_tally_is_eligible_and_sets_support(voting, admin):
    for flat, choice in zip(voting["flats"], (YES, YES, YES, NO)):
        vote(voting["survey"], flat, choice)
    row = scoring.explain(admin, voting["p1"], as_of=AS_OF)
    assert row.eligible and row.ineligible_reason == ""
    assert "表决通过" in row.eligibility_note
    support = row.factor("support")
    assert support.raw == pytest.approx(0.75) and support.maximum == pytest.approx(0.75) and support.scaled == 1
    assert "3/4 位参与表决业主同意" in support.note
    other = scoring.explain(admin, voting["p2"], as_of=AS_OF)
    assert other.factor("support").scaled == pytest.approx(0.5 / 0.75)


def test_failing_approval_is_not_eligible_with_the_figures(voting, admin):
    for flat, choice in zip(voting["flats"], (YES, YES, NO, NO)):
        vote(voting["survey"], flat, choice)
    row = scoring.explain(admin, voting["p1"], as_of=AS_OF)
    assert not row.eligible and row.eligibility_note == "不具备实施条件"
    assert "桂花苑排水改造意愿调查" in row.ineligible_reason
    assert "同意业主 2/4 人（50.00%，需≥3/4）" in row.ineligible_reason
    assert "同意面积 160.00/320.00 m²" in row.ineligible_reason
    assert "参与表决" not in row.ineligible_reason  # participation itself was fine
    assert row.factor("support").raw == pytest.approx(0.5)


def test_failing_participation_is_not_eligible(voting, admin):
    for flat in voting["flats"][:2]:
        vote(voting["survey"], flat, YES)
    row = scoring.explain(admin, voting["p1"], as_of=AS_OF)
    assert not row.eligible
    assert "参与表决业主 2/4 人（50.00%，需≥2/3）" in row.ineligible_reason
    assert "参与表决专有面积 160.00/320.00 m²" in row.ineligible_reason


def test_survey_without_roster_or_consent_question_is_not_eligible(world, admin):
    survey = make_survey([world["b"]], title="梧桐里调查")  # 梧桐里 has no roster
    world["p2"].consent_survey_id = survey.id
    no_consent = make_survey([world["c"]], title="南湖问卷", questions=[
        {"kind": QuestionKind.text, "text": "意见建议", "required": False}])
    world["p3"].consent_survey_id = no_consent.id
    db.session.commit()
    named = by_name(scoring.rank(admin, as_of=AS_OF))
    assert not named["梧桐里停车改造"].eligible and "无住户名册" in named["梧桐里停车改造"].ineligible_reason
    assert not named["南湖加装电梯"].eligible and "没有表决题" in named["南湖加装电梯"].ineligible_reason
    assert named["梧桐里停车改造"].factor("support").raw == 0.5  # nobody voted: neutral


# --- scoping -----------------------------------------------------------------------------------------

def test_street_staff_see_own_rows_with_district_scaling(world):
    staff = make_user(Role.street_staff, street=world["north"])
    rows = scoring.rank(staff, as_of=AS_OF)
    assert [(r.project.name, r.rank) for r in rows] == [("桂花苑排水改造", 1), ("梧桐里停车改造", 3)]
    assert by_name(rows)["桂花苑排水改造"].factor("urgency").maximum == pytest.approx(0.5)  # P3's, south street
    assert scoring.rank(staff, street_id=world["south"].id) == []
    with pytest.raises(NotFound):
        scoring.explain(staff, world["p3"], as_of=AS_OF)


def test_record_scores_writes_only_changes_and_recompute_logs(world, admin):
    rows = scoring.rank(admin, as_of=AS_OF)
    assert scoring.record_scores(rows) == 3
    assert scoring.record_scores(scoring.rank(admin, as_of=AS_OF)) == 0
    world["p2"].cost_wan = Decimal("25")
    db.session.commit()
    assert scoring.record_scores(scoring.rank(admin, as_of=AS_OF)) >= 1
    scoring.recompute(admin, as_of=AS_OF)
    assert db.session.scalar(select(Event).where(Event.action == "project.scores.recompute")) is not None
    assert db.session.query(ProjectScore).count() == 3
