"""Meetings: recording, reviewing the split, demand signals, the closing record, scoping and bad input."""
import io
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Role
from portal.audit.models import Event
from portal.core.errors import ServiceError
from portal.core.workdays import to_utc_naive
from portal.demand.models import DemandSignal, SignalSource
from portal.demand.services import reporter_key
from portal.extensions import db
from portal.minutes import services
from portal.minutes.models import Meeting, MeetingAction, MeetingKind, MinutesPoint
from portal.minutes.parsing import ParsedPoint
from tests.helpers import login, make_community, make_estate, make_street, make_user

MINUTES = """桂花苑居民座谈会纪要
时间：2024年3月5日
主持人：王丽
楼长：3号楼楼道灯坏了两个月了，晚上上下楼很不方便。
3号楼居民说小区车位太少，晚上回来没地方停车。
居民代表：
1. 希望加装电梯，老人爬楼太辛苦。
"""


@pytest.fixture
def world(app):
    heping, xinhua = make_street("和平街道"), make_street("新华街道")
    guihua_community = make_community(heping, "桂花社区")
    return {
        "heping": heping, "xinhua": xinhua,
        "guihua": make_estate(guihua_community, "桂花苑", household_count=248),
        "mudan": make_estate(guihua_community, "牡丹园", household_count=120),
        "xinhuali": make_estate(make_community(xinhua, "新华里社区"), "新华里小区"),
        "staff": make_user(Role.street_staff, street=heping),
        "other_staff": make_user(Role.street_staff, street=xinhua),
        "admin": make_user(Role.district_admin),
        "operator": make_user(Role.operator),
    }


def form_data(world, **overrides):
    data = {"kind": "forum", "title": "桂花苑改造问需座谈会", "held_on": "2024-03-05",
            "estate_ids": [world["guihua"].id, world["mudan"].id], "attendee_count": "23",
            "organiser": "桂花社区居委会", "location": "社区二楼", "minutes_text": MINUTES}
    data.update(overrides)
    return data


def meeting_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Meeting))


def make_meeting(world, user=None, estates=("guihua", "mudan"), text=MINUTES) -> Meeting:
    data = services.MeetingInput(kind=MeetingKind.forum, title="桂花苑改造问需座谈会", held_on=date(2024, 3, 5),
                                 estate_ids=[world[e].id for e in estates], attendee_count=23, organiser="居委会")
    return services.create_meeting(user or world["staff"], data, pasted=text)


def drafts(*texts):
    return [ParsedPoint(t) for t in texts]


@pytest.fixture
def no_model(app):
    """The theme model is unavailable: points are kept untagged (and nothing crashes)."""
    app.config["THEME_MODEL_PATH"] = "/nonexistent/model.joblib"


# --- recording a meeting ----------------------------------------------------------------------

