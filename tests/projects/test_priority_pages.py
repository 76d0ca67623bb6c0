"""The prioritisation pages: ranking, explanation, the records behind a factor, weights, plan and export;
bad query strings, scoping, masking, CSP-safe markup."""
import re
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from portal.accounts.models import Role
from portal.audit.models import Event
from portal.extensions import db
from portal.projects import scoring
from portal.projects.models import ProjectStatus, WeightSet
from portal.surveys.models import MatterType
from tests.helpers import login, make_user
from tests.projects.builders import make_project
from tests.projects.scoring_builders import NO, YES, owners, three_projects, ticket_with_signal, vote
from tests.surveys.builders import make_survey


@pytest.fixture
def world(app):
    """three_projects() as of today (the pages score with today's data), plus a real ticket behind P1."""
    w = three_projects()
    today = scoring.local_today()
    w["ticket"] = ticket_with_signal(w["a"], "drainage", 3, as_of=today, urgent=True)
    w["admin"] = make_user(Role.district_admin)
    w["north_staff"] = make_user(Role.street_staff, street=w["north"])
    return w


def as_user(client, user):
    login(client, user)
    return client


def test_ranking_lists_candidates_with_bars_and_links(client, world):
    html = as_user(client, world["admin"]).get("/projects/ranking").get_data(as_text=True)
    names = re.findall(r'class="score-link">([^<]+)<', html)
    assert set(names) == {"桂花苑排水改造", "梧桐里停车改造", "南湖加装电梯"} and names[0] == "桂花苑排水改造"
    assert html.count("<meter") == 3
    assert f'href="/projects/{world["p1"].id}/score"' in html
    assert "style=" not in html and "<script>" not in html  # CSP: no inline styles or scripts


def test_ranking_stores_scores_under_the_current_weight_set(client, world):
    as_user(client, world["admin"]).get("/projects/ranking")
    ws = scoring.current_weight_set()
    stored = scoring.stored_score(world["p1"].id, ws)
    assert stored is not None and stored.weight_set_id == ws.id
    assert stored.total == pytest.approx(scoring.explain(world["admin"], world["p1"]).total, abs=1e-3)


@pytest.mark.parametrize("query", ["street_id=abc", "street_id=99999", "category=luxury", "status=completed",
                                   "street_id=1&category=&status=%00", "page=-1"])
def test_ranking_survives_bad_query_strings(client, world, query):
    response = as_user(client, world["admin"]).get(f"/projects/ranking?{query}")
    assert response.status_code == 200


def test_ranking_filters(client, world):
    c = as_user(client, world["admin"])
    html = c.get(f"/projects/ranking?street_id={world['south'].id}").get_data(as_text=True)
    assert re.findall(r'class="score-link">([^<]+)<', html) == ["南湖加装电梯"]
    html = c.get("/projects/ranking?category=improve").get_data(as_text=True)
    assert re.findall(r'class="score-link">([^<]+)<', html) == ["梧桐里停车改造"]


def test_street_staff_see_their_street_only(client, world):
    c = as_user(client, world["north_staff"])
    html = c.get("/projects/ranking").get_data(as_text=True)
    assert set(re.findall(r'class="score-link">([^<]+)<', html)) == {"桂花苑排水改造", "梧桐里停车改造"}
    assert "南湖" not in html
    assert c.get(f"/projects/{world['p3'].id}/score").status_code == 404
    assert c.get(f"/projects/{world['p3'].id}/score/demand").status_code == 404
    assert c.get(f"/projects/ranking?street_id={world['south'].id}").status_code == 200  # ignored, own street
    assert c.get(f"/projects/{world['p1'].id}/score").status_code == 200


def test_operator_has_no_access(client, world):
    c = as_user(client, make_user(Role.operator))
    assert c.get("/projects/ranking").status_code == 403
    assert c.get("/projects/plan?budget=100").status_code == 403


def test_explanation_shows_each_factor_with_raw_maximum_scaled(client, world):
    html = as_user(client, world["admin"]).get(f"/projects/{world['p2'].id}/score").get_data(as_text=True)
    result = scoring.explain(world["admin"], world["p2"])
    cost = result.factor("cost")
    assert "本项目 4，候选项目最高 4，折算 1.00" in html and cost.raw == 4
    assert f"{result.total:.1f}" in html
    assert html.count('class="factor-bar"') == 5
    assert f'href="/projects/{world["p2"].id}/score/demand"' in html
    assert "style=" not in html


def test_demand_records_link_to_the_ticket_and_mask_for_street_staff(client, world):
    c = as_user(client, world["north_staff"])
    html = c.get(f"/projects/{world['p1'].id}/score/demand").get_data(as_text=True)
    assert f'href="/tickets/{world["ticket"].id}"' in html
    assert "13812345678" not in html and "138****5678" in html
    assert "12345 热线" in html and "排水防涝" in html
    assert html.count("<tr>") >= 4  # the ticket's signal and the three builder signals
    urgent = c.get(f"/projects/{world['p1'].id}/score/urgency?urgent=1").get_data(as_text=True)
    assert f'href="/tickets/{world["ticket"].id}"' in urgent
    assert c.get(f"/projects/{world['p1'].id}/score/nonsense").status_code == 404
    assert c.get(f"/projects/{world['p1'].id}/score/demand?page=999").status_code == 200


def test_admin_sees_the_text_in_full(client, world):
    html = as_user(client, world["admin"]).get(f"/projects/{world['p1'].id}/score/demand").get_data(as_text=True)
    assert "13812345678" in html


