"""The main navigation on a 390 px phone (a menu button opens the links as a list) and on a desktop (one row of
links, as before); resident pages still fit a phone."""
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from portal.accounts.models import Role
from portal.extensions import db
from tests.helpers import PASSWORD, make_community, make_estate, make_household, make_street, make_user
from tests.playwright_fixtures import log_in
from tests.surveys.builders import give_code, make_survey

pytestmark = pytest.mark.browser

NAV = {
    Role.street_staff: ["工作台", "工单", "三率考核", "需求分析", "待复核", "意愿调查", "座谈会", "网上建议", "项目库",
                        "小区与住户"],
    Role.district_admin: ["工作台", "工单", "三率考核", "需求分析", "待复核", "意愿调查", "座谈会", "网上建议", "项目库",
                          "小区与住户", "主题模型", "用户管理", "审计日志"],
}
USERNAMES = {Role.street_staff: "heping", Role.district_admin: "admin"}


@pytest.fixture
def district(app):
    heping = make_street("和平街道")
    guihua = make_estate(make_community(heping, "桂花社区"), "桂花苑")
    give_code(make_household(guihua, "3", "2", "301"), "123456")
    for user, name in [(make_user(Role.street_staff, street=heping, username="heping"), "和平街道王丽"),
                       (make_user(Role.district_admin, username="admin"), "区住建局李强")]:
        user.display_name = name
    db.session.commit()
    return {"estate": guihua, "survey": make_survey([guihua], title="桂花苑老旧小区改造意愿调查")}


def overflow(page) -> int:
    """How far the page is wider than the 390 px screen (0 when it fits)."""
    return page.evaluate("document.documentElement.scrollWidth") - 390


def links(page):
    return page.locator(".main-nav a")


@pytest.mark.parametrize("role", list(NAV), ids=lambda r: r.value)
def test_phone_menu_opens_every_link_without_sideways_scrolling(phone, live_server, district, output_dir, role):
    log_in(phone, live_server, USERNAMES[role], PASSWORD)
    toggle = phone.locator(".nav-toggle")
    expect(toggle).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    assert "工作台" in toggle.inner_text()  # says where one is
    assert overflow(phone) <= 0
    for i in range(links(phone).count()):
        expect(links(phone).nth(i)).to_be_hidden()
    phone.screenshot(path=str(output_dir / f"nav-phone-{role.value}-closed.png"), full_page=True)

    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    assert links(phone).all_inner_texts() == NAV[role]
    boxes = [links(phone).nth(i).bounding_box() for i in range(len(NAV[role]))]
    assert all(box["x"] >= 0 and box["x"] + box["width"] <= 390 for box in boxes)
    assert all(box["height"] >= 44 and box["width"] > 300 for box in boxes), "full-width rows, easy to tap"
    assert [box["y"] for box in boxes] == sorted(box["y"] for box in boxes), "a vertical list"
    assert overflow(phone) <= 0
    phone.screenshot(path=str(output_dir / f"nav-phone-{role.value}-open.png"), full_page=True)

    # every link is reachable from the menu and opens its page, which fits the phone too
    for label in NAV[role]:
        if toggle.get_attribute("aria-expanded") != "true":
            toggle.click()
        link = phone.locator(".main-nav a", has_text=label).first
        href = link.get_attribute("href")
        with phone.expect_navigation():
            link.click()
        assert urlparse(phone.url).path == href, label
        assert phone.locator("h1").count() and "页面不存在" not in phone.locator("h1").first.inner_text()
        expect(phone.locator(".nav-toggle-current")).to_have_text(label)
        expect(links(phone).first).to_be_hidden()  # a new page starts with the menu folded
        assert overflow(phone) <= 0, (label, overflow(phone))


def test_a_page_outside_the_menu_has_the_menu_too(phone, live_server, district):
    log_in(phone, live_server, "heping", PASSWORD)
    response = phone.goto(f"{live_server}/areas/estates/{district['estate'].id}")
    assert response.status == 200
    expect(phone.locator(".nav-toggle")).to_be_visible()
    assert phone.locator(".nav-toggle-current").count() == 0  # no menu entry is this page
    phone.click(".nav-toggle")
    assert links(phone).all_inner_texts() == NAV[Role.street_staff]
    assert phone.locator(".main-nav a[aria-current]").count() == 0
    assert overflow(phone) <= 0


