"""The annual plan: exact knapsack (against brute force), urgent basic projects first, budget edges, the
reason given for every project left out, scoping."""
import itertools
import random
from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest

from portal.accounts.models import Role
from portal.core.errors import ServiceError
from portal.extensions import db
from portal.projects import plan as annual, scoring
from portal.projects.models import ProjectCategory, ProjectStatus
from portal.surveys.models import MatterType
from tests.helpers import make_user
from tests.projects.scoring_builders import AS_OF, NO, YES, owners, three_projects, vote
from tests.surveys.builders import make_survey


def brute_force(items, capacity):
    """Every subset; the best by (score, then cheaper, then the better-ranked project where they differ).
    Items that score 0 are never chosen (they add nothing)."""
    n = len(items)
    best = None
    for size in range(n + 1):
        for subset in itertools.combinations(range(n), size):
            if any(items[i][1] <= 0 for i in subset):
                continue
            cost = sum(items[i][0] for i in subset)
            if cost > capacity:
                continue
            score = sum(items[i][1] for i in subset)
            mask = sum(1 << (n - 1 - i) for i in subset)
            key = (score, -cost, mask)
            if best is None or key > best[0]:
                best = (key, list(subset))
    return best[1]


@pytest.mark.parametrize("seed", range(8))
def test_knapsack_equals_brute_force_on_random_small_cases(seed):
    rng = random.Random(seed)
    for _ in range(60):
        n = rng.randint(0, 11)
        tight = rng.random() < 0.4  # few distinct values: many ties
        items = [(rng.randint(0, 40) * 25 if tight else rng.randint(1, 500_00),
                  rng.randint(0, 4) * 1000 if tight else rng.randint(0, 1_000_000)) for _ in range(n)]
        capacity = rng.randint(0, max(sum(c for c, _ in items), 1))
        chosen = annual.knapsack(items, capacity)
        assert chosen == brute_force(items, capacity), (items, capacity)
        assert sum(items[i][0] for i in chosen) <= capacity


def test_knapsack_takes_the_combination_over_the_single_best():
    # 60 points for 60, or 35 + 35 = 70 for 50 + 50, budget 100
    assert annual.knapsack([(60_00, 60), (50_00, 35), (50_00, 35)], 100_00) == [1, 2]


def test_knapsack_does_not_grow_with_the_budget():
    items = [(123_45 * (i + 1), 1000 + i) for i in range(30)]
    chosen = annual.knapsack(items, 10 ** 12)  # a budget of 10 亿万元 in cents: no array that big is made
    assert chosen == list(range(30))


# --- the plan on fixed scores ---------------------------------------------------------------------------

def fake(pid, total, cost, *, urgent=False, eligible=True, reason="", category=ProjectCategory.improve):
    project = SimpleNamespace(id=pid, name=f"项目{pid:02d}", cost_wan=Decimal(cost), category=category,
                              status=ProjectStatus.proposed, street_id=1, street=SimpleNamespace(name="北街道"),
                              households_covered=100, estates=[], themes=["drainage"])
    return scoring.RankedProject(project=project, rank=None, total=total, factors=[], eligible=eligible,
                                 ineligible_reason=reason, weight_set_version=1, urgent_basic=urgent,
                                 as_of=AS_OF)


@pytest.fixture
def ranked(app, monkeypatch):
    rows: list = []

    def fake_rank(user, **kwargs):
        ordered = sorted(rows, key=scoring.rank_order)
        for position, row in enumerate(ordered, start=1):
            row.rank = position
        return ordered

    monkeypatch.setattr(scoring, "rank", fake_rank)
    return rows


@pytest.fixture
def admin(app):
    return make_user(Role.district_admin)


def names(items):
    return [i.project.name for i in items]


def reasons(plan):
    return {i.project.name: i.reason for i in plan.left_out}


def test_urgent_basic_projects_go_first_even_against_a_better_combination(ranked, admin):
    ranked += [fake(1, 40, "60", urgent=True, category=ProjectCategory.basic), fake(2, 50, "50"), fake(3, 45, "50")]
    plan = annual.annual_plan(admin, Decimal("100"))
    assert names(plan.chosen) == ["项目01"]  # a pure knapsack would take 02 + 03 (95 points)
    assert plan.chosen[0].urgent_first and plan.chosen[0].reason == annual.REASON_URGENT_FIRST
    assert reasons(plan)["项目02"] == "超出剩余预算（需 50.00 万元，可用 40.00 万元）"
    assert (plan.total_cost, plan.budget_left) == (Decimal("60.00"), Decimal("40.00"))


def test_urgent_basic_taken_in_score_order_while_they_fit(ranked, admin):
    ranked += [fake(1, 60, "80", urgent=True), fake(2, 50, "30", urgent=True), fake(3, 30, "20", urgent=True),
               fake(4, 99, "1")]
    plan = annual.annual_plan(admin, Decimal("100"))
    assert names(plan.chosen) == ["项目01", "项目03"]
    assert reasons(plan)["项目02"] == "超出剩余预算（紧急基础类，需 30.00 万元，剩余 20.00 万元）"
    assert reasons(plan)["项目04"] == "超出剩余预算（需 1.00 万元，可用 0.00 万元）"


