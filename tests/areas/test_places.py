"""Staff create and edit places; every change is an event with before and after."""
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from portal.accounts.models import Role
from portal.areas.models import Community, Estate, Household, Street
from portal.audit.models import Event
from portal.extensions import db
from tests.helpers import login, make_community, make_estate, make_household, make_street, make_user


@pytest.fixture
def street(app):
    return make_street("和平街道")


def test_admin_creates_street_and_duplicate_is_refused(client, app):
    login(client, make_user(Role.district_admin))
    client.post("/areas/streets/new", data={"name": "新华街道"})
    assert db.session.scalar(select(Street.name)) == "新华街道"
    page = client.post("/areas/streets/new", data={"name": "新华街道"}).get_data(as_text=True)
    assert "街道「新华街道」已存在。" in page
    assert len(db.session.scalars(select(Street)).all()) == 1


def test_street_staff_cannot_create_streets(client, street):
    login(client, make_user(Role.street_staff, street=street))
    assert client.get("/areas/streets/new").status_code == 403


def test_staff_creates_community_and_estate_in_own_street(client, street):
    staff = make_user(Role.street_staff, street=street)
    login(client, staff)
    client.post("/areas/communities/new", data={"street_id": street.id, "name": "桂花社区"})
    community = db.session.scalar(select(Community))
    assert community.name == "桂花社区" and community.street_id == street.id

    response = client.post("/areas/estates/new", data={
        "name": "桂花苑", "community_id": community.id, "aliases": "桂花小区\n桂花苑小区、老桂花",
        "address_patterns": "桂花路18号\n桂花路20-36号", "household_count": "248", "built_year": "1994",
        "latitude": "28.19321", "longitude": "112.98241",
    }, follow_redirects=True)
    assert "已创建小区「桂花苑」。" in response.get_data(as_text=True)
    estate = db.session.scalar(select(Estate))
    assert estate.street_id == street.id
    assert estate.aliases == ["桂花小区", "桂花苑小区", "老桂花"]
    assert estate.address_patterns == ["桂花路18号", "桂花路20-36号"]
    assert estate.latitude == Decimal("28.193210")

    event = db.session.scalar(select(Event).where(Event.action == "estate.create"))
    assert event.actor_id == staff.id and event.street_id == street.id and event.after["name"] == "桂花苑"


def test_estate_edit_records_before_and_after(client, street):
    estate = make_estate(make_community(street), "旧名", household_count=10)
    login(client, make_user(Role.street_staff, street=street))
    client.post(f"/areas/estates/{estate.id}/edit", data={
        "name": "新名", "community_id": estate.community_id, "household_count": "12"})
    db.session.refresh(estate)
    assert estate.name == "新名" and estate.household_count == 12
    event = db.session.scalar(select(Event).where(Event.action == "estate.update"))
    assert event.before["name"] == "旧名" and event.after["name"] == "新名"
    assert event.before["household_count"] == 10 and event.after["household_count"] == 12


def test_estate_cannot_move_to_another_streets_community(client, street):
    estate = make_estate(make_community(street))
    other = make_community(make_street("别的街道"))
    login(client, make_user(Role.district_admin))
    page = client.post(f"/areas/estates/{estate.id}/edit", data={
        "name": estate.name, "community_id": other.id, "household_count": "0"}).get_data(as_text=True)
    assert "小区不能转到其他街道的社区。" in page
    db.session.refresh(estate)
    assert estate.community_id != other.id


def test_bad_estate_input_gets_chinese_errors(client, street):
    community = make_community(street)
    login(client, make_user(Role.district_admin))
    page = client.post("/areas/estates/new", data={
        "name": "", "community_id": community.id, "household_count": "-3", "latitude": "999"}).get_data(as_text=True)
    assert "请填写名称。" in page and "户数应在 0–100000 之间。" in page and "纬度应在 -90 到 90 之间。" in page
    assert db.session.scalar(select(Estate)) is None


def test_household_add_edit_and_duplicate(client, street):
    estate = make_estate(make_community(street))
    login(client, make_user(Role.street_staff, street=street))
    client.post(f"/areas/estates/{estate.id}/households/new", data={
        "building": "3号楼", "unit": "2单元", "room": "501室", "area_m2": "66.6", "occupancy": "tenant"})
    household = db.session.scalar(select(Household))
    assert (household.building, household.unit, household.room) == ("3", "2", "501")
    page = client.post(f"/areas/estates/{estate.id}/households/new", data={
        "building": "3", "unit": "2", "room": "501", "area_m2": "70", "occupancy": "owner"}).get_data(as_text=True)
    assert "该小区已有这一户" in page
    client.post(f"/areas/households/{household.id}/edit", data={
        "building": "3", "unit": "2", "room": "501", "area_m2": "70.25", "occupancy": "owner"})
    db.session.refresh(household)
    assert household.area_m2 == Decimal("70.25")
    assert db.session.scalar(select(Event.action).where(Event.action == "household.update")) == "household.update"


def test_owner_id_is_masked_in_page_and_export_and_export_is_logged(client, street):
    estate = make_estate(make_community(street), "名册小区")
    make_household(estate, room="101", owner_id_number="430103198001011234")
    login(client, make_user(Role.street_staff, street=street))
    page = client.get(f"/areas/estates/{estate.id}").get_data(as_text=True)
    assert "430103198001011234" not in page and "4301**********1234" in page

    response = client.get(f"/areas/estates/{estate.id}/roster.xlsx")
    assert response.status_code == 200
    import io
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("楼栋", "单元", "房号", "专有部分面积", "业主/租户", "业主证件号")
    assert rows[1][5] == "4301**********1234"
    assert db.session.scalar(select(Event.note).where(Event.action == "export")) == "住户名册: 1 行"


def test_roster_pages_keep_the_filter(client, street):
    estate = make_estate(make_community(street))
    for room in range(60):
        make_household(estate, building="7", room=str(100 + room))
    make_household(estate, building="8", room="1")
    login(client, make_user(Role.district_admin))
    first = client.get(f"/areas/estates/{estate.id}?building=7").get_data(as_text=True)
    assert "第 1 / 2 页" in first and f"/areas/estates/{estate.id}?building=7&amp;page=2" in first
    second = client.get(f"/areas/estates/{estate.id}?building=7&page=2").get_data(as_text=True)
    assert "第 2 / 2 页" in second and ">159<" in second and "上一页" in second
