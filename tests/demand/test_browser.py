"""The demand dashboard and the estate brief in Chromium: filters, charts beside tables, a phone's width,
the brief printed on one A4 page. Screenshots go to test-output/."""
import re

import pytest
from playwright.sync_api import expect

from portal.accounts.models import Role
from tests.demand.test_views import PHONE, district  # noqa: F401  (the fixture)
from tests.helpers import PASSWORD, make_user
from tests.playwright_fixtures import log_in, page_fits_width

pytestmark = [pytest.mark.browser]


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


@pytest.fixture
def users(district):  # noqa: F811
    make_user(Role.district_admin, username="admin")
    make_user(Role.street_staff, street=district["heping"], username="heping")
    return district


def test_dashboard_with_filters_on_a_desktop(page, live_server, users, output_dir):
    log_in(page, live_server, "admin", PASSWORD)
    page.click(".main-nav >> text=需求分析")
    expect(page.locator("h1")).to_have_text("需求分析")
    assert page.locator("#demand-total").inner_text() == str(6 * 3 + 2 * 3 + 5 * 3 + 7)
    page.wait_for_selector("#themes-chart svg")
    page.wait_for_selector("#heat-chart svg")
    assert page.locator("#themes-table tbody tr").count() == 3
    assert "桂花苑 · 排水防涝" in page.locator("#hot-spots").inner_text()
    page.screenshot(path=str(output_dir / "demand-1-dashboard.png"), full_page=True)

    page.select_option("select[name=street_id]", label="和平街道")
    page.select_option("select[name=theme]", "drainage")
    page.select_option("select[name=granularity]", "month")
    page.click("form.filters button[type=submit]")
    page.wait_for_url(re.compile(r"theme=drainage"))
    assert page.locator("#demand-total").inner_text() == str(6 + 2 + 7)  # drainage tickets at 桂花苑 and 向阳新村, and the burst
    assert page.locator("#themes-table tbody tr").count() == 1
    heat = page.locator("#heat-table").inner_text()
    assert "桂花苑" in heat and "向阳新村" in heat and "新华里" not in heat
    assert "月份" in page.locator("#trend-table").inner_text()
    href = page.locator("#export-link").get_attribute("href")
    assert "theme=drainage" in href and "granularity=month" in href and f"street_id={users['heping'].id}" in href
    page.screenshot(path=str(output_dir / "demand-2-filtered.png"), full_page=True)

    page.locator("#heat-table a:text-is('简报')").first.click()
    expect(page.locator("#brief h1")).to_contain_text("居民需求简报")
    assert PHONE not in page.content()


def test_dashboard_and_brief_on_a_phone_and_printed(phone, browser, live_server, users, output_dir):
    log_in(phone, live_server, "heping", PASSWORD)
    phone.goto(f"{live_server}/demand/")
    phone.wait_for_selector("#trend-chart svg")
    assert "新华里" not in phone.content() and PHONE not in phone.content()
    assert page_fits_width(phone)
    phone.screenshot(path=str(output_dir / "demand-3-phone.png"), full_page=True)

    phone.locator("#by-theme a[href^='/tickets/']").first.click()
    expect(phone.locator("h1")).to_contain_text("GD-")
    phone.go_back()

    phone.goto(f"{live_server}/demand/brief/{users['guihua'].id}")
    expect(phone.locator("#brief h1")).to_have_text("桂花苑 居民需求简报")
    assert page_fits_width(phone)
    assert PHONE not in phone.content()
    phone.screenshot(path=str(output_dir / "demand-4-brief-phone.png"), full_page=True)

    # printed: one A4 page (Chromium's own PDF of the page, with the print CSS)
    cookies = phone.context.cookies()
    context = browser.new_context(locale="zh-CN", viewport={"width": 1000, "height": 1400})
    context.add_cookies(cookies)
    printer = context.new_page()
    printer.goto(f"{live_server}/demand/brief/{users['guihua'].id}")
    printer.emulate_media(media="print")
    printer.screenshot(path=str(output_dir / "demand-5-brief-print.png"), full_page=True)
    pdf = printer.pdf(format="A4", prefer_css_page_size=True, print_background=True)
    (output_dir / "demand-brief.pdf").write_bytes(pdf)
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages == 1, f"the brief prints on {pages} pages"
    context.close()