def test_support_links_the_survey_results(client, world):
    flats = owners(world["a"], 4)
    survey = make_survey([world["a"]], title="桂花苑意愿调查", matter=MatterType.major)
    for flat, choice in zip(flats, (YES, YES, NO, NO)):
        vote(survey, flat, choice)
    world["p1"].consent_survey_id = survey.id
    db.session.commit()
    c = as_user(client, world["admin"])
    html = c.get(f"/projects/{world['p1'].id}/score/support").get_data(as_text=True)
    assert f'href="/surveys/{survey.id}/results"' in html
    score = c.get(f"/projects/{world['p1'].id}/score").get_data(as_text=True)
    assert "不具备实施条件" in score and "同意业主 2/4 人" in score
    ranking = c.get("/projects/ranking").get_data(as_text=True)
    assert "不具备实施条件" in ranking


def test_non_candidate_project_explains_without_rank(client, world):
    world["p2"].status = ProjectStatus.in_progress
    db.session.commit()
    html = as_user(client, world["admin"]).get(f"/projects/{world['p2'].id}/score").get_data(as_text=True)
    assert "不参与" in html


def test_weights_form_saves_a_version_and_refuses_bad_input(client, world):
    c = as_user(client, world["admin"])
    page = c.get("/projects/weights").get_data(as_text=True)
    assert 'value="0.35"' in page
    bad = c.post("/projects/weights", data={"demand": "0.5", "support": "0.2", "urgency": "0.2", "category": "0.15",
                                            "cost": "0.1", "note": ""})
    assert bad.status_code == 422 and "五项权重之和应为 1（现为 1.150）" in bad.get_data(as_text=True)
    bad = c.post("/projects/weights", data={"demand": "三成", "support": "", "urgency": "0.2", "category": "0.15",
                                            "cost": "0.1"})
    text = bad.get_data(as_text=True)
    assert "「需求强度」的权重应为 0 到 1 之间的数字" in text and "请填写「居民支持」的权重" in text
    assert db.session.query(WeightSet).count() == 1
    good = c.post("/projects/weights", data={"demand": "0.1", "support": "0", "urgency": "0", "category": "0",
                                             "cost": "0.9", "note": "侧重投资效益"})
    assert good.status_code == 302
    history = c.get("/projects/weights").get_data(as_text=True)
    assert "第 2 版" in history and "侧重投资效益" in history
    ranking = c.get("/projects/ranking").get_data(as_text=True)
    assert re.findall(r'class="score-link">([^<]+)<', ranking)[0] == "梧桐里停车改造"


def test_street_staff_see_weights_but_cannot_change_them(client, world):
    c = as_user(client, world["north_staff"])
    page = c.get("/projects/weights").get_data(as_text=True)
    assert "weights-form" not in page and "权重由区住建局调整" in page
    assert c.post("/projects/weights", data={"demand": "1", "support": "0", "urgency": "0", "category": "0",
                                             "cost": "0"}).status_code == 403


def test_recompute_button(client, world):
    c = as_user(client, world["admin"])
    response = c.post("/projects/ranking/recompute")
    assert response.status_code == 302
    assert db.session.scalar(select(Event).where(Event.action == "project.scores.recompute")) is not None


@pytest.mark.parametrize("budget, message", [("abc", "不是金额"), ("-1", "不能为负数"), ("1.234", "两位小数"),
                                             ("1e400", "过大")])
def test_plan_page_bad_budget_message(client, world, budget, message):
    response = as_user(client, world["admin"]).get(f"/projects/plan?budget={budget}")
    assert response.status_code == 422 and message in response.get_data(as_text=True)


def test_plan_page_and_export(client, world):
    c = as_user(client, world["admin"])
    assert c.get("/projects/plan").status_code == 200
    html = c.get("/projects/plan?budget=150").get_data(as_text=True)
    chosen = html.split('id="plan-chosen"')[1].split("</table>")[0]
    assert "桂花苑排水改造" in chosen and "梧桐里停车改造" in chosen and "紧急基础类，优先安排" in chosen
    left = html.split('id="plan-left-out"')[1].split("</table>")[0]
    assert "南湖加装电梯" in left and "超出剩余预算（需 200.00 万元，可用 50.00 万元）" in left
    response = c.get("/projects/plan.xlsx?budget=150")
    assert response.status_code == 200
    sheet = load_workbook(__import__("io").BytesIO(response.data)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0][:2] == ["年度预算（万元）", 150]
    assert [r[2] for r in rows[4:]] == ["桂花苑排水改造", "梧桐里停车改造", "南湖加装电梯"]
    assert rows[6][0] == "未安排" and rows[6][11].startswith("超出剩余预算")
    event = db.session.scalar(select(Event).where(Event.action == "export", Event.object_type == "project_plan"))
    assert event is not None and "预算 150.00 万元" in event.note
    assert c.get("/projects/plan.xlsx?budget=oops").status_code == 302


def test_street_staff_plan_is_their_street(client, world):
    html = as_user(client, world["north_staff"]).get("/projects/plan?budget=1000").get_data(as_text=True)
    assert "南湖" not in html and "桂花苑排水改造" in html


def test_project_page_includes_the_score_box(client, world):
    html = as_user(client, world["admin"]).get(f"/projects/{world['p1'].id}").get_data(as_text=True)
    if 'id="project-score"' not in html:
        pytest.skip("the project detail page does not include the score box yet")
    assert "全区候选第 1 名" in html and f'href="/projects/{world["p1"].id}/score"' in html
