"""Building a survey: estates and scope, matter type, questions with the renovation preset, dates,
preview; scoping and refusals of bad input."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Role
from portal.audit.models import Event
from portal.extensions import db
from portal.surveys.models import MatterType, QuestionKind, Survey, SurveyQuestion, TallyScope
from portal.surveys.services import RENOVATION_PRESET, local_today
from tests.helpers import login, make_community, make_estate, make_household, make_street, make_user
from tests.surveys.builders import give_code, make_survey


@pytest.fixture
def world(app):
    heping, xinhua = make_street("和平街道"), make_street("新华街道")
    guihua = make_estate(make_community(heping, "桂花社区"), "桂花苑")
    lanting = make_estate(make_community(heping, "兰亭社区"), "兰亭小区")
    xinhuali = make_estate(make_community(xinhua), "新华里")
    for building, unit, room in [("1", "1", "101"), ("1", "2", "201"), ("2", "1", "101")]:
        make_household(guihua, building, unit, room)
    return {"heping": heping, "xinhua": xinhua, "guihua": guihua, "lanting": lanting, "xinhuali": xinhuali,
            "staff": make_user(Role.street_staff, street=heping), "admin": make_user(Role.district_admin),
            "operator": make_user(Role.operator)}


def survey_form(estates, **overrides):
    today = local_today()
    data = {"title": "桂花苑加装电梯意愿调查", "intro": "请每户填一份。", "estate_ids": [e.id for e in estates],
            "matter_type": "major", "tally_scope": "estate", "scope_targets": "",
            "opens_on": today.isoformat(), "closes_on": (today + timedelta(days=14)).isoformat()}
    data.update(overrides)
    return data


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_street_staff_builds_a_survey_for_own_estates(client, world):
    login(client, world["staff"])
    response = client.post("/surveys/new", data=survey_form([world["guihua"], world["lanting"]]))
    assert response.status_code == 302
    survey = db.session.scalar(select(Survey))
    assert survey.street_id == world["heping"].id and survey.matter_type == MatterType.major
    assert sorted(survey.estate_ids) == sorted([world["guihua"].id, world["lanting"].id])
    page = client.get(f"/surveys/{survey.id}").get_data(as_text=True)
    assert "桂花苑加装电梯意愿调查" in page and "兰亭小区" in page and f"/s/{survey.slug}" in page
    event = db.session.scalar(select(Event).where(Event.action == "survey.create"))
    assert event.actor_id == world["staff"].id and event.after["title"] == "桂花苑加装电梯意愿调查"


@pytest.mark.parametrize("overrides,message", [
    ({"title": ""}, "请填写调查名称。"),
    ({"estate_ids": []}, "请至少选择一个小区。"),
    ({"closes_on": (local_today() - timedelta(days=3)).isoformat()}, "截止日期不能早于开始日期。"),
    ({"opens_on": "2026-02-30"}, "不是有效的日期值。"),
    ({"scope_targets": "1"}, "表决范围为“整个小区”时不能指定楼栋或单元"),
    ({"tally_scope": "building", "scope_targets": "9号楼"}, "名册中没有“9号楼”这栋楼。"),
    ({"tally_scope": "unit", "scope_targets": "1栋7单元"}, "名册中没有“1栋7单元”这个单元。"),
    ({"matter_type": "urgent"}, "不是有效的选择"),
])
def test_bad_survey_input_gets_a_message_and_creates_nothing(client, world, overrides, message):
    login(client, world["admin"])
    response = client.post("/surveys/new", data=survey_form([world["guihua"]], **overrides))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert count(Survey) == 0


def test_targets_are_normalised_and_need_a_single_estate(client, world):
    login(client, world["admin"])
    response = client.post("/surveys/new", data=survey_form([world["guihua"]], tally_scope="unit",
                                                            scope_targets="1栋2单元\n1-2\n2-1"))
    assert response.status_code == 302
    assert db.session.scalar(select(Survey)).scope_targets == ["1-2", "2-1"]
    response = client.post("/surveys/new", data=survey_form([world["guihua"], world["lanting"]],
                                                            tally_scope="building", scope_targets="1"))
    assert "只能选择一个小区" in response.get_data(as_text=True) and count(Survey) == 1


def test_a_survey_cannot_mix_streets_or_reach_another_street(client, world):
    login(client, world["admin"])
    response = client.post("/surveys/new", data=survey_form([world["guihua"], world["xinhuali"]]))
    assert "同一个街道" in response.get_data(as_text=True)
    client.post("/logout")
    login(client, world["staff"])
    page = client.get("/surveys/new").get_data(as_text=True)
    assert "桂花苑" in page and "新华里" not in page  # another street's estates are not offered
    response = client.post("/surveys/new", data=survey_form([world["xinhuali"]]))
    assert response.status_code == 422 and count(Survey) == 0


def test_other_streets_survey_is_not_found_and_operators_are_refused(client, world):
    theirs = make_survey([world["xinhuali"]], title="新华里调查")
    login(client, world["staff"])
    for path in ["", "/edit", "/results", "/results.xlsx", "/codes", "/posters", "/paper", "/preview",
                 "/questions/new"]:
        response = client.get(f"/surveys/{theirs.id}{path}")
        assert response.status_code == 404, path
        assert "新华里调查" not in response.get_data(as_text=True)
    assert client.post(f"/surveys/{theirs.id}/questions/preset").status_code == 404
    assert "新华里调查" not in client.get("/surveys/").get_data(as_text=True)
    client.post("/logout")
    login(client, world["operator"])
    assert client.get("/surveys/").status_code == 403
    assert client.get(f"/surveys/{theirs.id}").status_code == 403


def test_questions_of_every_type_with_themes_and_the_editable_preset(client, world):
    survey = make_survey([world["guihua"]], questions=[])
    login(client, world["staff"])
    response = client.post(f"/surveys/{survey.id}/questions/preset")
    assert response.status_code == 302
    preset = db.session.scalar(select(SurveyQuestion))
    assert preset.kind == QuestionKind.multiple and len(preset.options) == len(RENOVATION_PRESET)
    assert {o["category"] for o in preset.options} == {"基础类", "完善类", "提升类"}
    assert {"category": "完善类", "label": "加装电梯", "theme": "elevator"} in preset.options
    # the preset is edited like any other list: drop items, rename one, map it to a theme by name
    edit = client.get(f"/surveys/{survey.id}/questions/{preset.id}/edit").get_data(as_text=True)
    assert "完善类｜加装电梯｜电梯" in edit
    client.post(f"/surveys/{survey.id}/questions/{preset.id}/edit", data={
        "kind": "multiple", "text": "最需要改的三项", "required": "", "max_choices": "3",
        "options": "基础类｜雨污分流｜排水防涝\n完善类｜加装电梯｜elevator\n提升类｜社区食堂｜养老助老\n其他"})
    db.session.refresh(preset)
    assert [o["label"] for o in preset.options] == ["雨污分流", "加装电梯", "社区食堂", "其他"]
    assert [o.get("theme") for o in preset.options] == ["drainage", "elevator", "elderly_care", None]
    assert preset.max_choices == 3
    for kind, extra in [("consent", {}), ("single", {"options": "是\n否"}), ("scale", {"scale_low": "很差"}),
                        ("text", {})]:
        response = client.post(f"/surveys/{survey.id}/questions/new",
                               data={"kind": kind, "text": f"{kind} 题", "required": "y", **extra})
        assert response.status_code == 302, kind
    db.session.refresh(survey)
    assert [q.kind.value for q in survey.questions] == ["multiple", "consent", "single", "scale", "text"]
    assert survey.questions[3].scale_labels == ("很差", "很满意")
    preview = client.get(f"/surveys/{survey.id}/preview").get_data(as_text=True)
    assert "预览" in preview and "社区食堂" in preview and "弃权" in preview and "提升类" in preview
    assert 'type="submit" class="button primary big" disabled' in preview


@pytest.mark.parametrize("data,message", [
    ({"kind": "single", "text": "只有一个选项", "options": "是"}, "至少需要两个选项"),
    ({"kind": "multiple", "text": "主题不对", "options": "停车｜飞机场\n绿化"}, "未知主题“飞机场”"),
    ({"kind": "multiple", "text": "类别不对", "options": "高级类｜电梯｜elevator\n绿化"}, "应为 基础类、完善类 或 提升类"),
    ({"kind": "multiple", "text": "重复", "options": "绿化\n绿化"}, "重复"),
    ({"kind": "multiple", "text": "最多选", "options": "a\nb", "max_choices": "5"}, "应在 1 到 2 之间"),
    ({"kind": "single", "text": "", "options": "a\nb"}, "请填写题目。"),
    ({"kind": "essay", "text": "题型不对"}, "不是有效的选择"),
])
def test_bad_questions_are_refused_with_a_message(client, world, data, message):
    survey = make_survey([world["guihua"]], questions=[])
    login(client, world["staff"])
    response = client.post(f"/surveys/{survey.id}/questions/new", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count(SurveyQuestion) == 0


def test_questions_reorder_and_delete(client, world):
    survey = make_survey([world["guihua"]])
    first, second = survey.questions[0], survey.questions[1]
    login(client, world["staff"])
    client.post(f"/surveys/{survey.id}/questions/{second.id}/move", data={"direction": "up"})
    db.session.expire_all()
    assert [q.id for q in survey.questions][:2] == [second.id, first.id]
    client.post(f"/surveys/{survey.id}/questions/{first.id}/delete")
    db.session.expire_all()
    assert first.id not in [q.id for q in survey.questions]
    assert [q.position for q in survey.questions] == [1, 2, 3]


def test_questions_and_scope_lock_once_households_have_answered(client, world):
    from portal.surveys import services

    survey = make_survey([world["guihua"]])
    household = world["guihua"].households[0]
    consent = survey.questions[0]
    services.submit_response(None, survey, household, {consent.id: services.AnswerInput(consent.id, [0])})
    login(client, world["staff"])
    response = client.post(f"/surveys/{survey.id}/questions/{consent.id}/edit",
                           data={"kind": "consent", "text": "改过的题目", "required": "y"})
    assert "题目不能再修改" in response.get_data(as_text=True)
    assert client.post(f"/surveys/{survey.id}/questions/{consent.id}/delete").status_code == 302
    db.session.expire_all()
    assert consent.text == "您是否同意实施本次改造？" and len(survey.questions) == 4
    response = client.post(f"/surveys/{survey.id}/edit", data=survey_form([world["guihua"], world["lanting"]]))
    assert "不能再修改覆盖的小区" in response.get_data(as_text=True)
    # dates can still move (e.g. extend the deadline)
    later = (local_today() + timedelta(days=30)).isoformat()
    response = client.post(f"/surveys/{survey.id}/edit", data=survey_form([world["guihua"]], closes_on=later))
    assert response.status_code == 302
    db.session.refresh(survey)
    assert survey.closes_on.isoformat() == later


def test_detail_page_counts_codes_and_warns_without_roster(client, world):
    give_code(world["guihua"].households[0])
    survey = make_survey([world["guihua"]])
    bare = make_survey([world["lanting"]], title="兰亭小区调查")
    login(client, world["staff"])
    assert "3 户，已发入户码 1 户" in client.get(f"/surveys/{survey.id}").get_data(as_text=True)
    assert "还没有住户名册" in client.get(f"/surveys/{bare.id}").get_data(as_text=True)
    assert TallyScope.estate.label in client.get(f"/surveys/{survey.id}").get_data(as_text=True)


def test_estates_and_scope_can_change_before_anyone_answers(client, world):
    survey = make_survey([world["guihua"]])
    login(client, world["staff"])
    response = client.post(f"/surveys/{survey.id}/edit", data=survey_form(
        [world["guihua"], world["lanting"]], title="片区调查", matter_type="ordinary"))
    assert response.status_code == 302
    db.session.expire_all()
    assert sorted(survey.estate_ids) == sorted([world["guihua"].id, world["lanting"].id])
    assert survey.title == "片区调查" and survey.matter_type == MatterType.ordinary
    client.post(f"/surveys/{survey.id}/edit", data=survey_form([world["lanting"]]))
    db.session.expire_all()
    assert survey.estate_ids == [world["lanting"].id]
    event = db.session.scalars(select(Event).where(Event.action == "survey.update").order_by(Event.id)).all()[-1]
    assert event.before["estate_ids"] == sorted([world["guihua"].id, world["lanting"].id])
    assert event.after["estate_ids"] == [world["lanting"].id]
