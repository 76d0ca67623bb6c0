"""你说我办 in Chromium on a 390 px phone: the estate list, an estate's page, no sideways scrolling.
Screenshots go to test-output/."""
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from portal.demand.models import SignalSource
from portal.projects.gaps import local_today
from portal.projects.models import ProjectCategory, ProjectStatus
from tests.helpers import make_community, make_estate, make_street
from tests.playwright_fixtures import page_fits_width
from tests.projects.builders import add_signals, make_project

pytestmark = [pytest.mark.browser]


@pytest.fixture
def places(app):
    today = local_today()
    heping, xinhua = make_street("和平街道"), make_street("新华街道")
    guihua_community = make_community(heping, "桂花社区")
    guihua = make_estate(guihua_community, "桂花苑", household_count=248, built_year=1994)
    make_estate(guihua_community, "纺织厂宿舍", household_count=96, built_year=1982)
    make_estate(make_community(heping, "向阳社区"), "向阳新村", household_count=372)
    make_estate(make_community(xinhua, "新华社区"), "新华里小区", household_count=316)
    add_signals(guihua, "drainage", [1, 3, 8, 20, 40, 90, 150], as_of=today)
    add_signals(guihua, "parking", [2, 5, 30, 60], as_of=today)
    add_signals(guihua, "lighting", [4, 70], as_of=today, source=SignalSource.suggestion)
    add_signals(guihua, "elevator", [12, 100, 200], as_of=today, source=SignalSource.survey)
    add_signals(guihua, "building_safety", [500, 510, 520, 530], as_of=today)  # before the completed works
    add_signals(guihua, "building_safety", [10], as_of=today)
    make_project([guihua], ["drainage"], name="桂花苑雨污分流及排水管网改造工程", status=ProjectStatus.in_progress,
                 started_on=today - timedelta(days=30))
    make_project([guihua], ["parking", "ev_charging"], name="桂花苑停车位与充电棚改造",
                 category=ProjectCategory.improve, status=ProjectStatus.approved)
    make_project([guihua], ["building_safety"], name="桂花苑屋面防水与外墙修缮", status=ProjectStatus.completed,
                 started_on=today - timedelta(days=490), completed_on=today - timedelta(days=300))
    return {"guihua": guihua}


def test_nishuo_on_a_phone(phone, live_server, places, output_dir):
    phone.goto(f"{live_server}/")
    phone.click("text=查看你说我办")
    expect(phone.locator("h1")).to_have_text("你说我办")
    assert page_fits_width(phone)
    assert phone.locator(".nishuo-estates li").count() == 4
    phone.screenshot(path=str(output_dir / "nishuo-1-index-phone.png"), full_page=True)

    phone.click("text=桂花苑")
    expect(phone.locator("h1")).to_have_text("桂花苑")
    assert phone.locator("#raised-total").inner_text() == "17"
    assert phone.locator("#raised-themes tbody tr").count() == 5
    assert phone.locator(".nishuo-project").count() == 3
    expect(phone.locator(".nishuo-result")).to_contain_text("减少了")
    assert page_fits_width(phone)
    phone.screenshot(path=str(output_dir / "nishuo-2-estate-phone.png"), full_page=True)

    phone.click("text=给本小区提意见建议")
    expect(phone.locator(".estate-preset")).to_contain_text("桂花苑")
