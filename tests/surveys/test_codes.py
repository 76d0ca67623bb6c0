"""Household access codes (入户码): one per household, only the hash stored, shown once on a printable
sheet; regenerating one; QR posters per estate and building."""
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from portal.audit.models import Event
from portal.extensions import db
from tests.helpers import login

SLIP_CODE = re.compile(r'<p class="slip-code">(\d{3}) (\d{3})</p>')


def batch(world, **changes):
    data = {"form": "batch", "batch-estate_id": world["estate"].id, "batch-building": "3",
            "batch-confirm": "y"}
    data.update(changes)
    return data


def hashes(world):
    db.session.expire_all()
    return {room: h.access_code_hash for room, h in world["households"].items()}


def test_codes_are_shown_once_and_only_their_hashes_are_stored(client, estate_world):
    world = estate_world
    login(client, world["staff"])
    response = client.post(f"/surveys/{world['survey'].id}/codes", data=batch(world))
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    codes = ["".join(m) for m in SLIP_CODE.findall(page)]
    assert len(codes) == 3  # building 3: 101, 301, 302
    assert "只显示这一次" in page and "3栋2单元301室" in page and 'src="data:image/svg+xml' in page
    db.session.expire_all()
    building3 = [h for h in world["estate"].households if h.building == "3"]
    for household in building3:
        assert household.access_code_hash and not any(code in household.access_code_hash for code in codes)
        assert sum(household.check_access_code(code) for code in codes) == 1
    assert not world["households"]["301"].check_access_code("123456")  # the old code is void
    event = db.session.scalar(select(Event).where(Event.action == "survey.codes.regenerate"))
    assert event.actor_id == world["staff"].id and event.after["households"] == 3
    assert not any(code in str(event.after) + (event.note or "") for code in codes)
    # the codes page itself never shows a code again
    assert not SLIP_CODE.search(client.get(f"/surveys/{world['survey'].id}/codes").get_data(as_text=True))


def test_a_new_code_lets_the_resident_in(client, estate_world):
    world = estate_world
    login(client, world["staff"])
    page = client.post(f"/surveys/{world['survey'].id}/codes", data={
        "form": "one", "one-estate_id": world["estate"].id, "one-building": "3", "one-unit": "1",
        "one-room": "101"}).get_data(as_text=True)
    code = "".join(SLIP_CODE.findall(page)[0])
    client.post("/logout")
    response = client.post(f"/s/{world['survey'].slug}", data={
        "estate_id": world["estate"].id, "building": "3", "unit": "1", "room": "101", "code": code})
    assert response.status_code == 302


def test_only_missing_leaves_issued_codes_alone(client, estate_world):
    world = estate_world
    before = hashes(world)
    login(client, world["staff"])
    page = client.post(f"/surveys/{world['survey'].id}/codes",
                       data=batch(world, **{"batch-only_missing": "y"})).get_data(as_text=True)
    assert len(SLIP_CODE.findall(page)) == 1 and "3栋1单元101室" in page
    after = hashes(world)
    assert after["301"] == before["301"] and after["302"] == before["302"]
    assert before["101"] is None and after["101"]


@pytest.mark.parametrize("changes,message", [
    ({"batch-confirm": ""}, "请勾选确认"),
    ({"batch-building": "9"}, "没有符合条件的住户"),
    ({"batch-estate_id": "999"}, "不是有效的选择"),
])
def test_bad_code_requests_change_nothing(client, estate_world, changes, message):
    world = estate_world
    before = hashes(world)
    login(client, world["staff"])
    response = client.post(f"/surveys/{world['survey'].id}/codes", data=batch(world, **changes))
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert not SLIP_CODE.search(response.get_data(as_text=True))
    assert hashes(world) == before


def test_one_household_that_does_not_exist_is_reported(client, estate_world):
    world = estate_world
    login(client, world["staff"])
    response = client.post(f"/surveys/{world['survey'].id}/codes", data={
        "form": "one", "one-estate_id": world["estate"].id, "one-building": "3", "one-room": "999"})
    assert response.status_code == 422 and "没有这一户" in response.get_data(as_text=True)


@pytest.mark.parametrize("app_config", [{"SURVEY_CODE_BATCH_MAX": 2}])
def test_large_batches_are_split_by_building(client, estate_world, app_config):
    world = estate_world
    before = hashes(world)
    login(client, world["staff"])
    response = client.post(f"/surveys/{world['survey'].id}/codes", data=batch(world))
    assert response.status_code == 422
    assert "一次最多生成 2 户" in response.get_data(as_text=True) and "按楼栋分批" in response.get_data(as_text=True)
    assert hashes(world) == before


def test_another_streets_staff_cannot_see_or_issue_codes(client, estate_world):
    world = estate_world
    before = hashes(world)
    login(client, world["other_staff"])
    assert client.get(f"/surveys/{world['survey'].id}/codes").status_code == 404
    assert client.post(f"/surveys/{world['survey'].id}/codes", data=batch(world)).status_code == 404
    assert hashes(world) == before


def test_posters_link_to_the_survey_per_estate_and_per_building(client, estate_world):
    world = estate_world
    login(client, world["staff"])
    listing = client.get(f"/surveys/{world['survey'].id}/posters").get_data(as_text=True)
    assert "3 栋" in listing and "5 栋" in listing
    page = client.get(f"/surveys/{world['survey'].id}/poster?estate_id={world['estate'].id}&building=3").get_data(as_text=True)
    url = re.search(r'<p class="poster-url">([^<]+)</p>', page).group(1).replace("&amp;", "&")
    parts = urlsplit(url)
    assert parts.path == f"/s/{world['survey'].slug}"
    assert parse_qs(parts.query) == {"e": [str(world["estate"].id)], "b": ["3"]}
    assert 'class="poster-qr" src="data:image/svg+xml' in page and "桂花苑 3 栋" in page
    assert "123456" not in page
    estate_poster = client.get(f"/surveys/{world['survey'].id}/poster?estate_id={world['estate'].id}")
    assert estate_poster.status_code == 200
    assert client.get(f"/surveys/{world['survey'].id}/poster?estate_id={world['estate'].id}&building=9").status_code == 404
    assert client.get(f"/surveys/{world['survey'].id}/poster?estate_id=999").status_code == 404
    # the scanned link opens the resident page with the building filled in
    client.post("/logout")
    scanned = client.get(parts.path + "?" + parts.query).get_data(as_text=True)
    assert re.search(r'<input[^>]*name="building"[^>]*value="3"', scanned)
