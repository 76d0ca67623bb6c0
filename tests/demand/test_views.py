"""Dashboard, Excel export and estate brief over HTTP: scoping, the export's contents and its log entry,
masking in the brief, and bad input answered without a 500."""
import io
from datetime import date, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from portal.accounts.models import Role
from portal.audit.models import Event
from portal.core.workdays import to_utc_naive
from portal.demand import queries
from portal.demand.models import SignalSource
from portal.demand.services import SignalInput, replace_signals
from portal.extensions import db
from tests.helpers import login, make_community, make_estate, make_street, make_ticket, make_user

TODAY = date.today()
PHONE = "13812345678"


@pytest.fixture
def district(app):
    heping, xinhua = make_street("和平街道"), make_street("新华街道")
    guihua = make_estate(make_community(heping), "桂花苑", household_count=200, built_year=1992)
    xiangyang = make_estate(make_community(heping), "向阳新村", household_count=80)
    xinhuali = make_estate(make_community(xinhua), "新华里", household_count=300)
    texts = {
        "drainage": f"来电人张三，电话{PHONE}，反映下水道堵了，污水外溢到楼道",
        "parking": "小区车位太少，晚上车停到消防通道",
        "elevator": "老楼想加装电梯，希望街道帮忙协调",
    }
    n = 0
    for estate, per_theme in ((guihua, 6), (xiangyang, 2), (xinhuali, 5)):
        for theme, text in texts.items():
            for k in range(per_theme):
                n += 1
                at = to_utc_naive(datetime.combine(TODAY, datetime.min.time()) - timedelta(days=k * 9, hours=3))
                ticket = make_ticket(f"{estate.name}{text}", estate=estate, street=estate.street, themes=(theme,),
                                     urgent=(theme == "drainage" and k == 0), number=f"GD-{n:04d}",
                                     caller_name="张三", caller_phone=PHONE, received_at=at)
                replace_signals(SignalSource.hotline, ticket.id, [SignalInput(estate.id, theme, at, f"p{n}",
                                                                              urgent=ticket.urgent)])
    # a burst: 7 drainage reports at 桂花苑 this week over a quiet baseline → a hot spot
    for k in range(7):
        n += 1
        at = to_utc_naive(datetime.combine(TODAY, datetime.min.time()) - timedelta(hours=5 + k))
        ticket = make_ticket(f"桂花苑化粪池满了，污水外溢{k}", estate=guihua, street=heping, themes=("drainage",),
                             number=f"GD-{n:04d}", received_at=at)
        replace_signals(SignalSource.hotline, ticket.id, [SignalInput(guihua.id, "drainage", at, f"p{n}")])
    db.session.commit()
    return {"heping": heping, "xinhua": xinhua, "guihua": guihua, "xiangyang": xiangyang, "xinhuali": xinhuali,
            "admin": make_user(Role.district_admin), "staff": make_user(Role.street_staff, street=heping),
            "other": make_user(Role.street_staff, street=xinhua)}


def workbook(response):
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return load_workbook(io.BytesIO(response.data))


def rows(sheet, skip=1):
    return [list(r) for r in sheet.iter_rows(min_row=skip + 1, values_only=True)]


def test_dashboard_shows_only_the_users_street(client, district):
    login(client, district["staff"])
    page = client.get("/demand/").get_data(as_text=True)
    assert "桂花苑" in page and "新华里" not in page
    assert PHONE not in page and "张三" not in page  # masked for street staff
    for args in ({"street_id": district["xinhua"].id}, {"estate_id": district["xinhuali"].id},
                 {"street_id": district["xinhua"].id, "estate_id": district["xinhuali"].id}):
        response = client.get("/demand/", query_string=args)
        assert response.status_code == 200
        page = response.get_data(as_text=True)
        assert "新华里" not in page
        assert 'id="demand-total">{}<'.format(8 * 3 + 2 * 3 + 7 - 2 * 0) in page or "桂花苑" in page
        assert "已显示本街道" in page or "找不到该小区" in page


def test_district_admin_sees_every_street_and_can_filter(client, district):
    login(client, district["admin"])
    page = client.get("/demand/").get_data(as_text=True)
    assert "桂花苑" in page and "新华里" in page
    page = client.get("/demand/", query_string={"street_id": district["xinhua"].id}).get_data(as_text=True)
    assert "新华里" in page and "向阳新村" not in page.split('id="heat-table"')[1]


def test_hot_spot_is_shown_with_its_numbers(client, district):
    login(client, district["staff"])
    page = client.get("/demand/").get_data(as_text=True)
    hot = page.split('id="hot-spots"')[1].split("</section>")[0]
    assert "桂花苑 · 排水防涝" in hot and "本期 8 件，过去 8 周均值" in hot


def test_representative_records_click_through_to_the_ticket(client, district):
    login(client, district["staff"])
    page = client.get("/demand/").get_data(as_text=True)
    by_theme = page.split('id="by-theme"')[1]
    assert "/tickets/" in by_theme and "GD-" in by_theme
    link = by_theme.split('href="')[1].split('"')[0]
    while not link.startswith("/tickets/"):
        by_theme = by_theme.split('href="', 1)[1]
        link = by_theme.split('href="')[1].split('"')[0]
    assert client.get(link).status_code == 200


