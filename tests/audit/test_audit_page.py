"""/audit: the event log for district_admin only; kinds, filters, paging, the export and its own event;
personal-data views of tickets and suggestions are logged; bad query strings never crash the page."""
from __future__ import annotations

import io
import re
from datetime import datetime

import pytest
from flask import g
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings, strategies as st
from openpyxl import load_workbook
from sqlalchemy import func, select

from portal.accounts.models import Role
from portal.audit.models import Event
from portal.audit.services import record_event
from portal.extensions import db
from portal.tickets import services as tickets
from tests.helpers import login, make_estate, make_community, make_street, make_ticket, make_user
from tests.review.builders import make_suggestion


class FreshUserClient(FlaskClient):
    """The test's app context outlives each request, and Flask-Login caches the user in `g` there:
    forget it so clients of different users do not see each other's login."""

    def open(self, *args, **kwargs):
        g.pop("_login_user", None)
        return super().open(*args, **kwargs)


@pytest.fixture(autouse=True)
def fresh_user_clients(app):
    app.test_client_class = FreshUserClient


def events(**where):
    stmt = select(Event)
    for key, value in where.items():
        stmt = stmt.where(getattr(Event, key) == value)
    return db.session.scalars(stmt.order_by(Event.id)).all()


def row_ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-event-id="(\d+)"', html)]


@pytest.fixture
def world(app, client):
    heping, xinhua = make_street("和平街道"), make_street("新华街道")
    estate = make_estate(make_community(heping, "桂花社区"), "桂花苑")
    admin = make_user(Role.district_admin, username="admin")
    operator = make_user(Role.operator, username="operator")
    staff = make_user(Role.street_staff, street=heping, username="heping")
    ticket = make_ticket("楼道漏水", estate=estate, themes=("building_safety",), caller_name="张伟",
                         caller_phone="13812345678")
    other = make_ticket("新华的工单", themes=("parking",))
    return {"heping": heping, "xinhua": xinhua, "estate": estate, "admin": admin, "operator": operator,
            "staff": staff, "ticket": ticket, "other": other}


@pytest.fixture
def busy(world, app):
    """One of every kind, written by the real code paths (logins through the login form)."""
    w = world
    ops = app.test_client()
    assert ops.post("/login", data={"username": "operator", "password": "wrong-password"}).status_code == 200
    assert ops.post("/login", data={"username": "=HYPERLINK(\"http://x\")", "password": "x"}).status_code == 200
    login(ops, w["operator"])
    assert ops.get(f"/tickets/{w['ticket'].id}").status_code == 200            # personal data view
    assert ops.get("/tickets/export.xlsx?q=漏水").status_code == 200           # export
    tickets.confirm_tags(w["operator"], w["ticket"], ["drainage"], False)      # correction
    tickets.dispatch(w["operator"], w["ticket"], w["heping"].id, note="请处理")  # other write
    db.session.commit()
    return w


def test_only_district_admin_sees_the_audit_page(world, client):
    assert client.get("/audit/").status_code == 302  # to the login page
    for user in (world["operator"], world["staff"]):
        c = client.application.test_client()
        login(c, user)
        assert c.get("/audit/").status_code == 403
        assert c.get("/audit/export.xlsx").status_code == 403
        assert "审计日志" not in c.get("/workbench").get_data(as_text=True)
    login(client, world["admin"])
    assert client.get("/audit/").status_code == 200
    assert 'href="/audit/"' in client.get("/workbench").get_data(as_text=True)
    assert not events(action="export", object_type="events")  # looking is not exporting


def test_every_kind_is_recorded_and_filterable(busy, client):
    login(client, busy["admin"])
    expected = {
        "login_failed": {"login.failed"},
        "login": {"login", "login.failed"},
        "personal_data": {"personal_data.view"},
        "export": {"export"},
        "correction": {"ticket.tags.correct"},
        "other": {"ticket.dispatch"},
    }
    all_ids = {e.id: e.action for e in events()}
    for kind, actions in expected.items():
        html = client.get(f"/audit/?kind={kind}").get_data(as_text=True)
        shown = {all_ids[i] for i in row_ids(html) if i in all_ids}
        assert shown == actions, (kind, shown)
    failed = events(action="login.failed")
    assert [e.actor_id for e in failed] == [busy["operator"].id, None]  # an unknown name has no actor
    view = events(action="personal_data.view")[0]
    assert (view.actor_id, view.object_type, view.object_id) == (busy["operator"].id, "tickets", str(busy["ticket"].id))
    assert view.after == {"fields": ["来电人", "联系电话"]}


