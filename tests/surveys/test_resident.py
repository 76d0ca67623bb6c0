"""The residents' pages: no login; building, unit, room and the household code; answer, replace, thank-you
summary; closed and not-yet-open surveys; wrong codes; scope."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.audit.models import Event
from portal.extensions import db
from portal.surveys import services
from portal.surveys.models import (
    Channel, QuestionKind, SurveyAnswer, SurveyResponse, SurveyResponseVersion, TallyScope,
)
from portal.surveys.services import local_today
from tests.surveys.builders import make_survey, question
from tests.surveys.conftest import door

pytestmark = pytest.mark.usefixtures("fake_tagger")


def q(world, kind):
    return question(world["survey"], kind)


def answers(world, consent="0", items=("1", "2"), score="4", text="楼下停车太难了"):
    return {f"q{q(world, QuestionKind.consent).id}": consent, f"q{q(world, QuestionKind.multiple).id}": list(items),
            f"q{q(world, QuestionKind.scale).id}": score, f"q{q(world, QuestionKind.text).id}": text}


def enter(client, world, who="301"):
    return client.post(f"/s/{world['survey'].slug}", data=door(world, who))


def responses():
    return db.session.scalar(select(func.count()).select_from(SurveyResponse))


def test_scan_link_prefills_the_door_and_the_code_opens_the_questions(client, estate_world):
    world, slug = estate_world, estate_world["survey"].slug
    page = client.get(f"/s/{slug}?e={world['estate'].id}&b=3").get_data(as_text=True)
    assert "桂花苑改造意愿调查" in page and re.search(r'<input[^>]*name="building"[^>]*value="3"', page)
    assert "入户码" in page and "第一步：确认您家" in page
    # typed the way residents write it: "3号楼", "2单元", "301室", code with a space and full-width digits
    response = client.post(f"/s/{slug}", data=door(world, building="3号楼", unit="2单元", room="301室",
                                                     code="１２３ ４５６"))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/s/{slug}/answer")
    page = client.get(f"/s/{slug}/answer").get_data(as_text=True)
    assert "桂花苑 3栋2单元301室" in page and "您是否同意实施本次改造？" in page and "完善类" in page
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("change", [
    {"code": "123457"},  # wrong code
    {"room": "309"},  # no such room
    {"room": "101", "unit": "1", "code": "123456"},  # a real room without a code yet, tried with another's code
    {"building": "5", "unit": "1", "room": "501", "code": "123456"},  # someone else's code
])
def test_a_wrong_code_is_refused_with_one_plain_message(client, estate_world, change):
    slug = estate_world["survey"].slug
    response = client.post(f"/s/{slug}", data=door(estate_world, **change))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "楼栋、单元、房号或入户码不正确" in page and "联系社区居委会" in page
    assert 'value="123457"' not in page  # the typed code is not echoed back
    assert client.get(f"/s/{slug}/answer").status_code == 302  # still not let in
    assert responses() == 0


def test_missing_fields_are_asked_for(client, estate_world):
    response = client.post(f"/s/{estate_world['survey'].slug}", data=door(estate_world, room="", code=""))
    assert response.status_code == 400
    assert "请把楼栋、房号和入户码填写完整" in response.get_data(as_text=True)


def test_answer_page_needs_the_code_first(client, estate_world):
    response = client.get(f"/s/{estate_world['survey'].slug}/answer")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/s/{estate_world['survey'].slug}")
    assert client.get(f"/s/{estate_world['survey'].slug}/thanks").status_code == 302
    assert client.get("/s/nosuchsurvey").status_code == 404


def test_submitting_saves_the_answers_and_shows_a_summary(client, estate_world):
    world = estate_world
    enter(client, world)
    response = client.post(f"/s/{world['survey'].slug}/answer", data=answers(world))
    assert response.status_code == 302 and response.headers["Location"].endswith("/thanks")
    page = client.get(f"/s/{world['survey'].slug}/thanks").get_data(as_text=True)
    assert "谢谢您！答卷已提交" in page and "桂花苑 3栋2单元301室" in page
    for shown in ("同意", "加装电梯、停车位改造", "4 分", "楼下停车太难了"):
        assert shown in page
    response = db.session.scalar(select(SurveyResponse))
    assert response.channel == Channel.online and response.version == 1
    assert response.household_id == world["households"]["301"].id and response.entered_by_id is None
    text = next(a for a in response.answers if a.text)
    assert text.themes == ["parking"] and text.model_version == "fake-1"
    event = db.session.scalar(select(Event).where(Event.action == "survey.response.submit"))
    assert event.actor_id is None and event.after["answers"][str(q(world, QuestionKind.consent).id)] == "同意"
    assert "楼下停车太难了" not in str(event.after)  # free text is in the answers, not copied into the log


def test_answering_again_replaces_the_earlier_answer_and_keeps_the_history(client, estate_world):
    world, slug = estate_world, estate_world["survey"].slug
    enter(client, world)
    client.post(f"/s/{slug}/answer", data=answers(world))
    page = client.get(f"/s/{slug}/answer").get_data(as_text=True)
    assert "提交过" in page and "替换" in page
    consent = q(world, QuestionKind.consent)
    assert f'name="q{consent.id}" value="0"\n          checked' in page  # last answer shown, ready to change
    client.post(f"/s/{slug}/answer", data=answers(world, consent="1", items=["0"], score="2", text="楼顶漏水"))
    assert responses() == 1
    current = db.session.scalar(select(SurveyResponse))
    assert current.version == 2
    assert {a.question_id: a.choices for a in current.answers}[consent.id] == [1]
    history = db.session.scalars(select(SurveyResponseVersion)).all()
    assert len(history) == 1 and history[0].version == 1 and history[0].channel == Channel.online
    old = {row["question_id"]: row for row in history[0].answers}
    assert old[consent.id]["choices"] == [0] and old[q(world, QuestionKind.text).id]["text"] == "楼下停车太难了"
    assert db.session.scalar(select(func.count()).select_from(SurveyAnswer)) == 4  # no leftovers
    summary = client.get(f"/s/{slug}/thanks").get_data(as_text=True)
    assert "不同意" in summary and "楼顶漏水" in summary and "楼下停车太难了" not in summary
    event = db.session.scalar(select(Event).where(Event.action == "survey.response.replace"))
    assert event.before["answers"][str(consent.id)] == "同意" and event.after["answers"][str(consent.id)] == "不同意"


@pytest.mark.parametrize("change,message", [
    ({"consent": ""}, "第 1 题是必答题，请作答。"),
    ({"consent": "7"}, "第 1 题的选项无效"),
    ({"consent": "yes"}, "第 1 题的选项无效"),
    ({"items": ["1", "99"]}, "第 2 题的选项无效"),
    ({"score": "6"}, "第 3 题请选 1 到 5 分。"),
    ({"text": "很" * 2001}, "第 4 题最多 2000 个字"),
])
def test_bad_answers_get_a_message_and_change_nothing(client, estate_world, change, message):
    world, slug = estate_world, estate_world["survey"].slug
    enter(client, world)
    response = client.post(f"/s/{slug}/answer", data=answers(world, **change))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and "还有题目需要填写或修改" in page
    assert responses() == 0


def test_too_many_choices_are_refused(client, estate_world):
    world = estate_world
    q(world, QuestionKind.multiple).max_choices = 2
    db.session.commit()
    enter(client, world)
    response = client.post(f"/s/{world['survey'].slug}/answer", data=answers(world, items=["0", "1", "2"]))
    assert "第 2 题最多选 2 项。" in response.get_data(as_text=True) and responses() == 0


def test_a_closed_survey_says_so_and_takes_nothing(client, estate_world):
    world, survey = estate_world, estate_world["survey"]
    enter(client, world)  # identified while it was open
    survey.closes_on = local_today() - timedelta(days=1)
    db.session.commit()
    page = client.get(f"/s/{survey.slug}").get_data(as_text=True)
    assert "调查已经结束" in page and "截止" in page and 'name="code"' not in page
    response = client.post(f"/s/{survey.slug}", data=door(world))
    assert response.status_code == 403 and "调查已经结束" in response.get_data(as_text=True)
    response = client.post(f"/s/{survey.slug}/answer", data=answers(world))
    assert response.status_code == 302 and responses() == 0
    with pytest.raises(services.ServiceError, match="已于 .* 截止"):
        household = world["households"]["301"]
        services.submit_response(None, survey, household,
                                 services.parse_answers(survey, _multidict(answers(world)))[0])


def test_a_survey_not_yet_open_says_when_it_opens(client, estate_world):
    world, survey = estate_world, estate_world["survey"]
    survey.opens_on = local_today() + timedelta(days=3)
    db.session.commit()
    page = client.get(f"/s/{survey.slug}").get_data(as_text=True)
    assert "调查还没有开始" in page and survey.opens_on.strftime("%Y年%m月%d日") in page
    assert client.post(f"/s/{survey.slug}", data=door(world)).status_code == 403
    assert responses() == 0


def test_the_last_day_is_still_open(client, estate_world):
    world, survey = estate_world, estate_world["survey"]
    survey.closes_on = local_today()
    db.session.commit()
    enter(client, world)
    assert client.post(f"/s/{survey.slug}/answer", data=answers(world)).status_code == 302
    assert responses() == 1


def test_a_regenerated_code_ends_the_open_session(client, estate_world):
    world = estate_world
    enter(client, world)
    assert client.get(f"/s/{world['survey'].slug}/answer").status_code == 200
    services.regenerate_codes(world["staff"], world["survey"], [world["households"]["301"]])
    assert client.get(f"/s/{world['survey'].slug}/answer").status_code == 302
    assert enter(client, world).status_code == 422  # the old code no longer works


def test_leaving_lets_the_next_household_answer_on_the_same_phone(client, estate_world):
    world, slug = estate_world, estate_world["survey"].slug
    enter(client, world)
    client.post(f"/s/{slug}/leave")
    assert client.get(f"/s/{slug}/answer").status_code == 302
    enter(client, world, "302")
    assert "3栋2单元302室" in client.get(f"/s/{slug}/answer").get_data(as_text=True)


def test_households_outside_the_surveyed_units_cannot_answer(client, estate_world):
    world = estate_world
    unit_survey = make_survey([world["estate"]], title="3栋2单元加装电梯", scope=TallyScope.unit, targets=["3-2"])
    assert client.post(f"/s/{unit_survey.slug}", data=door(world, "301")).status_code == 302
    response = client.post(f"/s/{unit_survey.slug}", data=door(world, "501"))
    assert response.status_code == 422 and "不正确" in response.get_data(as_text=True)
    with pytest.raises(services.ServiceError, match="不在本次调查范围内"):
        services.submit_response(None, unit_survey, world["households"]["501"], {})


def test_a_tenant_can_answer(client, estate_world):
    world = estate_world
    enter(client, world, "501")
    assert client.post(f"/s/{world['survey'].slug}/answer", data=answers(world)).status_code == 302
    assert db.session.scalar(select(SurveyResponse)).household_id == world["households"]["501"].id


def _multidict(data):
    from werkzeug.datastructures import MultiDict

    return MultiDict([(k, v) for k, values in data.items() for v in (values if isinstance(values, list) else [values])])