def test_export_matches_the_filters_on_screen_and_is_logged(client, district):
    login(client, district["admin"])
    args = {"date_from": (TODAY - timedelta(days=40)).isoformat(), "date_to": TODAY.isoformat(),
            "street_id": str(district["heping"].id), "theme": "drainage", "granularity": "month"}
    screen = client.get("/demand/", query_string=args).get_data(as_text=True)
    book = workbook(client.get("/demand/export.xlsx", query_string=args))
    filters = queries.DemandFilters.from_args(args)
    admin = district["admin"]
    assert book.sheetnames == ["筛选条件", "主题分布", "趋势", "小区×主题", "热点"]
    conditions = dict((r[0], r[1]) for r in rows(book["筛选条件"], skip=0))
    assert conditions["主题"] == "排水防涝" and conditions["街道"] == "和平街道" and conditions["趋势粒度"] == "按月"
    assert conditions["诉求信号合计"] == queries.total(filters, admin)
    assert f'id="demand-total">{conditions["诉求信号合计"]}<' in screen
    assert [(r[1], r[2]) for r in rows(book["主题分布"])] == queries.theme_distribution(filters, admin)
    assert [tuple(r) for r in rows(book["趋势"])] == queries.trend(filters, admin, "month")
    heat = {r[0]: r for r in rows(book["小区×主题"])}
    cells = {c.estate_name: c for c in queries.heat_map(filters, admin)}
    assert set(heat) == set(cells) == {"桂花苑", "向阳新村"}
    for name, cell in cells.items():
        assert heat[name][2] == heat[name][3] == cell.count and heat[name][4] == cell.per_100
    hot = rows(book["热点"], skip=2)
    assert [(r[0], r[1], r[2]) for r in hot] == [(s.estate_name, "排水防涝", s.current) for s in queries.hot_spots(filters, admin)]
    event = db.session.scalar(select(Event).where(Event.action == "export", Event.object_type == "demand"))
    assert event.actor_id == admin.id and "theme=drainage" in event.note


def test_export_of_another_streets_ids_gives_the_users_own_street_only(client, district):
    login(client, district["staff"])
    for args in ({"estate_id": district["xinhuali"].id}, {"street_id": district["xinhua"].id}):
        book = workbook(client.get("/demand/export.xlsx", query_string=args))
        text = " ".join(str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for v in row if v)
        assert "新华里" not in text and "新华街道" not in text
        heat = {r[0] for r in rows(book["小区×主题"])}
        assert heat == {"桂花苑", "向阳新村"}
    event = db.session.scalars(select(Event).where(Event.action == "export", Event.object_type == "demand")).all()
    assert len(event) == 2 and all(e.street_id == district["heping"].id for e in event)


def test_brief_for_an_estate(client, district):
    login(client, district["staff"])
    response = client.get(f"/demand/brief/{district['guihua'].id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "桂花苑 居民需求简报" in page and "200 户" in page and "1992 年" in page
    assert 'id="brief-total">{}<'.format(6 * 3 + 7) in page
    assert "排水防涝" in page.split('id="brief-hot"')[1].split("</ul>")[0]
    assert "紧急事项" in page and "GD-" in page.split('id="brief-urgent"')[1]
    assert PHONE not in page and "张三" not in page
    assert "新华里" not in page and "向阳新村" not in page.split('id="brief"')[1]


def test_brief_masks_personal_data_even_for_district_admin(client, district):
    login(client, district["admin"])
    page = client.get(f"/demand/brief/{district['guihua'].id}").get_data(as_text=True)
    assert "桂花苑 居民需求简报" in page and PHONE not in page


def test_another_streets_estate_brief_is_404(client, district):
    login(client, district["staff"])
    assert client.get(f"/demand/brief/{district['xinhuali'].id}").status_code == 404
    assert client.get("/demand/brief/999999").status_code == 404


def test_the_other_street_sees_its_own_brief_only(client, district):
    login(client, district["other"])
    assert client.get(f"/demand/brief/{district['guihua'].id}").status_code == 404
    assert client.get(f"/demand/brief/{district['xinhuali'].id}").status_code == 200


@pytest.mark.parametrize("query", [
    "date_from=yesterday&date_to=2026-02-30", "estate_id=abc", "estate_id=99999999999999999999", "street_id=0",
    "theme=<script>", "source=fax&urgent=yes", "date_from=0001-01-01", "granularity=year", "date_to=9999-12-31",
])
def test_bad_input_is_never_a_500(client, district, query):
    login(client, district["staff"])
    for path in ("/demand/", "/demand/export.xlsx", f"/demand/brief/{district['guihua'].id}"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 200, (path, query)
    page = client.get(f"/demand/?{query}").get_data(as_text=True)
    assert "<script>" not in page.split("<main")[1].split("</main>")[0].replace("<script type=\"application/json\"", "")


def test_the_dashboard_needs_a_login(client, district):
    assert client.get("/demand/").status_code in (302, 401)
    assert client.get("/demand/export.xlsx").status_code in (302, 401)
    assert client.get(f"/demand/brief/{district['guihua'].id}").status_code in (302, 401)
