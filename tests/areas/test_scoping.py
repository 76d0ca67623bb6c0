"""A street_staff user of street A never sees street B's places, households, rosters or exports."""
import io

import pytest

from portal.accounts.models import Role
from tests.helpers import csv_bytes, login, make_community, make_estate, make_household, make_street, make_user


@pytest.fixture
def two_streets(app):
    street_a, street_b = make_street("甲街道"), make_street("乙街道")
    estate_a = make_estate(make_community(street_a, "甲社区"), "甲小区")
    estate_b = make_estate(make_community(street_b, "乙社区"), "乙小区")
    household_b = make_household(estate_b, room="808", owner_id_number="430103199001011111")
    return street_a, street_b, estate_a, estate_b, household_b


@pytest.fixture
def staff_a(two_streets):
    return make_user(Role.street_staff, street=two_streets[0])


def test_list_shows_only_own_street(client, two_streets, staff_a):
    login(client, staff_a)
    page = client.get("/areas/").get_data(as_text=True)
    assert "甲小区" in page and "甲街道" in page
    assert "乙小区" not in page and "乙街道" not in page


@pytest.mark.parametrize("path", [
    "/areas/estates/{estate_b}",
    "/areas/estates/{estate_b}/edit",
    "/areas/estates/{estate_b}/roster",
    "/areas/estates/{estate_b}/roster.xlsx",
    "/areas/estates/{estate_b}/households/new",
    "/areas/households/{household_b}/edit",
    "/areas/communities/{community_b}/edit",
])
def test_other_streets_pages_are_not_found(client, two_streets, staff_a, path):
    _, _, _, estate_b, household_b = two_streets
    login(client, staff_a)
    url = path.format(estate_b=estate_b.id, household_b=household_b.id, community_b=estate_b.community_id)
    response = client.get(url)
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert "乙小区" not in body and "808" not in body and "页面不存在" in body


def test_other_streets_writes_are_refused_and_change_nothing(client, two_streets, staff_a):
    _, street_b, _, estate_b, household_b = two_streets
    login(client, staff_a)
    roster = csv_bytes([["楼栋", "房号", "面积"], ["9", "909", "50"]])
    assert client.post(f"/areas/estates/{estate_b.id}/roster",
                       data={"file": (io.BytesIO(roster), "r.csv")}, content_type="multipart/form-data").status_code == 404
    assert client.post(f"/areas/estates/{estate_b.id}/edit",
                       data={"name": "改名", "community_id": estate_b.community_id}).status_code == 404
    assert client.post(f"/areas/households/{household_b.id}/edit",
                       data={"building": "1", "room": "1", "area_m2": "1", "occupancy": "owner"}).status_code == 404
    # Creating a community in another street: the street is not even offered, and forcing it is refused.
    response = client.post("/areas/communities/new", data={"street_id": street_b.id, "name": "渗透社区"})
    assert "不是有效的选择。" in response.get_data(as_text=True)
    from portal.areas.models import Community, Estate, Household
    from portal.extensions import db
    from sqlalchemy import select
    assert db.session.scalar(select(Community).where(Community.name == "渗透社区")) is None
    assert db.session.get(Estate, estate_b.id).name == "乙小区"
    assert db.session.scalar(select(Household).where(Household.room == "909")) is None


def test_estate_in_other_streets_community_is_refused(client, two_streets, staff_a):
    _, _, _, estate_b, _ = two_streets
    login(client, staff_a)
    response = client.post("/areas/estates/new", data={"name": "越界小区", "community_id": estate_b.community_id,
                                                       "household_count": 10})
    assert "不是有效的选择。" in response.get_data(as_text=True)
    from portal.areas.models import Estate
    from portal.extensions import db
    from sqlalchemy import select
    assert db.session.scalar(select(Estate).where(Estate.name == "越界小区")) is None


def test_operator_sees_places_but_not_rosters(client, two_streets):
    _, _, estate_a, estate_b, household_b = two_streets
    login(client, make_user(Role.operator))
    page = client.get("/areas/").get_data(as_text=True)
    assert "甲小区" in page and "乙小区" in page
    estate_page = client.get(f"/areas/estates/{estate_b.id}").get_data(as_text=True)
    assert "乙小区" in estate_page and "住户名册" not in estate_page and "808" not in estate_page
    assert client.get(f"/areas/estates/{estate_b.id}/roster").status_code == 403
    assert client.get(f"/areas/estates/{estate_b.id}/roster.xlsx").status_code == 403
    assert client.get(f"/areas/households/{household_b.id}/edit").status_code == 403


def test_admin_sees_every_street(client, two_streets):
    login(client, make_user(Role.district_admin))
    page = client.get("/areas/").get_data(as_text=True)
    assert "甲小区" in page and "乙小区" in page


def test_anonymous_is_sent_to_login(client, two_streets):
    response = client.get(f"/areas/estates/{two_streets[3].id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_scoped_helper_filters_queries(app, two_streets, staff_a):
    from sqlalchemy import select

    from portal.areas.models import Community, Estate, Household, Street
    from portal.core.scoping import scoped
    from portal.extensions import db

    assert [s.name for s in db.session.scalars(scoped(select(Street), Street, staff_a))] == ["甲街道"]
    assert [c.name for c in db.session.scalars(scoped(select(Community), Community, staff_a))] == ["甲社区"]
    assert [e.name for e in db.session.scalars(scoped(select(Estate), Estate, staff_a))] == ["甲小区"]
    assert list(db.session.scalars(scoped(select(Household), Household, staff_a))) == []
    admin = make_user(Role.district_admin)
    assert len(db.session.scalars(scoped(select(Estate), Estate, admin)).all()) == 2
