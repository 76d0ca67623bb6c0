"""In a browser: a street user works through the review queue, one record and then in bulk."""
import pytest
from playwright.sync_api import expect

from portal.accounts.models import Role
from portal.extensions import db
from portal.review.models import TagCorrection
from tests.helpers import PASSWORD, make_community, make_estate, make_street, make_ticket, make_user
from tests.playwright_fixtures import log_in, page_fits_width
from tests.review.builders import make_suggestion

pytestmark = pytest.mark.browser


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


@pytest.fixture
def district(app):
    heping = make_street("和平街道")
    guihua = make_estate(make_community(heping, "桂花社区"), "桂花苑")
    tickets = [
        make_ticket("楼后面那块地方一下雨就不行了", estate=guihua, street=heping, themes=("drainage",),
                    needs_review=True, theme_scores={"drainage": 0.44}, number="GD-101"),
        make_ticket("三楼那家门口的东西堆了好久", estate=guihua, street=heping, themes=("sanitation",),
                    needs_review=True, theme_scores={"sanitation": 0.39}, number="GD-102"),
        make_ticket("晚上那边黑乎乎的", estate=guihua, street=heping, themes=("lighting",), needs_review=True,
                    theme_scores={"lighting": 0.47}, number="GD-103"),
    ]
    make_suggestion(guihua, "希望小区里多装几张长椅", themes=("greening",))
    make_user(Role.street_staff, street=heping, username="heping")
    return tickets


def test_review_one_then_bulk(page, phone, live_server, district, output_dir):
    log_in(page, live_server, "heping", PASSWORD)
    page.click(".main-nav >> text=待复核")
    expect(page.locator(".tabs a[aria-current=page]")).to_contain_text("12345 热线 3")
    page.screenshot(path=str(output_dir / "review-1-queue.png"), full_page=True)

    page.click("#item-%d >> text=修改主题" % district[1].id)
    page.select_option("select[name=themes]", ["fire_safety", "sanitation"])
    page.click("text=保存主题")
    expect(page.locator(".flash-success")).to_have_text("已保存主题。")
    assert page.locator(".review-item").count() == 2

    for ticket in (district[0], district[2]):
        page.check(f"#item-{ticket.id} input[name=ids]")
    page.click("text=批量确认")
    expect(page.locator(".flash-success")).to_have_text("已确认 2 条记录的主题。")
    expect(page.locator(".panel")).to_contain_text("暂无待复核记录")
    page.screenshot(path=str(output_dir / "review-2-done.png"), full_page=True)
    changed = {c.record_id: c.changed for c in db.session.query(TagCorrection)}
    assert changed == {str(district[1].id): True, str(district[0].id): False, str(district[2].id): False}

    log_in(phone, live_server, "heping", PASSWORD)
    phone.goto(f"{live_server}/review/?source=suggestion")
    assert "希望小区里多装几张长椅" in phone.content()
    assert page_fits_width(phone)
    phone.screenshot(path=str(output_dir / "review-phone-390.png"), full_page=True)
