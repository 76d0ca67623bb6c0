"""Paper answers entered by staff (same one-per-household rule), and answers becoming demand signals."""
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.audit.models import Event
from portal.demand.models import DemandSignal, SignalSource
from portal.demand.services import reporter_key
from portal.extensions import db
from portal.surveys import services
from portal.surveys.models import Channel, QuestionKind, SurveyAnswer, SurveyResponse, SurveyResponseVersion
from portal.surveys.services import AnswerInput, local_today
from tests.helpers import login
from tests.surveys.builders import question

pytestmark = pytest.mark.usefixtures("fake_tagger")


def paper_form(world, room="302", consent="0", items=("1",), text=""):
    survey = world["survey"]
    household = world["households"][room]
    return {"estate_id": world["estate"].id, "building": household.building, "unit": household.unit,
            "room": household.room, f"q{question(survey, QuestionKind.consent).id}": consent,
            f"q{question(survey, QuestionKind.multiple).id}": list(items),
            f"q{question(survey, QuestionKind.text).id}": text}


def online(world, room="302", consent=0, items=(1,), text=None):
    survey = world["survey"]
    data = {question(survey, QuestionKind.consent).id: AnswerInput(question(survey, QuestionKind.consent).id, [consent])}
    multiple = question(survey, QuestionKind.multiple)
    if items:
        data[multiple.id] = AnswerInput(multiple.id, list(items))
    if text:
        data[question(survey, QuestionKind.text).id] = AnswerInput(question(survey, QuestionKind.text).id, text=text)
    return services.submit_response(None, survey, world["households"][room], data)


def test_staff_find_a_household_and_enter_its_paper_answers(client, estate_world):
    world = estate_world
    login(client, world["staff"])
    page = client.get(f"/surveys/{world['survey'].id}/paper?building=3号楼&unit=2&room=302").get_data(as_text=True)
    assert "桂花苑 3栋2单元302室" in page and "保存纸质答卷" in page
    response = client.post(f"/surveys/{world['survey'].id}/paper", data=paper_form(world))
    assert response.status_code == 302
    saved = db.session.scalar(select(SurveyResponse))
    assert saved.channel == Channel.paper and saved.entered_by_id == world["staff"].id
    event = db.session.scalar(select(Event).where(Event.action == "survey.response.submit"))
    assert event.actor_id == world["staff"].id and event.after["channel"] == "paper"
    assert "已录入 3栋2单元302室 的纸质问卷" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_paper_answers_replace_an_online_answer_and_keep_it_in_history(client, estate_world):
    world = estate_world
    online(world, consent=1)
    login(client, world["staff"])
    page = client.get(f"/surveys/{world['survey'].id}/paper?building=3&unit=2&room=302").get_data(as_text=True)
    assert "以线上方式作答" in page and "保存将替换现在的答案" in page
    client.post(f"/surveys/{world['survey'].id}/paper", data=paper_form(world, consent="0"))
    assert db.session.scalar(select(func.count()).select_from(SurveyResponse)) == 1
    current = db.session.scalar(select(SurveyResponse))
    assert current.channel == Channel.paper and current.version == 2
    old = db.session.scalar(select(SurveyResponseVersion))
    assert old.channel == Channel.online and old.entered_by_id is None
    page = client.get(f"/surveys/{world['survey'].id}/paper?building=3&unit=2&room=302").get_data(as_text=True)
    assert "第 1 份 · 线上" in page  # the history, shown to staff


def test_paper_entry_validates_like_the_resident_page(client, estate_world):
    world = estate_world
    login(client, world["staff"])
    response = client.post(f"/surveys/{world['survey'].id}/paper", data=paper_form(world, consent=""))
    assert response.status_code == 422 and "第 1 题是必答题" in response.get_data(as_text=True)
    response = client.get(f"/surveys/{world['survey'].id}/paper?building=3&unit=2&room=399")
    assert response.status_code == 404 and "没有这一户" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(SurveyResponse)) == 0


