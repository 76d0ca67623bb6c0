"""Online suggestions: the resident's page and private link, abuse limits, the street's queue, scoping, masking."""
import re

import pytest
from sqlalchemy import func, select

from portal.accounts.models import Role
from portal.audit.models import Event
from portal.demand.models import DemandSignal, SignalSource
from portal.demand.services import reporter_key
from portal.extensions import db
from portal.suggestions import services
from portal.suggestions.models import Suggestion, SuggestionStatus
from tests.helpers import login, make_community, make_estate, make_street, make_user


@pytest.fixture
def world(app):
    heping, xinhua = make_street("和平街道"), make_street("新华街道")
    return {
        "heping": heping, "xinhua": xinhua,
        "guihua": make_estate(make_community(heping, "桂花社区"), "桂花苑"),
        "xinhuali": make_estate(make_community(xinhua, "新华里社区"), "新华里小区"),
        "staff": make_user(Role.street_staff, street=heping),
        "other_staff": make_user(Role.street_staff, street=xinhua),
        "admin": make_user(Role.district_admin),
        "operator": make_user(Role.operator),
    }


@pytest.fixture
def no_model(app):
    app.config["THEME_MODEL_PATH"] = "/nonexistent/model.joblib"


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(Suggestion))


def submit(client, world, **overrides):
    data = {"estate_id": world["guihua"].id, "content": "3号楼楼道灯坏了一个月，晚上上下楼看不见。",
            "contact_name": "张伟", "contact_phone": "138 1234 5678", "website": ""}
    data.update(overrides)
    return client.post("/suggest/", data=data)


def private_link(client) -> str:
    page = client.get("/suggest/thanks").get_data(as_text=True)
    match = re.search(r'id="private-link" href="http://localhost(/suggest/r/[^"]+)"', page)
    assert match, page
    return match.group(1)


def test_the_page_lists_every_estate_by_street_and_presets_one_from_a_qr_link(client, world):
    page = client.get("/suggest/").get_data(as_text=True)
    assert '<optgroup label="和平街道 · 桂花社区">' in page and '<optgroup label="新华街道 · 新华里社区">' in page
    assert 'selected' not in page.split('name="estate_id"')[1].split("</select>")[0]
    preset = client.get(f"/suggest/?estate={world['xinhuali'].id}").get_data(as_text=True)
    assert f'<option value="{world["xinhuali"].id}" selected>新华里小区</option>' in preset
    assert "小区：<strong>新华里小区</strong>" in preset
    assert client.get("/suggest/?estate=99999").status_code == 200  # an unknown estate is simply not preset
    assert client.get(f"/suggest?estate={world['guihua'].id}").status_code in (301, 308)  # QR links without a slash


def test_a_suggestion_lands_in_its_streets_queue_with_a_private_link_shown_once(client, world, no_model):
    response = submit(client, world)
    assert response.status_code == 302 and response.headers["Location"].endswith("/suggest/thanks")
    suggestion = db.session.scalar(select(Suggestion))
    assert (suggestion.street_id, suggestion.estate_id) == (world["heping"].id, world["guihua"].id)
    assert suggestion.contact_phone == "13812345678" and suggestion.status == SuggestionStatus.open
    link = private_link(client)
    token = link.rsplit("/", 1)[1]
    assert len(token) >= 32 and token not in suggestion.access_token_hash
    assert suggestion.access_token_hash == services.hash_token(token)
    again = client.get("/suggest/thanks").get_data(as_text=True)
    assert "链接已显示过" in again and token not in again
    page = client.get(link)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert "3号楼楼道灯坏了一个月" in html and "街道还没有回复" in html
    assert "13812345678" not in html and "张伟" not in html  # the link shows no contact details
    event = db.session.scalar(select(Event).where(Event.action == "suggestion.create"))
    assert event.actor_id is None and event.after["has_contact"] is True and "13812345678" not in str(event.after)


def test_contact_details_are_optional(client, world, no_model):
    assert submit(client, world, contact_name="", contact_phone="").status_code == 302
    suggestion = db.session.scalar(select(Suggestion))
    assert suggestion.contact_name is None and suggestion.contact_phone is None