def test_phone_menu_works_from_the_keyboard(phone, live_server, district):
    log_in(phone, live_server, "admin", PASSWORD)
    toggle = phone.locator(".nav-toggle")
    for _ in range(10):  # tab from the top of the page to the menu button
        phone.keyboard.press("Tab")
        if phone.evaluate("document.activeElement.classList.contains('nav-toggle')"):
            break
    else:
        pytest.fail("the menu button is not reachable with Tab")
    phone.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    phone.keyboard.press("Tab")
    assert phone.evaluate("document.activeElement.textContent") == "工作台"  # straight into the list
    phone.keyboard.press("Escape")
    expect(toggle).to_have_attribute("aria-expanded", "false")
    expect(links(phone).first).to_be_hidden()
    assert phone.evaluate("document.activeElement.classList.contains('nav-toggle')"), "focus returns to the button"
    phone.keyboard.press("Space")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    for _ in range(3):
        phone.keyboard.press("Tab")
    with phone.expect_navigation():
        phone.keyboard.press("Enter")
    assert urlparse(phone.url).path == "/tickets/kpi"


def test_phone_without_javascript_shows_the_links_wrapped(browser, live_server, district, output_dir):
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                  is_mobile=True, has_touch=True, java_script_enabled=False)
    phone = context.new_page()
    try:
        log_in(phone, live_server, "admin", PASSWORD)
        expect(phone.locator(".nav-toggle")).to_be_hidden()
        assert overflow(phone) <= 0
        for i in range(links(phone).count()):
            box = links(phone).nth(i).bounding_box()
            assert links(phone).nth(i).is_visible() and box["x"] + box["width"] <= 390
        phone.screenshot(path=str(output_dir / "nav-phone-no-js.png"), full_page=True)
    finally:
        context.close()


@pytest.mark.parametrize("role", list(NAV), ids=lambda r: r.value)
def test_desktop_shows_every_link_in_one_row(page, live_server, district, output_dir, role):
    log_in(page, live_server, USERNAMES[role], PASSWORD)
    expect(page.locator(".nav-toggle")).to_be_hidden()
    assert links(page).all_inner_texts() == NAV[role]
    boxes = [links(page).nth(i).bounding_box() for i in range(len(NAV[role]))]
    assert all(links(page).nth(i).is_visible() for i in range(len(NAV[role])))
    assert len({round(box["y"]) for box in boxes}) == 1 and boxes[-1]["x"] + boxes[-1]["width"] <= 1280
    page.screenshot(path=str(output_dir / f"nav-desktop-{role.value}.png"))
    page.set_viewport_size({"width": 1024, "height": 800})  # a small laptop: the links wrap, none is cut off
    assert all(links(page).nth(i).is_visible() for i in range(len(NAV[role])))
    assert page.evaluate("document.querySelector('.main-nav').scrollWidth <= 1024")
    assert page.evaluate("document.documentElement.scrollWidth <= 1024")


def test_resident_pages_still_fit_a_phone(phone, live_server, district, output_dir):
    survey, estate = district["survey"], district["estate"]
    phone.goto(f"{live_server}/s/{survey.slug}?e={estate.id}&b=3")
    assert overflow(phone) <= 0
    phone.fill("input[name=unit]", "2")
    phone.fill("input[name=room]", "301")
    phone.fill("input[name=code]", "123456")
    phone.click("text=下一步：开始作答")
    phone.wait_for_url(f"{live_server}/s/{survey.slug}/answer")
    assert phone.locator(".nav-toggle").count() == 0  # residents have no staff menu
    assert overflow(phone) <= 0
    phone.screenshot(path=str(output_dir / "nav-resident-answer-390.png"), full_page=True)
    for path in ["/", "/nishuo/", f"/nishuo/estates/{estate.id}" , f"/suggest/?estate={estate.id}"]:
        response = phone.goto(live_server + path)
        assert response.status == 200, path
        assert overflow(phone) <= 0, (path, overflow(phone))
    phone.goto(live_server + "/nishuo/")
    phone.screenshot(path=str(output_dir / "nav-resident-nishuo-390.png"), full_page=True)