def test_list_is_newest_first_and_shows_who_and_what(busy, client):
    login(client, busy["admin"])
    html = client.get("/audit/").get_data(as_text=True)
    ids = row_ids(html)
    newest_first = [e.id for e in db.session.scalars(select(Event).order_by(Event.created_at.desc(), Event.id.desc()))]
    assert ids == newest_first[: len(ids)] and len(ids) >= 7
    assert "登录失败" in html and "查看个人信息" in html and "operator" in html and "系统 / 未登录" in html
    assert f'href="/tickets/{busy["ticket"].id}"' in html
    assert "status" in html and "dispatched" in html  # the dispatch's before/after


def test_filters_by_actor_street_object_and_note(busy, client):
    w = busy
    login(client, w["admin"])
    by_id = {e.id: e for e in events()}

    def shown(query):
        response = client.get("/audit/?" + query)
        assert response.status_code == 200
        return [by_id[i] for i in row_ids(response.get_data(as_text=True)) if i in by_id]

    assert {e.actor_id for e in shown(f"actor={w['operator'].id}")} == {w["operator"].id}
    assert [e.action for e in shown("actor=none")] == ["login.failed"]
    assert {e.street_id for e in shown(f"street_id={w['heping'].id}")} == {w["heping"].id}
    assert {e.object_type for e in shown("object_type=tickets")} == {"tickets"}
    assert [e.action for e in shown("q=HYPERLINK")] == ["login.failed"]
    assert [e.action for e in shown("q=" + "工单导出")] == ["export"]
    assert shown("kind=export&actor=" + str(w["admin"].id)) == []
    # LIKE's wildcards are plain characters in the search box
    record_event(None, "system.note", object_type="system", note="100% 完成 a_b")
    record_event(None, "system.note", object_type="system", note="100 完成 axb")
    db.session.commit()
    by_id.update({e.id: e for e in events(action="system.note")})
    assert [e.note for e in shown("q=a_b")] == ["100% 完成 a_b"]
    assert [e.note for e in shown("q=100%25")] == ["100% 完成 a_b"]


def test_date_range_is_in_local_days(world, client):
    login(client, world["admin"])
    late = record_event(None, "system.note", object_type="system", note="深夜")
    late.created_at = datetime(2025, 3, 1, 15, 30)  # 23:30 in Beijing on 1 March
    early = record_event(None, "system.note", object_type="system", note="次日")
    early.created_at = datetime(2025, 3, 1, 16, 30)  # 00:30 on 2 March
    db.session.commit()

    def notes(query):
        html = client.get("/audit/?object_type=system&" + query).get_data(as_text=True)
        return [db.session.get(Event, i).note for i in row_ids(html)]

    assert notes("date_from=2025-03-01&date_to=2025-03-01") == ["深夜"]
    assert notes("date_from=2025-03-02") == ["次日"]
    assert notes("date_to=2025-03-01") == ["深夜"]
    assert notes("date_from=2025-03-02&date_to=2025-03-01") == ["次日", "深夜"]  # reversed ends are swapped


def test_pagination_keeps_the_filters(world, client, app):
    login(client, world["admin"])
    for n in range(120):
        record_event(None, "system.note", object_type="system", note=f"第{n}条")
    db.session.commit()
    per_page = app.config["PAGE_SIZE"]
    first = client.get("/audit/?object_type=system").get_data(as_text=True)
    assert len(row_ids(first)) == per_page and "共 120 条" in first and "第 1 / 3 页" in first
    assert re.search(r'href="/audit/\?[^"]*object_type=system[^"]*page=2|href="/audit/\?[^"]*page=2[^"]*object_type=system', first)
    last = client.get("/audit/?object_type=system&page=3").get_data(as_text=True)
    assert len(row_ids(last)) == 120 - 2 * per_page
    pages = set()
    for page in (1, 2, 3):
        pages |= set(row_ids(client.get(f"/audit/?object_type=system&page={page}").get_data(as_text=True)))
    assert len(pages) == 120
    assert row_ids(client.get("/audit/?object_type=system&page=99").get_data(as_text=True)) == []


BAD_QUERIES = [
    "page=abc", "page=-1", "page=0", "page=99999999999999999999", "kind=<script>", "kind=export&kind=login",
    "actor=999999", "actor=abc", "actor=-1", "street_id=1e9", "street_id=%00", "object_type=nope",
    "date_from=2024-02-30", "date_from=0001-01-01", "date_to=9999-12-31", "date_from=yesterday",
    "date_to=2024-13-01", "q=%00", "q=" + "长" * 500, "q=%25%25%25", "q=\\", "q=%27%20OR%201%3D1--",
    "per_page=100000", "%ff%fe=1", "date_from=%E4%B8%80", "page=%C2%B2", "page=%D9%A1%D9%A2",
]