def test_paper_entry_is_refused_after_the_close_date_and_to_other_streets(client, estate_world):
    world = estate_world
    login(client, world["other_staff"])
    assert client.post(f"/surveys/{world['survey'].id}/paper", data=paper_form(world)).status_code == 404
    client.post("/logout")
    world["survey"].closes_on = local_today() - timedelta(days=1)
    db.session.commit()
    login(client, world["staff"])
    response = client.post(f"/surveys/{world['survey'].id}/paper", data=paper_form(world))
    assert response.status_code == 422 and "截止" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(SurveyResponse)) == 0
    with pytest.raises(Exception):  # the service refuses a paper answer from a user outside the street
        services.submit_response(world["other_staff"], world["survey"], world["households"]["302"], {},
                                 Channel.paper)


def signals():
    return sorted((s.source, s.estate_id, s.theme, s.reporter_key, s.urgent, s.record_id)
                  for s in db.session.scalars(select(DemandSignal)))


def test_chosen_items_and_free_text_become_demand_signals_from_the_household(estate_world):
    world = estate_world
    household = world["households"]["302"]
    # items 1 (elevator), 3 and 4 (both greening: one signal), 5 (no theme); text about parking and a leak
    online(world, items=(1, 3, 4, 5), text="停车太难，楼顶还漏水")
    answers = {a.question_id: a for a in db.session.scalars(select(SurveyAnswer))}
    multiple = answers[question(world["survey"], QuestionKind.multiple).id]
    text = answers[question(world["survey"], QuestionKind.text).id]
    key = reporter_key("household", household.id)
    estate = world["estate"].id
    assert signals() == sorted([
        (SignalSource.survey, estate, "building_safety", key, False, str(text.id)),
        (SignalSource.survey, estate, "elevator", key, False, str(multiple.id)),
        (SignalSource.survey, estate, "greening", key, False, str(multiple.id)),
        (SignalSource.survey, estate, "parking", key, False, str(text.id)),
    ])
    assert db.session.scalar(select(DemandSignal.street_id).limit(1)) == world["heping"].id
    assert key != f"household:{household.id}"  # a one-way key, not the bare household id


def test_replacing_an_answer_replaces_its_signals(estate_world):
    world = estate_world
    online(world, items=(1,), text="停车难")
    assert {s[2] for s in signals()} == {"elevator", "parking"}
    online(world, items=(0,), text=None)
    assert {s[2] for s in signals()} == {"drainage"}
    online(world, items=(), text=None)
    assert signals() == []  # consent alone is not demand


def test_consent_and_scale_answers_are_not_demand(estate_world):
    world = estate_world
    survey = world["survey"]
    scale = question(survey, QuestionKind.scale)
    consent = question(survey, QuestionKind.consent)
    services.submit_response(None, survey, world["households"]["301"], {
        consent.id: AnswerInput(consent.id, [0]), scale.id: AnswerInput(scale.id, number=2)})
    assert signals() == []


def test_a_free_text_answer_is_kept_when_the_model_is_unavailable_and_tagged_later(estate_world, monkeypatch):
    import portal.core.tagging as tagging

    world = estate_world

    def broken(texts):
        raise RuntimeError("theme model is missing")

    monkeypatch.setattr(tagging, "tag_texts", broken)
    online(world, items=(), text="小区停车太难了")
    text = db.session.scalar(select(SurveyAnswer).where(SurveyAnswer.text.is_not(None)))
    assert text.text == "小区停车太难了" and text.themes == [] and text.needs_review and text.model_version is None
    assert signals() == []
    with pytest.raises(services.ServiceError, match="暂时不可用"):
        services.retag_answers(world["staff"], world["survey"])
    from tests.surveys.conftest import fake_tag

    monkeypatch.setattr(tagging, "tag_texts", lambda texts: [fake_tag(t) for t in texts])
    assert services.retag_answers(world["staff"], world["survey"]) == 1
    assert [s[2] for s in signals()] == ["parking"]


def test_street_staff_see_an_existing_free_text_answer_masked_on_the_paper_page(client, estate_world):
    world = estate_world
    online(world, text="停车难，有事打我电话13812345678")
    login(client, world["staff"])
    page = client.get(f"/surveys/{world['survey'].id}/paper?building=3&unit=2&room=302").get_data(as_text=True)
    assert "13812345678" not in page and "138****5678" in page and "已隐去个人信息" in page
    client.post("/logout")
    login(client, world["admin"])  # district_admin sees personal data, and may edit the text as it is
    page = client.get(f"/surveys/{world['survey'].id}/paper?building=3&unit=2&room=302").get_data(as_text=True)
    assert "13812345678" in page