@pytest.mark.parametrize("overrides,message", [
    ({"estate_id": ""}, "请选择您所在的小区。"),
    ({"estate_id": "99999"}, "请选择您所在的小区。"),
    ({"estate_id": "桂花苑"}, "请选择您所在的小区。"),
    ({"content": ""}, "请写下您的意见或建议。"),
    ({"content": "灯坏"}, "请用 5–1000 个字写下您的建议。"),
    ({"content": "灯" * 1001}, "请用 5–1000 个字写下您的建议。"),
    ({"contact_phone": "12345"}, "联系电话格式不对"),
    ({"contact_phone": "1381234567x"}, "联系电话格式不对"),
    ({"contact_name": "张" * 33}, "称呼最多 32 个字。"),
])
def test_bad_input_is_explained_and_stores_nothing(client, world, overrides, message):
    response = submit(client, world, **overrides)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert count() == 0


def test_the_honeypot_stops_bots(client, world):
    response = submit(client, world, website="http://spam.example")
    assert response.status_code == 400 and "提交未成功" in response.get_data(as_text=True)
    assert count() == 0


@pytest.mark.parametrize("app_config", [{"SUGGESTION_RATE_LIMIT": "2 per minute"}])
def test_submissions_are_rate_limited_per_address(client, world, no_model, app_config):
    assert submit(client, world).status_code == 302
    assert submit(client, world, content="太少了吧这个小区的车位").status_code == 302
    blocked = submit(client, world, content="第三条建议：垃圾清运太慢")
    assert blocked.status_code == 429 and "操作太频繁" in blocked.get_data(as_text=True)
    assert count() == 2


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_csrf_is_required(client, world, no_model, app_config):
    response = submit(client, world)
    assert response.status_code == 400 and "页面已过期" in response.get_data(as_text=True)
    assert count() == 0
    page = client.get("/suggest/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert submit(client, world, csrf_token=token).status_code == 302 and count() == 1


def test_unknown_private_links_are_not_found(client, world):
    assert client.get("/suggest/r/not-a-real-token").status_code == 404
    assert client.get("/suggest/r/" + "x" * 500).status_code == 404


def test_staff_reply_reaches_the_private_link(client, world, no_model):
    submit(client, world)
    link = private_link(client)
    suggestion = db.session.scalar(select(Suggestion))
    login(client, world["staff"])
    empty = client.post(f"/suggestions/{suggestion.id}/reply", data={"reply-reply": "  "})
    assert empty.status_code == 422 and "请填写回复内容" in empty.get_data(as_text=True)
    assert client.post(f"/suggestions/{suggestion.id}/reply", data={"reply-reply": "已安排物业本周更换楼道灯。"}).status_code == 302
    client.post("/logout")
    html = client.get(link).get_data(as_text=True)
    assert "已安排物业本周更换楼道灯。" in html and "和平街道回复" in html and "已回复" in html
    event = db.session.scalar(select(Event).where(Event.action == "suggestion.reply"))
    assert event.actor_id == world["staff"].id
    assert event.before == {"status": "open", "reply": None}
    assert event.after == {"status": "replied", "reply": "已安排物业本周更换楼道灯。"}


def make_suggestion(world, estate="guihua", content="3号楼楼道灯坏了一个月。", phone="13812345678", name="张伟"):
    suggestion, _ = services.submit(services.SuggestionInput(estate_id=world[estate].id, content=content,
                                                             contact_name=name, contact_phone=phone))
    return suggestion


@pytest.mark.parametrize("method,path", [
    ("get", "/suggestions/{id}"), ("post", "/suggestions/{id}/reply"), ("post", "/suggestions/{id}/tags"),
])
def test_another_streets_suggestion_is_not_found(client, world, no_model, method, path):
    theirs = make_suggestion(world, estate="xinhuali", content="新华里小区下水道堵了")
    login(client, world["staff"])
    response = getattr(client, method)(path.format(id=theirs.id), data={"reply-reply": "改掉", "tags-themes": "parking"})
    assert response.status_code == 404 and "下水道" not in response.get_data(as_text=True)
    db.session.refresh(theirs)
    assert theirs.reply is None and theirs.themes == []


def test_the_queue_is_scoped_and_filtered(client, world, no_model):
    mine = make_suggestion(world, content="桂花苑3号楼楼道灯坏了")
    make_suggestion(world, estate="xinhuali", content="新华里小区下水道堵了")
    services.confirm_tags(world["admin"], mine, ["lighting"], True)
    login(client, world["staff"])
    page = client.get("/suggestions/").get_data(as_text=True)
    assert "楼道灯坏了" in page and "下水道" not in page
    assert "楼道灯坏了" in client.get("/suggestions/?theme=lighting&urgent=1").get_data(as_text=True)
    assert "楼道灯坏了" not in client.get("/suggestions/?theme=parking").get_data(as_text=True)
    assert "楼道灯坏了" not in client.get("/suggestions/?status=replied").get_data(as_text=True)
    assert "下水道" not in client.get(f"/suggestions/?estate_id={world['xinhuali'].id}").get_data(as_text=True)
    client.post("/logout")
    login(client, world["operator"])
    assert client.get("/suggestions/").status_code == 403


def test_signals_follow_the_tags(world, no_model):
    suggestion = make_suggestion(world)
    assert db.session.scalar(select(func.count()).select_from(DemandSignal)) == 0  # untagged: not counted yet
    services.confirm_tags(world["staff"], suggestion, ["lighting", "security"], False)
    rows = db.session.scalars(select(DemandSignal).order_by(DemandSignal.theme)).all()
    assert [(s.source, s.record_id, s.estate_id, s.street_id, s.theme) for s in rows] == [
        (SignalSource.suggestion, str(suggestion.id), world["guihua"].id, world["heping"].id, "lighting"),
        (SignalSource.suggestion, str(suggestion.id), world["guihua"].id, world["heping"].id, "security")]
    assert {s.reporter_key for s in rows} == {reporter_key("suggestion", "13812345678")}
    anonymous = make_suggestion(world, phone="", name="")
    services.confirm_tags(world["staff"], anonymous, ["parking"], False)
    key = db.session.scalar(select(DemandSignal.reporter_key).where(DemandSignal.record_id == str(anonymous.id)))
    assert key == reporter_key("suggestion", anonymous.id)


@pytest.mark.tagging
def test_submitted_suggestions_are_tagged_like_tickets(client, world):
    submit(client, world, content="楼道里有人把电动车推进来飞线充电，晚上插着电没人看着，怕起火")
    suggestion = db.session.scalar(select(Suggestion))
    assert "ev_charging" in suggestion.themes and suggestion.model_version
    themes = set(db.session.scalars(select(DemandSignal.theme).where(DemandSignal.source == SignalSource.suggestion)))
    assert themes == set(suggestion.themes)


@pytest.mark.tagging
def test_contact_details_are_masked_for_street_staff_only(client, world, no_model):
    suggestion = make_suggestion(world, content="3号楼楼道灯坏了，有事打我电话13812345678。")
    login(client, world["staff"])
    html = client.get(f"/suggestions/{suggestion.id}").get_data(as_text=True)
    assert "13812345678" not in html and "张伟" not in html  # in the contact and in the text
    assert "张*" in html and "138****5678" in html
    listing = client.get("/suggestions/").get_data(as_text=True)
    assert "13812345678" not in listing
    client.post("/logout")
    login(client, world["admin"])
    html = client.get(f"/suggestions/{suggestion.id}").get_data(as_text=True)
    assert "13812345678" in html and "张伟" in html


def test_qr_codes_point_at_the_estates_page(client, world):
    login(client, world["staff"])
    page = client.get("/suggestions/links").get_data(as_text=True)
    assert f"http://localhost/suggest/?estate={world['guihua'].id}" in page and "新华里小区" not in page
    svg = client.get(f"/suggestions/qr/{world['guihua'].id}.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml" and b"<svg" in svg.data
    assert client.get(f"/suggestions/qr/{world['xinhuali'].id}.svg").status_code == 404


def test_demand_click_through_is_scoped(app, world, no_model):
    from portal.demand.sources import load_records

    suggestion = make_suggestion(world)
    pair = (SignalSource.suggestion, str(suggestion.id))
    with app.test_request_context():
        assert load_records([pair], world["admin"])[pair].url == f"/suggestions/{suggestion.id}"
        assert load_records([pair], world["other_staff"]) == {}
        assert load_records([pair], world["operator"]) == {}