def test_pasted_minutes_open_the_split_for_review(client, world):
    login(client, world["staff"])
    response = client.post("/meetings/new", data=form_data(world))
    meeting = db.session.scalar(select(Meeting))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/meetings/{meeting.id}/points")
    assert meeting.street_id == world["heping"].id and meeting.status == "draft" and meeting.points == []
    assert [e.name for e in meeting.estates] == ["桂花苑", "牡丹园"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "共 3 条" in page
    for text in ("3号楼楼道灯坏了两个月了", "小区车位太少", "希望加装电梯"):
        assert text in page
    assert 'value="居民代表"' in page and "主持人" not in page.split("point-editor")[1]
    event = db.session.scalar(select(Event).where(Event.action == "meeting.create"))
    assert event.actor_id == world["staff"].id and event.after["estate_ids"] == meeting.estate_ids


def test_docx_upload(client, world):
    import docx

    document = docx.Document()
    document.add_heading("牡丹园议事会纪要", 1)
    document.add_paragraph("业主代表：小区监控坏了好几个，晚上不安全。")
    document.add_paragraph("6号楼住户说垃圾站太臭了")
    buffer = io.BytesIO()
    document.save(buffer)
    login(client, world["staff"])
    data = form_data(world, minutes_text="", minutes_file=(io.BytesIO(buffer.getvalue()), "议事会纪要.docx"))
    response = client.post("/meetings/new", data=data, content_type="multipart/form-data", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert "共 2 条" in page and "小区监控坏了好几个" in page and "垃圾站太臭了" in page
    assert db.session.scalar(select(Meeting.source_filename)) == "议事会纪要.docx"


@pytest.mark.parametrize("overrides,message", [
    ({"estate_ids": []}, "请至少选择一个小区。"),
    ({"title": ""}, "请填写会议名称。"),
    ({"held_on": ""}, "请填写会议日期"),
    ({"held_on": "2024-13-45"}, "请填写会议日期"),
    ({"held_on": (date.today() + timedelta(days=3)).isoformat()}, "会议日期不能晚于今天"),
    ({"attendee_count": "-1"}, "参会人数应在 0–100000 之间。"),
    ({"attendee_count": "很多"}, "参会人数"),
    ({"kind": "party"}, "不是有效的选择"),
    ({"organiser": ""}, "请填写组织者。"),
    ({"minutes_text": ""}, "请上传纪要文件或粘贴纪要内容。"),
    ({"minutes_text": "居民座谈会纪要\n时间：3月5日\n地点：社区"}, "没有找到可拆分的内容"),
    ({"minutes_text": "", "minutes_file": (b"", "纪要.txt")}, "文件是空的"),
    ({"minutes_text": "", "minutes_file": (b"%PDF-1.4", "纪要.pdf")}, "只支持 Word 文档（.docx）或纯文本文件（.txt）。"),
    ({"minutes_text": "", "minutes_file": (b"PK\x03\x04junk", "纪要.docx")}, "无法读取 Word 文档"),
])
def test_bad_input_is_explained_and_changes_nothing(client, world, overrides, message):
    if "minutes_file" in overrides:  # a fresh stream for each run (the parameters are shared)
        content, name = overrides["minutes_file"]
        overrides = {**overrides, "minutes_file": (io.BytesIO(content), name)}
    login(client, world["staff"])
    response = client.post("/meetings/new", data=form_data(world, **overrides), content_type="multipart/form-data")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert meeting_count() == 0
    assert db.session.scalar(select(func.count()).select_from(Event).where(Event.action.like("meeting.%"))) == 0


def test_street_staff_cannot_record_for_another_streets_estate(client, world):
    login(client, world["staff"])
    response = client.post("/meetings/new", data=form_data(world, estate_ids=[world["xinhuali"].id]))
    assert response.status_code == 422 and "新华里小区" not in response.get_data(as_text=True)
    assert meeting_count() == 0
    with pytest.raises(ServiceError, match="只能选择本街道的小区"):
        make_meeting(world, estates=("xinhuali",))
    with pytest.raises(ServiceError, match="必须属于同一个街道"):
        make_meeting(world, user=world["admin"], estates=("guihua", "xinhuali"))
    assert meeting_count() == 0


def test_operators_have_no_meeting_pages(client, world):
    meeting = make_meeting(world)
    login(client, world["operator"])
    for path in ("/meetings/", "/meetings/new", f"/meetings/{meeting.id}", f"/meetings/{meeting.id}/points"):
        assert client.get(path).status_code == 403


# --- reviewing the split ----------------------------------------------------------------------

def post_points(client, meeting, points, action, cursors=None):
    data = {"action": action}
    for i, (speaker, text) in enumerate(points):
        data[f"points-{i}-speaker"] = speaker or ""
        data[f"points-{i}-text"] = text
        data[f"points-{i}-cursor"] = str((cursors or {}).get(i, ""))
    return client.post(f"/meetings/{meeting.id}/points", data=data)


def textareas(html: str) -> list[str]:
    import re

    return [t.strip() for t in re.findall(r'<textarea[^>]*name="points-\d+-text"[^>]*>(.*?)</textarea>', html, re.S)]


def test_merge_split_and_delete_change_only_the_draft(client, world):
    meeting = make_meeting(world)
    login(client, world["staff"])
    points = [("楼长", "楼道灯坏了。"), ("3号楼居民", "车位太少。单元门也坏了。"), (None, "主持人宣布散会")]

    merged = post_points(client, meeting, points, "merge-0")
    assert merged.status_code == 200
    assert textareas(merged.get_data(as_text=True)) == [
        "楼道灯坏了。\n3号楼居民：车位太少。单元门也坏了。", "主持人宣布散会"]

    split = post_points(client, meeting, points, "split-1", cursors={1: 5})
    assert textareas(split.get_data(as_text=True)) == ["楼道灯坏了。", "车位太少。", "单元门也坏了。", "主持人宣布散会"]

    # the browser sends "\r\n" for a line break; splitting there works without a caret
    crlf = post_points(client, meeting, [(None, "停车难\r\n路灯不亮")], "split-0")
    assert textareas(crlf.get_data(as_text=True)) == ["停车难", "路灯不亮"]

    deleted = post_points(client, meeting, points, "delete-2")
    assert textareas(deleted.get_data(as_text=True)) == ["楼道灯坏了。", "车位太少。单元门也坏了。"]

    refused = post_points(client, meeting, points, "merge-2")
    assert refused.status_code == 422 and "最后一条没有下一条可以合并" in refused.get_data(as_text=True)
    assert textareas(refused.get_data(as_text=True)) == [t for _, t in points]  # the draft is kept as it was

    assert post_points(client, meeting, points, "explode-1").status_code == 400
    assert db.session.scalar(select(func.count()).select_from(MinutesPoint)) == 0  # nothing saved yet

    reparsed = post_points(client, meeting, points, "reparse")
    assert "希望加装电梯" in reparsed.get_data(as_text=True)


def test_a_too_long_speaker_is_refused(client, world):
    meeting = make_meeting(world)
    login(client, world["staff"])
    response = post_points(client, meeting, [("长" * 65, "楼道灯坏了。")], "save")
    assert response.status_code == 422 and "发言人最多 64 字。" in response.get_data(as_text=True)
    assert meeting.points == []


def test_saving_without_the_model_keeps_points_untagged(client, world, no_model):
    meeting = make_meeting(world)
    login(client, world["staff"])
    response = post_points(client, meeting, [("楼长", "楼道灯坏了。"), (None, "   "), (None, "车位太少。")], "save")
    assert response.status_code == 302
    db.session.refresh(meeting)
    assert [(p.position, p.speaker, p.text) for p in meeting.points] == [(1, "楼长", "楼道灯坏了。"), (2, None, "车位太少。")]
    assert all(p.needs_review and p.themes == [] for p in meeting.points)
    assert db.session.scalar(select(func.count()).select_from(DemandSignal)) == 0
    assert meeting.status == "recorded"
    page = client.get("/meetings/").get_data(as_text=True)  # the flash shows on the next page
    assert "已保存 2 条要点。主题识别暂不可用，请逐条标注主题。" in page


def test_saving_nothing_is_refused(client, world):
    meeting = make_meeting(world)
    login(client, world["staff"])
    response = post_points(client, meeting, [(None, "  ")], "save")
    assert response.status_code == 422 and "至少保留一条" in response.get_data(as_text=True)
    assert meeting.points_saved_at is None


def signals():
    return db.session.scalars(select(DemandSignal).order_by(DemandSignal.record_id, DemandSignal.estate_id,
                                                             DemandSignal.theme)).all()


def test_a_point_counts_for_each_estate_of_the_meeting(world, no_model):
    meeting = make_meeting(world)
    services.save_points(world["staff"], meeting, drafts("楼道灯坏了。", "电动车在楼道里飞线充电。"))
    first, second = meeting.points
    services.confirm_point_tags(world["staff"], first, ["lighting"], False)
    services.confirm_point_tags(world["staff"], second, ["ev_charging", "fire_safety"], True)
    rows = signals()
    assert {(s.record_id, s.estate_id, s.theme, s.urgent) for s in rows} == {
        (str(first.id), world["guihua"].id, "lighting", False), (str(first.id), world["mudan"].id, "lighting", False),
        (str(second.id), world["guihua"].id, "ev_charging", True), (str(second.id), world["mudan"].id, "ev_charging", True),
        (str(second.id), world["guihua"].id, "fire_safety", True), (str(second.id), world["mudan"].id, "fire_safety", True)}
    assert all(s.source == SignalSource.minutes and s.street_id == world["heping"].id for s in rows)
    assert {s.reporter_key for s in rows if s.record_id == str(second.id)} == {reporter_key("meeting", f"{meeting.id}:2")}
    assert {s.occurred_at for s in rows} == {to_utc_naive(datetime.combine(date(2024, 3, 5), time()))}

    # moving the meeting to one estate moves its demand with it
    services.update_meeting(world["staff"], meeting, services.MeetingInput(
        kind=MeetingKind.council, title="桂花苑议事会", held_on=date(2024, 3, 6), estate_ids=[world["guihua"].id],
        attendee_count=10, organiser="居委会"))
    assert {s.estate_id for s in signals()} == {world["guihua"].id} and len(signals()) == 3

    # re-saving the split keeps hand-checked tags of unchanged points and drops removed points' demand
    services.save_points(world["staff"], meeting, drafts("电动车在楼道里飞线充电。"))
    assert [(p.position, p.themes, p.tags_confirmed) for p in meeting.points] == [(1, ["ev_charging", "fire_safety"], True)]
    assert {(s.record_id, s.theme) for s in signals()} == {(str(meeting.points[0].id), "ev_charging"),
                                                           (str(meeting.points[0].id), "fire_safety")}
    event = db.session.scalar(select(Event).where(Event.action == "meeting.points.save").order_by(Event.id.desc()))
    assert event.before == {"points": ["楼道灯坏了。", "电动车在楼道里飞线充电。"]}
    assert event.after == {"points": ["电动车在楼道里飞线充电。"]}


@pytest.mark.tagging
def test_saving_the_split_tags_every_point(client, world):
    meeting = make_meeting(world)
    login(client, world["staff"])
    response = post_points(client, meeting, [("楼长", "3号楼楼道灯坏了两个月了，晚上上下楼看不见"),
                                             ("3号楼居民", "电动车推进楼道里飞线充电，怕起火")], "save")
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已保存 2 条要点，并识别了主题。" in page
    db.session.refresh(meeting)
    lamp, charging = meeting.points
    assert "lighting" in lamp.themes and "ev_charging" in charging.themes
    assert lamp.model_version and not lamp.tags_confirmed
    counted = db.session.scalar(select(func.count()).select_from(DemandSignal).where(
        DemandSignal.record_id == str(charging.id)))
    assert counted == 2 * len(charging.themes)  # every theme, for both estates


def test_correcting_a_points_tags(client, world, no_model):
    meeting = make_meeting(world)
    services.save_points(world["staff"], meeting, drafts("楼道灯坏了。"))
    point = meeting.points[0]
    login(client, world["staff"])
    url = f"/meetings/{meeting.id}/points/{point.id}/tags"
    bad = client.post(url, data={"themes": ["other", "parking"]})
    assert bad.status_code == 422 and "“其他”主题只能单独使用。" in bad.get_data(as_text=True)
    assert client.post(url, data={"themes": ["nonsense"]}).status_code == 422
    assert client.post(url, data={"themes": ["lighting"], "urgent": "y"}).status_code == 302
    db.session.refresh(point)
    assert (point.themes, point.urgent, point.tags_confirmed, point.needs_review) == (["lighting"], True, True, False)
    event = db.session.scalar(select(Event).where(Event.action == "meeting.point.tags.correct"))
    assert event.before["themes"] == [] and event.after == {"themes": ["lighting"], "urgent": True, "needs_review": False}
    assert event.street_id == world["heping"].id


# --- the closing record -----------------------------------------------------------------------

def test_closing_record_outcomes_and_follow_up_actions(client, world):
    meeting = make_meeting(world)
    login(client, world["staff"])
    page = client.post(f"/meetings/{meeting.id}/close", data={"outcomes": ""}, follow_redirects=True).get_data(as_text=True)
    assert "请填写会议结论。" in page and meeting.closed_at is None

    client.post(f"/meetings/{meeting.id}/close", data={"outcomes": "路灯本月内修复；停车问题纳入改造方案。"})
    db.session.refresh(meeting)
    assert meeting.status == "closed" and meeting.outcomes == "路灯本月内修复；停车问题纳入改造方案。"

    for data, message in [
        ({"description": "修路灯", "owner": "", "due_on": "2024-03-31"}, "请填写责任人或责任单位。"),
        ({"description": "修路灯", "owner": "物业", "due_on": "三月底"}, "请填写完成期限"),
        ({"description": "修路灯", "owner": "物业", "due_on": "2024-03-01"}, "完成期限不能早于会议日期。"),
        ({"description": "", "owner": "物业", "due_on": "2024-03-31"}, "请填写要落实的事项。"),
    ]:
        page = client.post(f"/meetings/{meeting.id}/actions", data=data, follow_redirects=True).get_data(as_text=True)
        assert message in page
    assert db.session.scalar(select(func.count()).select_from(MeetingAction)) == 0

    client.post(f"/meetings/{meeting.id}/actions", data={"description": "更换3号楼楼道灯", "owner": "桂花物业",
                                                         "due_on": "2024-03-31"})
    action = db.session.scalar(select(MeetingAction))
    assert (action.description, action.owner, action.due_on, action.project_id) == (
        "更换3号楼楼道灯", "桂花物业", date(2024, 3, 31), None)
    assert action.is_overdue(date(2024, 4, 1)) and not action.is_overdue(date(2024, 3, 31))

    client.post(f"/meetings/{meeting.id}/actions/{action.id}/done", data={"done": "1"})
    db.session.refresh(action)
    assert action.done_at is not None and not action.is_overdue(date(2030, 1, 1))
    done = db.session.scalar(select(Event).where(Event.action == "meeting.action.done"))
    assert done.before["done_at"] is None and done.after["done_at"] is not None

    client.post(f"/meetings/{meeting.id}/actions/{action.id}/delete")
    assert db.session.scalar(select(func.count()).select_from(MeetingAction)) == 0
    assert db.session.scalar(select(Event).where(Event.action == "meeting.action.delete")).before["owner"] == "桂花物业"
    closed = db.session.scalar(select(Event).where(Event.action == "meeting.close"))
    assert closed.before == {"outcomes": None} and closed.after["outcomes"].startswith("路灯本月内修复")


def test_deleting_a_meeting_removes_its_demand(client, world, no_model):
    meeting = make_meeting(world)
    services.save_points(world["staff"], meeting, drafts("楼道灯坏了。"))
    services.confirm_point_tags(world["staff"], meeting.points[0], ["lighting"], False)
    assert len(signals()) == 2
    login(client, world["staff"])
    response = client.post(f"/meetings/{meeting.id}/delete", follow_redirects=True)
    assert "已删除会议「桂花苑改造问需座谈会」及其要点。" in response.get_data(as_text=True)
    assert meeting_count() == 0 and signals() == []
    assert db.session.scalar(select(func.count()).select_from(MinutesPoint)) == 0
    assert db.session.scalar(select(Event).where(Event.action == "meeting.delete")).before["points"] == 1


# --- scoping ----------------------------------------------------------------------------------

@pytest.mark.parametrize("method,path", [
    ("get", "/meetings/{m}"), ("get", "/meetings/{m}/edit"), ("post", "/meetings/{m}/edit"),
    ("get", "/meetings/{m}/points"), ("post", "/meetings/{m}/points"), ("get", "/meetings/{m}/minutes.txt"),
    ("get", "/meetings/{m}/points/{p}/tags"), ("post", "/meetings/{m}/points/{p}/tags"),
    ("post", "/meetings/{m}/close"), ("post", "/meetings/{m}/actions"), ("post", "/meetings/{m}/actions/{a}/done"),
    ("post", "/meetings/{m}/actions/{a}/delete"), ("post", "/meetings/{m}/delete"),
])
def test_another_streets_meeting_is_not_found(client, world, no_model, method, path):
    meeting = make_meeting(world)
    services.save_points(world["staff"], meeting, drafts("楼道灯坏了。"))
    action = services.add_action(world["staff"], meeting, "修灯", "物业", date(2024, 3, 31))
    login(client, world["other_staff"])
    url = path.format(m=meeting.id, p=meeting.points[0].id, a=action.id)
    response = getattr(client, method)(url, data={
        "action": "save", "points-0-text": "改掉", "outcomes": "改掉", "description": "x", "owner": "x",
        "due_on": "2024-04-01", "themes": ["parking"], "done": "1", "title": "改掉", "kind": "forum",
        "held_on": "2024-03-05", "estate_ids": [world["xinhuali"].id], "attendee_count": "1", "organiser": "x"})
    assert response.status_code == 404
    assert "楼道灯" not in response.get_data(as_text=True)
    db.session.expire_all()
    meeting = db.session.get(Meeting, meeting.id)
    assert meeting.title == "桂花苑改造问需座谈会" and meeting.outcomes is None
    assert [p.text for p in meeting.points] == ["楼道灯坏了。"] and meeting.actions[0].done_at is None


def test_lists_are_scoped_and_filtered(client, world):
    mine = make_meeting(world)
    theirs = services.create_meeting(world["admin"], services.MeetingInput(
        kind=MeetingKind.needs, title="新华里加装电梯问需会", held_on=date(2024, 4, 1),
        estate_ids=[world["xinhuali"].id], attendee_count=8, organiser="新华里社区"), pasted="居民：加装电梯。")
    login(client, world["staff"])
    page = client.get("/meetings/").get_data(as_text=True)
    assert mine.title in page and theirs.title not in page
    assert theirs.title not in client.get(f"/meetings/?estate_id={world['xinhuali'].id}").get_data(as_text=True)
    assert mine.title not in client.get("/meetings/?kind=needs").get_data(as_text=True)
    assert mine.title in client.get("/meetings/?q=问需").get_data(as_text=True)
    client.post("/logout")
    login(client, world["admin"])
    page = client.get("/meetings/").get_data(as_text=True)
    assert mine.title in page and theirs.title in page
    assert "新华里加装电梯" in client.get("/meetings/?kind=needs").get_data(as_text=True)


def test_new_meeting_form_offers_only_own_estates(client, world):
    login(client, world["staff"])
    page = client.get("/meetings/new").get_data(as_text=True)
    assert "桂花苑" in page and "牡丹园" in page and "新华里小区" not in page


def test_demand_click_through_is_scoped(app, world, no_model):
    from portal.demand.sources import load_records

    meeting = make_meeting(world)
    services.save_points(world["staff"], meeting, drafts("楼道灯坏了。"))
    pair = (SignalSource.minutes, str(meeting.points[0].id))
    with app.test_request_context():
        ref = load_records([pair], world["staff"])[pair]
        assert ref.text == "楼道灯坏了。" and ref.url == f"/meetings/{meeting.id}#point-{meeting.points[0].id}"
        assert "座谈会「桂花苑改造问需座谈会」第 1 条" == ref.label
        assert load_records([pair], world["other_staff"]) == {}
        assert load_records([pair], world["operator"]) == {}


def test_editing_a_meeting_through_its_page(client, world):
    meeting = make_meeting(world)
    login(client, world["staff"])
    form = client.get(f"/meetings/{meeting.id}/edit").get_data(as_text=True)
    assert 'value="桂花苑改造问需座谈会"' in form and 'selected value="forum"' in form
    assert f'checked id="estate_ids-0" name="estate_ids" type="checkbox" value="{world["guihua"].id}"' in form
    response = client.post(f"/meetings/{meeting.id}/edit", data=form_data(
        world, title="桂花苑议事会（第二次）", kind="council", estate_ids=[world["mudan"].id]))
    assert response.status_code == 302
    db.session.refresh(meeting)
    assert (meeting.title, meeting.kind, meeting.estate_ids) == ("桂花苑议事会（第二次）", MeetingKind.council,
                                                                 [world["mudan"].id])
    event = db.session.scalar(select(Event).where(Event.action == "meeting.update"))
    assert event.before["title"] == "桂花苑改造问需座谈会" and event.after["title"] == "桂花苑议事会（第二次）"
    assert event.before["estate_ids"] == sorted([world["guihua"].id, world["mudan"].id])
    bad = client.post(f"/meetings/{meeting.id}/edit", data=form_data(world, title="", estate_ids=[world["mudan"].id]))
    assert bad.status_code == 422 and "请填写会议名称。" in bad.get_data(as_text=True)
    db.session.refresh(meeting)
    assert meeting.title == "桂花苑议事会（第二次）"


@pytest.mark.tagging
def test_meeting_page_groups_points_by_theme_with_keywords_and_similar_open_tickets(client, world):
    from portal.tickets.models import TicketStatus
    from tests.helpers import make_ticket

    meeting = make_meeting(world)
    services.save_points(world["staff"], meeting, drafts(
        "3号楼楼道灯坏了两个月，晚上上下楼看不见", "5号楼楼道灯也不亮，老人摔过跤", "电动车推进楼道里飞线充电，很危险"))
    make_ticket("桂花苑3号楼楼道灯坏了两个月，晚上上下楼看不见", estate=world["guihua"], street=world["heping"],
                status=TicketStatus.dispatched, number="HP-OPEN", themes=("lighting",))
    make_ticket("桂花苑3号楼楼道灯坏了两个月，晚上上下楼看不见", estate=world["guihua"], street=world["heping"],
                status=TicketStatus.resolved, number="HP-DONE", themes=("lighting",))
    make_ticket("新华里小区3号楼楼道灯坏了两个月，晚上上下楼看不见", estate=world["xinhuali"], street=world["xinhua"],
                status=TicketStatus.dispatched, number="XH-OPEN", themes=("lighting",))
    login(client, world["staff"])
    html = client.get(f"/meetings/{meeting.id}").get_data(as_text=True)
    lighting = html.split('id="theme-lighting"')[1].split('class="theme-group"')[0]
    assert "照明" in lighting and "3号楼楼道灯坏了" in lighting and "5号楼楼道灯也不亮" in lighting
    assert "飞线充电" not in lighting
    assert "楼道" in lighting.split("关键词：")[1].split("</p>")[0]  # keywords of the theme's points
    similar = html.split('id="similar"')[1].split("</section>")[0]
    assert "HP-OPEN" in similar
    assert "HP-DONE" not in similar and "XH-OPEN" not in similar  # resolved, or another street's
    assert 'id="themes-chart"' in html and 'id="themes-table"' in html
