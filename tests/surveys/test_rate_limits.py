"""Wrong access codes are rate-limited per door and per address; right ones are not held against anyone."""
import pytest

from tests.surveys.conftest import door


@pytest.fixture
def app_config():
    return {"SURVEY_CODE_HOUSEHOLD_LIMIT": "3 per hour", "SURVEY_CODE_IP_LIMIT": "5 per minute",
            "SURVEY_PUBLIC_RATE_LIMIT": "1000 per minute"}


def test_a_door_is_locked_after_three_wrong_codes_even_for_the_right_one(client, estate_world):
    slug = estate_world["survey"].slug
    for _ in range(3):
        assert client.post(f"/s/{slug}", data=door(estate_world, code="000000")).status_code == 422
    response = client.post(f"/s/{slug}", data=door(estate_world))  # the right code, too late
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "尝试次数太多了" in page and "联系社区居委会" in page
    assert client.get(f"/s/{slug}/answer").status_code == 302  # not let in
    # the neighbours' door is not locked
    assert client.post(f"/s/{slug}", data=door(estate_world, "302")).status_code == 302


def test_right_codes_do_not_use_up_the_limit(client, estate_world):
    slug = estate_world["survey"].slug
    for _ in range(6):
        assert client.post(f"/s/{slug}", data=door(estate_world)).status_code == 302


def test_one_address_trying_many_doors_is_stopped(client, estate_world):
    slug = estate_world["survey"].slug
    rooms = ["301", "302", "501", "301", "302"]
    for room in rooms:  # five wrong codes over three doors: each door is below its own limit
        assert client.post(f"/s/{slug}", data=door(estate_world, room, code="999999")).status_code == 422
    assert client.post(f"/s/{slug}", data=door(estate_world, "501")).status_code == 429