@pytest.mark.parametrize("query", BAD_QUERIES)
def test_bad_query_strings_do_not_crash(busy, client, query):
    login(client, busy["admin"])
    page = client.get("/audit/?" + query)
    assert page.status_code == 200, query
    export = client.get("/audit/export.xlsx?" + query)
    assert export.status_code == 200, query


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(["kind", "actor", "street_id", "object_type", "date_from", "date_to", "q", "page"]),
                       st.text(max_size=40), max_size=8))
def test_any_query_string_is_a_page(world, client, args):
    if not client.get("/audit/").status_code == 200:
        login(client, world["admin"])
    assert client.get("/audit/", query_string=args).status_code == 200


def test_invalid_filters_are_dropped_with_a_message(busy, client):
    login(client, busy["admin"])
    html = client.get("/audit/?date_from=2024-02-30&kind=nonsense&q=HYPERLINK", follow_redirects=True).get_data(as_text=True)
    assert "筛选条件无效，已忽略" in html and "从" in html and "类别" in html
    assert {db.session.get(Event, i).action for i in row_ids(html)} == {"login.failed"}  # q still applies


def test_export_honours_filters_and_is_itself_logged(busy, client):
    login(client, busy["admin"])
    response = client.get("/audit/export.xlsx?kind=login_failed")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("编号", "时间", "类别", "操作")
    assert [r[4] for r in rows[1:]] == ["login.failed", "login.failed"]
    assert {r[2] for r in rows[1:]} == {"登录失败"}
    notes = [r[12] for r in rows[1:]]
    assert any(n.startswith("用户名 '=HYPERLINK") for n in notes)  # stays text, never a formula
    assert all(not (c.data_type == "f") for row in sheet.iter_rows() for c in row)
    (logged,) = events(action="export", object_type="events")
    assert logged.actor_id == busy["admin"].id and "审计日志导出：2 条" in logged.note and "kind=login_failed" in logged.note
    # the export shows up on the page under 导出
    html = client.get("/audit/?kind=export").get_data(as_text=True)
    assert logged.id in row_ids(html)


def test_export_without_filters_has_every_event(busy, client):
    login(client, busy["admin"])
    total = db.session.scalar(select(func.count()).select_from(Event))
    rows = list(load_workbook(io.BytesIO(client.get("/audit/export.xlsx").data)).active.iter_rows(values_only=True))
    assert len(rows) - 1 == total
    assert [r[0] for r in rows[1:]] == sorted((r[0] for r in rows[1:]), reverse=True)


def test_ticket_personal_data_views_are_logged_once_per_visit(world, client):
    w = world
    login(client, w["operator"])
    for _ in range(3):  # reloads and redirects after actions within minutes are one view
        assert "13812345678" in client.get(f"/tickets/{w['ticket'].id}").get_data(as_text=True)
    assert len(events(action="personal_data.view")) == 1
    client.get(f"/tickets/{w['other'].id}")  # no caller details: nothing personal shown
    assert len(events(action="personal_data.view")) == 1
    old = events(action="personal_data.view")[0]
    old.created_at = datetime(2020, 1, 1)
    db.session.commit()
    html = client.get(f"/tickets/{w['ticket'].id}").get_data(as_text=True)
    assert len(events(action="personal_data.view")) == 2
    assert "查看个人信息" not in html  # the ticket's own history is about handling it

    staff = client.application.test_client()
    tickets.dispatch(w["operator"], w["ticket"], w["heping"].id)
    db.session.commit()
    login(staff, w["staff"])
    page = staff.get(f"/tickets/{w['ticket'].id}").get_data(as_text=True)
    assert "13812345678" not in page  # masked for the street, so not a personal-data view
    assert len(events(action="personal_data.view")) == 2


def test_suggestion_contact_views_are_logged_for_admin_only(world, client):
    w = world
    suggestion = make_suggestion(w["estate"], "路灯坏了")
    suggestion.contact_name, suggestion.contact_phone = "王芳", "13700001111"
    db.session.commit()
    staff = client.application.test_client()
    login(staff, w["staff"])
    assert "13700001111" not in staff.get(f"/suggestions/{suggestion.id}").get_data(as_text=True)
    assert events(action="personal_data.view") == []
    login(client, w["admin"])
    assert "13700001111" in client.get(f"/suggestions/{suggestion.id}").get_data(as_text=True)
    (view,) = events(action="personal_data.view")
    assert (view.object_type, view.object_id, view.street_id) == ("suggestions", str(suggestion.id), w["heping"].id)
    html = client.get("/audit/?kind=personal_data").get_data(as_text=True)
    assert view.id in row_ids(html) and "联系人、联系电话" in html
