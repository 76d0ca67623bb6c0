"""The review queue: who sees what, confirming and correcting one record or many, flags, and the log."""
import pytest
from sqlalchemy import func, select

from portal.accounts.models import Role
from portal.audit.models import Event
from portal.demand.models import DemandSignal, SignalSource
from portal.extensions import db
from portal.review.models import ReviewFlag, TagCorrection
from portal.tickets.models import Ticket
from tests.helpers import login, make_community, make_estate, make_street, make_ticket, make_user
from tests.review.builders import make_point, make_suggestion, make_text_answer


@pytest.fixture
def world(app):
    heping, xinhua = make_street("和平街道"), make_street("新华街道")
    guihua = make_estate(make_community(heping, "桂花社区"), "桂花苑", household_count=120)
    xinhuali = make_estate(make_community(xinhua, "新华里社区"), "新华里小区", household_count=80)
    ours = make_ticket("楼下好像有点问题，来电人张伟电话13812345678", estate=guihua, street=heping,
                       themes=("drainage",), needs_review=True, theme_scores={"drainage": 0.38}, number="GD-OURS")
    theirs = make_ticket("新华里的事情，不知道算什么", estate=xinhuali, street=xinhua, themes=("roads",),
                         needs_review=True, number="GD-THEIRS")
    sure = make_ticket("小区停车位太少", estate=guihua, street=heping, themes=("parking",), number="GD-SURE")
    return {"heping": heping, "xinhua": xinhua, "guihua": guihua, "xinhuali": xinhuali,
            "ours": ours, "theirs": theirs, "sure": sure,
            "staff": make_user(Role.street_staff, street=heping), "other_staff": make_user(Role.street_staff, street=xinhua),
            "operator": make_user(Role.operator), "admin": make_user(Role.district_admin)}


def corrections():
    return db.session.scalars(select(TagCorrection).order_by(TagCorrection.id)).all()


def signal_themes(ticket):
    return sorted(db.session.scalars(select(DemandSignal.theme).where(
        DemandSignal.source == SignalSource.hotline, DemandSignal.record_id == str(ticket.id))))


def test_street_staff_see_only_their_streets_records_and_masked_text(client, world):
    login(client, world["staff"])
    html = client.get("/review/?source=hotline").get_data(as_text=True)
    assert "楼下好像有点问题" in html
    assert "新华里的事情" not in html
    assert "GD-SURE" not in html and "小区停车位太少" not in html  # confident records are not in the queue
    assert "13812345678" not in html and "张伟" not in html
    assert "138****5678" in html


def test_district_admin_sees_every_street_and_operator_only_hotline(client, world):
    login(client, world["admin"])
    html = client.get("/review/?source=hotline").get_data(as_text=True)
    assert "楼下好像有点问题" in html and "新华里的事情" in html
    client.post("/logout")
    login(client, world["operator"])
    assert client.get("/review/?source=hotline").status_code == 200
    assert client.get("/review/?source=suggestion").status_code == 403
    assert client.get("/review/?source=nonsense").status_code == 404


def test_another_streets_record_answers_404_and_cannot_be_changed(client, world):
    login(client, world["staff"])
    theirs = world["theirs"]
    assert client.get(f"/review/hotline/{theirs.id}").status_code == 404
    response = client.post(f"/review/hotline/{theirs.id}", data={"themes": ["parking"]})
    assert response.status_code == 404
    response = client.post("/review/hotline/bulk", data={"accept_one": str(theirs.id)}, follow_redirects=True)
    assert "未做任何修改" in response.get_data(as_text=True)
    db.session.refresh(theirs)
    assert theirs.needs_review and theirs.themes == ["roads"] and corrections() == []


