"""Ticket pages: scoping on every list, page, action and export; masking; 三率."""
import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from portal.accounts.models import Role
from portal.audit.models import Event
from portal.core.time import utcnow
from portal.extensions import db
from portal.tickets.models import Ticket, TicketStatus as S
from portal.tickets.queries import three_rates
from tests.helpers import login, make_community, make_estate, make_street, make_ticket, make_user


@pytest.fixture
def world(app):
    heping, xinhua = make_street("和平街道"), make_street("新华街道")
    guihua = make_estate(make_community(heping), "桂花苑")
    xinhuali = make_estate(make_community(xinhua), "新华里小区")
    mine = make_ticket("桂花苑3栋楼道灯坏了，来电人张伟电话13812345678", estate=guihua, street=heping,
                       status=S.dispatched, caller_name="张伟", caller_phone="13812345678", number="HP-1",
                       themes=("lighting",), dispatched_at=utcnow())
    theirs = make_ticket("新华里小区下水道堵了", estate=xinhuali, street=xinhua, status=S.dispatched,
                         caller_name="李娜", caller_phone="13900001111", number="XH-1", themes=("drainage",))
    return {"heping": heping, "xinhua": xinhua, "mine": mine, "theirs": theirs,
            "staff": make_user(Role.street_staff, street=heping), "operator": make_user(Role.operator)}


def test_street_staff_list_shows_only_own_street(client, world):
    login(client, world["staff"])
    page = client.get("/tickets/").get_data(as_text=True)
    assert "HP-1" in page and "XH-1" not in page
    assert "XH-1" not in client.get("/tickets/?q=XH").get_data(as_text=True)
    assert "XH-1" not in client.get(f"/tickets/?street_id={world['xinhua'].id}").get_data(as_text=True)


@pytest.mark.parametrize("method,path", [
    ("get", "/tickets/{id}"), ("post", "/tickets/{id}/accept"), ("post", "/tickets/{id}/resolve"),
    ("post", "/tickets/{id}/return"), ("post", "/tickets/{id}/tags"), ("post", "/tickets/{id}/place"),
])
def test_other_streets_ticket_is_not_found(client, world, method, path):
    login(client, world["staff"])
    response = getattr(client, method)(path.format(id=world["theirs"].id),
                                       data={"return-reason": "不是我们的", "place-estate_id": 1,
                                             "resolve-resolution": "x", "tags-themes": "parking"})
    assert response.status_code == 404
    assert "李娜" not in response.get_data(as_text=True)
    db.session.refresh(world["theirs"])
    assert world["theirs"].status == S.dispatched


def test_street_staff_sees_masked_personal_data(client, world):
    login(client, world["staff"])
    page = client.get(f"/tickets/{world['mine'].id}").get_data(as_text=True)
    assert "张伟" not in page and "13812345678" not in page
    assert "张*" in page and "138****5678" in page


def test_operator_sees_personal_data_in_full(client, world):
    login(client, world["operator"])
    page = client.get(f"/tickets/{world['mine'].id}").get_data(as_text=True)
    assert "张伟" in page and "13812345678" in page


def test_export_is_scoped_masked_filtered_and_logged(client, world):
    login(client, world["staff"])
    response = client.get("/tickets/export.xlsx?theme=lighting")
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    assert [r[0] for r in rows[1:]] == ["HP-1"]
    assert rows[1][2] == "张*" and rows[1][3] == "138****5678" and "13812345678" not in rows[1][6]
    event = db.session.scalar(select(Event).where(Event.action == "export"))
    assert event.actor_id == world["staff"].id and "theme=lighting" in event.note
    assert client.get("/tickets/export.xlsx?theme=drainage").status_code == 200
    rows = list(load_workbook(io.BytesIO(client.get("/tickets/export.xlsx?theme=drainage").data)).active.iter_rows(values_only=True))
    assert len(rows) == 1  # header only: the drainage ticket is another street's


def test_street_staff_handles_own_ticket_through_pages(client, world):
    login(client, world["staff"])
    client.post(f"/tickets/{world['mine'].id}/accept")
    client.post(f"/tickets/{world['mine'].id}/resolve", data={"resolve-resolution": "已更换楼道灯"})
    db.session.refresh(world["mine"])
    assert world["mine"].status == S.resolved and world["mine"].resolution == "已更换楼道灯"
    response = client.post(f"/tickets/{world['mine'].id}/resolve", data={"resolve-resolution": "再来一次"},
                           follow_redirects=True)
    assert "工单当前状态为「已办结」，不能办结。" in response.get_data(as_text=True)