def test_left_out_reasons(ranked, admin):
    ranked += [fake(1, 90, "10", eligible=False, reason="意愿调查「X」表决未通过——桂花苑：同意业主 2/4 人"),
               fake(2, 60, "60"), fake(3, 35, "50"), fake(4, 35, "50"), fake(5, 0, "1"), fake(6, 50, "200")]
    plan = annual.annual_plan(admin, Decimal("100"))
    assert names(plan.chosen) == ["项目03", "项目04"]
    why = reasons(plan)
    assert why["项目01"] == "不具备实施条件：意愿调查「X」表决未通过——桂花苑：同意业主 2/4 人"
    assert why["项目02"] == "预算内其他组合总分更高（安排后剩余 0.00 万元，不足 60.00 万元）"
    assert why["项目05"] == annual.REASON_ZERO_SCORE
    assert why["项目06"] == "超出剩余预算（需 200.00 万元，可用 100.00 万元）"
    assert plan.total_score == pytest.approx(70)
    data = plan.as_dict()
    assert data["totals"] == {"cost_wan": "100.00", "score": 70, "budget_left_wan": "0.00", "chosen": 2,
                              "left_out": 4}
    assert data["left_out"][0]["plan_reason"].startswith("不具备实施条件")


def test_budget_edges(ranked, admin):
    ranked += [fake(1, 50, "100.01"), fake(2, 10, "0")]
    assert names(annual.annual_plan(admin, Decimal("0")).chosen) == ["项目02"]  # a free project still fits
    assert names(annual.annual_plan(admin, Decimal("100.00")).chosen) == ["项目02"]
    exact = annual.annual_plan(admin, Decimal("100.01"))
    assert names(exact.chosen) == ["项目01", "项目02"] and exact.budget_left == Decimal("0.00")
    ranked.clear()
    empty = annual.annual_plan(admin, Decimal("500"))
    assert (empty.chosen, empty.left_out, empty.budget_left) == ([], [], Decimal("500.00"))


@pytest.mark.parametrize("text, message", [
    ("", "请填写年度预算"), ("abc", "不是金额"), ("-5", "不能为负数"), ("1.005", "最多保留两位小数"),
    ("NaN", "有限"), ("Infinity", "有限"), ("1e20", "过大"),
])
def test_bad_budgets_are_refused_in_chinese(text, message):
    with pytest.raises(ServiceError) as refused:
        annual.parse_budget(text)
    assert message in refused.value.message


def test_budget_forms_that_are_accepted():
    assert annual.parse_budget("1,250.5") == Decimal("1250.50")
    assert annual.parse_budget(" 800万 ") == Decimal("800.00")
    assert annual.parse_budget("800万元") == Decimal("800.00")


# --- on real scores --------------------------------------------------------------------------------------

@pytest.fixture
def world(app):
    return three_projects()


@pytest.mark.parametrize("budget, chosen", [
    ("150", ["桂花苑排水改造", "梧桐里停车改造"]),
    ("99.99", ["梧桐里停车改造"]),
    ("300", ["桂花苑排水改造", "南湖加装电梯"]),
    ("350", ["桂花苑排水改造", "南湖加装电梯", "梧桐里停车改造"]),
])
def test_plan_on_the_hand_computed_world(world, admin, budget, chosen):
    plan = annual.annual_plan(admin, Decimal(budget), as_of=AS_OF)
    assert names(plan.chosen) == chosen
    assert plan.total_cost + plan.budget_left == Decimal(budget)


def test_ineligible_project_is_left_out_with_the_tally(world, admin):
    flats = owners(world["a"], 4)
    survey = make_survey([world["a"]], title="桂花苑排水改造意愿调查", matter=MatterType.major)
    for flat, choice in zip(flats, (YES, NO, NO, NO)):
        vote(survey, flat, choice)
    world["p1"].consent_survey_id = survey.id
    db.session.commit()
    plan = annual.annual_plan(admin, Decimal("1000"), as_of=AS_OF)
    assert "桂花苑排水改造" not in names(plan.chosen)
    assert reasons(plan)["桂花苑排水改造"].startswith("不具备实施条件：意愿调查「桂花苑排水改造意愿调查」表决未通过")


def test_street_staff_plan_only_their_street(world):
    staff = make_user(Role.street_staff, street=world["north"])
    plan = annual.annual_plan(staff, Decimal("1000"), as_of=AS_OF)
    assert sorted(names(plan.chosen)) == ["桂花苑排水改造", "梧桐里停车改造"] and plan.left_out == []
    admin_north = annual.annual_plan(make_user(Role.district_admin), Decimal("1000"), street_id=world["north"].id,
                                     as_of=AS_OF)
    assert names(admin_north.chosen) == names(plan.chosen)