def test_accepting_the_suggestion_logs_a_confirmation(client, world):
    ours = world["ours"]
    login(client, world["staff"])
    response = client.post("/review/hotline/bulk", data={"accept_one": str(ours.id)}, follow_redirects=True)
    assert "已确认 1 条记录的主题。" in response.get_data(as_text=True)
    db.session.refresh(ours)
    assert not ours.needs_review and ours.tags_confirmed and ours.themes == ["drainage"]
    [c] = corrections()
    assert (c.source, c.record_id, c.themes, c.changed, c.street_id) == (
        SignalSource.hotline, str(ours.id), ["drainage"], False, world["heping"].id)
    assert c.model_version == ours.model_version
    assert "13812345678" not in c.text  # training data keeps no phone numbers
    assert "楼下好像有点问题" not in client.get("/review/?source=hotline").get_data(as_text=True)


def test_a_correction_changes_themes_signals_and_is_logged(client, world):
    ours = world["ours"]
    login(client, world["staff"])
    page = client.get(f"/review/hotline/{ours.id}").get_data(as_text=True)
    assert "排水防涝" in page
    response = client.post(f"/review/hotline/{ours.id}", data={"themes": ["water_supply", "property_mgmt"],
                                                                "urgent": "y"})
    assert response.status_code == 302
    db.session.refresh(ours)
    assert ours.themes == ["water_supply", "property_mgmt"] and ours.urgent and not ours.needs_review
    assert signal_themes(ours) == ["property_mgmt", "water_supply"]
    [c] = corrections()
    assert c.changed and c.previous_themes == ["drainage"] and c.themes == ["water_supply", "property_mgmt"] and c.urgent
    event = db.session.scalars(select(Event).where(Event.action == "ticket.tags.correct")).one()
    assert event.before["themes"] == ["drainage"] and event.after["themes"] == ["water_supply", "property_mgmt"]
    history = client.get(f"/review/hotline/{ours.id}").get_data(as_text=True)
    assert "更正" in history and "原为 排水防涝" in history


@pytest.mark.parametrize("themes, message", [
    (["other", "parking"], "“其他”主题只能单独使用。"),
    ([], "每条诉求需要 1 到 3 个主题。"),
    (["parking", "drainage", "gas", "noise"], "每条诉求需要 1 到 3 个主题。"),
])
def test_bad_themes_are_refused_and_change_nothing(client, world, themes, message):
    ours = world["ours"]
    login(client, world["staff"])
    response = client.post(f"/review/hotline/{ours.id}", data={"themes": themes})
    assert message in response.get_data(as_text=True)
    db.session.refresh(ours)
    assert ours.needs_review and ours.themes == ["drainage"] and corrections() == []


def test_bulk_set_applies_to_every_selected_record(client, world):
    second = make_ticket("这个也不好说", estate=world["guihua"], street=world["heping"], themes=("other",),
                         needs_review=True)
    login(client, world["staff"])
    response = client.post("/review/hotline/bulk", data={
        "ids": [str(world["ours"].id), str(second.id)], "mode": "set", "themes": ["sanitation"]},
        follow_redirects=True)
    assert "已确认 2 条记录的主题。" in response.get_data(as_text=True)
    for ticket in (world["ours"], second):
        db.session.refresh(ticket)
        assert ticket.themes == ["sanitation"] and not ticket.needs_review
    assert [c.themes for c in corrections()] == [["sanitation"], ["sanitation"]]


def test_bulk_with_a_record_of_another_street_changes_nothing(client, world):
    login(client, world["staff"])
    response = client.post("/review/hotline/bulk", data={
        "ids": [str(world["ours"].id), str(world["theirs"].id)], "mode": "accept"}, follow_redirects=True)
    assert "未做任何修改" in response.get_data(as_text=True)
    db.session.refresh(world["ours"])
    assert world["ours"].needs_review and corrections() == []


def test_bulk_without_a_selection_says_so(client, world):
    login(client, world["staff"])
    response = client.post("/review/hotline/bulk", data={"mode": "accept"}, follow_redirects=True)
    assert "请先勾选要确认的记录。" in response.get_data(as_text=True)