def test_operator_dispatches_and_street_staff_cannot(client, world):
    fresh = make_ticket("路灯不亮", number="NEW-1")
    login(client, world["staff"])
    assert client.post(f"/tickets/{fresh.id}/dispatch", data={"dispatch-street_id": world["heping"].id}).status_code in (403, 404)
    client.post("/logout")
    login(client, world["operator"])
    client.post(f"/tickets/{fresh.id}/dispatch", data={"dispatch-street_id": world["heping"].id})
    db.session.refresh(fresh)
    assert fresh.status == S.dispatched and fresh.street_id == world["heping"].id


def test_filters(client, world):
    late = make_ticket("化粪池满了", street=world["heping"], status=S.in_progress, number="LATE-1",
                       due_at=utcnow() - timedelta(hours=2), urgent=True, themes=("drainage",))
    login(client, world["operator"])
    def numbers(query):
        page = client.get("/tickets/" + query).get_data(as_text=True)
        return {n for n in ("HP-1", "XH-1", "LATE-1") if f">{n}<" in page}
    assert numbers("?overdue=1") == {"LATE-1"}
    assert numbers("?urgent=1") == {"LATE-1"}
    assert numbers("?theme=drainage") == {"XH-1", "LATE-1"}
    assert numbers(f"?street_id={world['heping'].id}") == {"HP-1", "LATE-1"}
    assert numbers("?status=in_progress") == {"LATE-1"}
    assert numbers("?q=楼道灯") == {"HP-1"}
    assert numbers("?q=%25") == set()  # a literal percent sign matches nothing here
    assert numbers("?date_from=2000-01-01&date_to=2000-01-02") == set()
    assert late.is_overdue()


def test_three_rates_equal_a_direct_count(app, world):
    now = utcnow()
    heping = world["heping"]
    specs = [  # (responded in time, status, satisfaction)
        (True, S.callback, "满意"), (True, S.callback, "不满意"), (False, S.resolved, None),
        (True, S.in_progress, None), (None, S.dispatched, None), (True, S.callback, "基本满意"),
    ]
    for responded, status, satisfaction in specs:
        make_ticket(street=heping, status=status, dispatched_at=now - timedelta(days=1),
                    responded_in_time=responded, satisfaction=satisfaction)
    make_ticket(street=heping, status=S.merged, dispatched_at=now - timedelta(days=1))  # merged: not counted
    make_ticket(street=heping, status=S.callback, dispatched_at=now - timedelta(days=90), satisfaction="满意")
    admin = make_user(Role.district_admin)
    rates = {r.street_name: r for r in three_rates(admin, now - timedelta(days=7), now + timedelta(days=1))}
    r = rates["和平街道"]
    # world["mine"] is dispatched now too (not yet accepted)
    assert (r.dispatched, r.responded, r.resolved, r.callbacks, r.satisfied) == (7, 4, 4, 3, 2)
    assert r.response_rate == round(4 / 7, 4) and r.satisfaction_rate == round(2 / 3, 4)
    staff_view = three_rates(world["staff"], now - timedelta(days=7), now + timedelta(days=1))
    assert [x.street_name for x in staff_view] == ["和平街道"]


def test_kpi_page_and_export(client, world):
    login(client, world["staff"])
    page = client.get("/tickets/kpi").get_data(as_text=True)
    assert "和平街道" in page and "新华街道" not in page and 'id="kpi-chart"' in page
    response = client.get("/tickets/kpi.xlsx")
    rows = list(load_workbook(io.BytesIO(response.data)).active.iter_rows(values_only=True))
    assert rows[2][0] == "和平街道" and len(rows) == 3


@pytest.mark.parametrize("query", ["?date_to=9999-12-31", "?date_from=0001-01-01", "?street_id=99999999999999999999",
                                   "?estate_id=4294967296", "?date_to=2026-02-30"])
def test_out_of_range_filters_are_ignored_not_a_500(client, world, query):
    login(client, world["operator"])
    for path in ("/tickets/", "/tickets/export.xlsx"):
        response = client.get(path + query)
        assert response.status_code == 200, (path, query)
    page = client.get("/tickets/" + query).get_data(as_text=True)
    assert ">HP-1<" in page and ">XH-1<" in page  # the filter is dropped, the list is whole