def test_flagging_puts_a_confident_record_into_the_queue_until_it_is_confirmed(client, world):
    sure = world["sure"]
    login(client, world["staff"])
    response = client.post("/review/flag", data={"source": "hotline", "record_id": str(sure.id),
                                                 "reason": "其实说的是充电桩"}, follow_redirects=True)
    assert "已加入待复核队列。" in response.get_data(as_text=True)
    queue = client.get("/review/?source=hotline").get_data(as_text=True)
    assert "小区停车位太少" in queue and "标记复核：其实说的是充电桩" in queue
    client.post(f"/review/hotline/{sure.id}", data={"themes": ["ev_charging"]})
    flag = db.session.scalars(select(ReviewFlag)).one()
    assert flag.resolved_at is not None
    assert "小区停车位太少" not in client.get("/review/?source=hotline").get_data(as_text=True)


def test_flagging_needs_a_reason_and_a_visible_record(client, world):
    login(client, world["staff"])
    response = client.post("/review/flag", data={"source": "hotline", "record_id": str(world["sure"].id),
                                                 "reason": ""}, follow_redirects=True)
    assert "请写明为什么需要复核。" in response.get_data(as_text=True)
    response = client.post("/review/flag", data={"source": "hotline", "record_id": str(world["theirs"].id),
                                                 "reason": "看看"}, follow_redirects=True)
    assert "记录不存在，或您无权查看。" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ReviewFlag)) == 0


def test_suggestions_minutes_and_survey_answers_are_reviewed_the_same_way(client, world):
    guihua = world["guihua"]
    suggestion = make_suggestion(guihua, "希望小区里多装几盏路灯")
    point = make_point(guihua, "5号楼居民：垃圾站太臭了", themes=("pollution",))
    answer = make_text_answer(guihua, "晚上回来没地方停车", themes=("other",))
    make_suggestion(world["xinhuali"], "新华里的建议")
    login(client, world["staff"])
    queue = client.get("/review/?source=suggestion").get_data(as_text=True)
    assert "希望小区里多装几盏路灯" in queue and "新华里的建议" not in queue
    assert "5号楼居民：垃圾站太臭了" in client.get("/review/?source=minutes").get_data(as_text=True)
    assert "晚上回来没地方停车" in client.get("/review/?source=survey").get_data(as_text=True)

    client.post("/review/suggestion/bulk", data={"accept_one": str(suggestion.id)})
    client.post(f"/review/minutes/{point.id}", data={"themes": ["sanitation"]})
    client.post(f"/review/survey/{answer.id}", data={"themes": ["parking"]})
    for record in (suggestion, point, answer):
        db.session.refresh(record)
        assert not record.needs_review and record.tags_confirmed
    assert point.themes == ["sanitation"] and answer.themes == ["parking"]
    by_source = {c.source: c for c in corrections()}
    assert set(by_source) == {SignalSource.suggestion, SignalSource.minutes, SignalSource.survey}
    assert by_source[SignalSource.minutes].changed and not by_source[SignalSource.suggestion].changed
    signals = db.session.execute(select(DemandSignal.source, DemandSignal.theme).where(
        DemandSignal.source.in_([SignalSource.minutes, SignalSource.survey]))).all()
    assert sorted(signals) == sorted([(SignalSource.survey, "parking"), (SignalSource.minutes, "sanitation")])


def test_corrections_page_is_scoped_and_the_training_export_is_admin_only_and_logged(client, world):
    login(client, world["other_staff"])
    client.post(f"/review/hotline/{world['theirs'].id}", data={"themes": ["roads"]})
    client.post("/logout")
    login(client, world["staff"])
    client.post(f"/review/hotline/{world['ours'].id}", data={"themes": ["drainage"]})
    page = client.get("/review/corrections").get_data(as_text=True)
    assert "楼下好像有点问题" in page and "新华里的事情" not in page
    assert client.get("/review/corrections.csv").status_code == 403
    client.post("/logout")
    login(client, world["admin"])
    response = client.get("/review/corrections.csv")
    assert response.status_code == 200
    body = response.get_data().decode("utf-8-sig").splitlines()
    assert body[0] == "text,themes,urgent,source,record_id" and len(body) == 3
    assert any(line.startswith("新华里的事情") and ",roads,0," in line for line in body)
    export = db.session.scalars(select(Event).where(Event.action == "export")).one()
    assert "2 条" in export.note


def test_queue_requires_login(client, world):
    response = client.get("/review/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
